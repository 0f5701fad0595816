/**
 * Which tag of a repository is "the newest". Pure; the same rules for local and registry tags.
 * The comparison itself is in common/compare-tag-order.ts, shared with the shim's anti-rollback check.
 *
 * Tag ordering rules:
 * 1. Tags that are not valid Docker tags (at most 128 characters of letters, digits, `_`, `.`
 *    and `-`, not starting with `.` or `-`) are dropped first: very long, path-like or
 *    control-character tags from a hostile registry are simply ignored.
 * 2. Only three families of tags count; every other tag (branch names such as `main`,
 *    cosign's `sha256-<hex>.sig` / `.att`, `dev`, …) is ignored:
 *    a. date-times `YYYYMMDD-HHMMSS`, e.g. `20210502-002343` (UTC, as mini images are tagged);
 *    b. dates `yy.mm.dd`, e.g. `21.01.02` = 2021-01-02 00:00:00;
 *    c. semantic versions (strict semver 2.0.0, optionally with a leading `v`), e.g. `1.4.0`,
 *       `v2.0.0-rc.1`.
 *    A tag that matches a date pattern is a date, never a version: `21.10.12` is 2021-10-12.
 * 3. Date-times and dates form one timeline: each is normalised to the 14 digits
 *    `YYYYMMDDHHMMSS` (a `yy.mm.dd` date is 20yy-mm-dd 00:00:00) and compared as strings.
 *    Date tags are never read as versions (`semver.coerce('20210502-002343')` would be
 *    `20210502.0.0`).
 * 4. If any date-like tag exists, the newest date-like tag wins. Otherwise the newest
 *    version wins, by semver precedence (so `1.0.0` is newer than `1.0.0-rc.1`).
 *    Otherwise `latest`, if present. Otherwise there is no newest tag.
 * 5. Ties (the same moment or version written two ways, e.g. `1.2.0` and `v1.2.0`) go to the
 *    tag whose text sorts last, so the answer never depends on the order tags were listed in.
 */
import { compareRankedNewestFirst, rankTag, type RankedTag } from '../../common/compare-tag-order';

/** The newest usable tag, or undefined if none of `tags` is usable. */
export function selectNewestTag(tags: readonly string[]): string | undefined {
  let newest: RankedTag | undefined;
  for (const tag of tags) {
    const ranked = rankTag(tag);
    if (ranked && (!newest || compareRankedNewestFirst(ranked, newest) < 0)) newest = ranked;
  }
  return newest?.tag;
}

/** Usable tags, newest first: date-like tags, then versions, then `latest`; no duplicates.
 *  Its first element is always `selectNewestTag(tags)`. */
export function sortTagsNewestFirst(tags: readonly string[]): string[] {
  const ranked: RankedTag[] = [];
  for (const tag of new Set(tags)) {
    const r = rankTag(tag);
    if (r) ranked.push(r);
  }
  return ranked.sort(compareRankedNewestFirst).map((r) => r.tag);
}
