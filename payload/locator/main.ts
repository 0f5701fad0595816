/**
 * Entry of the tiny image's payload: the locator the shim loads to find the newest mini
 * image (and the mini payload reuses for the user's image).
 */
import type { LocatorModule } from '../../contract/contract';
import { findNewestTag, listLocalTagsNewestFirst } from './find-newest-tag';
import { listTagsNewestFirst } from './list-tags-newest-first';

export { findNewestTag, listLocalTagsNewestFirst, listTagsNewestFirst };

// Compile-time check that this module's exports are exactly what the shim expects.
({ findNewestTag, listLocalTagsNewestFirst, listTagsNewestFirst }) satisfies Required<LocatorModule>;
