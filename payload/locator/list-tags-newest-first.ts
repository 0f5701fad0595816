/**
 * Every usable tag of a repository, local and (unless `--local`) in the registry, newest
 * first: the candidates the shim tries, in order, when the newest mini cannot be used.
 * Implements the optional LocatorModule.listTagsNewestFirst (contract/contract.ts).
 */
import type { BaseContext, LocatedTag } from '../../contract/contract';
import { parseRepository, readRepositoryTags } from './find-newest-tag';
import { sortTagsNewestFirst } from './select-newest-tag';

/**
 * A registry that cannot be used is not an error: one warning (the same line findNewestTag
 * prints, so a caller that asked both and prints a line once prints it once), then local
 * tags only. No usable tag at all is an empty list: the caller knows what it wanted.
 */
export async function listTagsNewestFirst(ctx: BaseContext, repository: string): Promise<LocatedTag[]> {
  const { local, remote } = await readRepositoryTags(ctx, parseRepository(repository));
  const onHost = new Set(local);
  return sortTagsNewestFirst([...local, ...remote]).map((tag) => ({ tag, presentLocally: onHost.has(tag) }));
}
