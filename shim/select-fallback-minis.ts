/**
 * Which older minis to try, in order, when the newest cannot be used (pure). Local ones
 * cost no pull and are all tried; pulls from the registry are bounded, so a registry full
 * of bad minis costs a fresh host a few pulls, not one per tag. Tags older than the
 * highest version this host has run are never tried: they would be refused anyway; nor
 * are versions a signed halt stopped.
 */
import type { LocatedTag } from '../contract/contract';
import { compareTagOrder } from '../common/compare-tag-order';

export const MAX_FALLBACK_PULLS = 3;

export interface FallbackPlan {
  /** Newest first. */
  candidates: LocatedTag[];
  /** Tags skipped because they are older than `floor`. */
  belowFloor: number;
  /** Registry-only tags skipped because `maxPulls` were already planned. */
  notPulled: number;
  /** Tags skipped because a signed halt stopped them (docs/releasing.md). */
  halted: number;
}

export function selectFallbackMinis(
  tagsNewestFirst: readonly LocatedTag[],
  options: { rejectedTag: string; floor?: string; maxPulls?: number; halted?: ReadonlySet<string> },
): FallbackPlan {
  const maxPulls = options.maxPulls ?? MAX_FALLBACK_PULLS;
  const plan: FallbackPlan = { candidates: [], belowFloor: 0, notPulled: 0, halted: 0 };
  let pulls = 0;
  const seen = new Set([options.rejectedTag]);
  for (const located of tagsNewestFirst) {
    if (seen.has(located.tag)) continue;
    seen.add(located.tag);
    if (options.floor !== undefined && (compareTagOrder(located.tag, options.floor) ?? -1) < 0) {
      plan.belowFloor++;
    } else if (options.halted?.has(located.tag)) {
      plan.halted++;
    } else if (located.presentLocally) {
      plan.candidates.push(located);
    } else if (pulls < maxPulls) {
      pulls++;
      plan.candidates.push(located);
    } else {
      plan.notPulled++;
    }
  }
  return plan;
}
