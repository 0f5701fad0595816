/**
 * Which tag of a repository is "the newest". Pure; the same rules for local and registry tags.
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
// Subpath imports: only the version class and comparison, not semver's range machinery
// (every call of the shim and its payloads pays for what is loaded).
import type { SemVer } from 'semver';
import parseVersion from 'semver/functions/parse';
import rcompareVersions from 'semver/functions/rcompare';
import { TAG_PATTERN } from '../../common/image-ref';

const DATE_TIME = /^(\d{8})-(\d{6})$/;
const SHORT_DATE = /^(\d{2})\.(\d{2})\.(\d{2})$/;
const LATEST = 'latest';

type Rank = 0 | 1 | 2; // date-like, semver, latest — a lower rank always wins

interface RankedTag {
  tag: string;
  rank: Rank;
  /** 14-digit moment for date-like tags. */
  moment?: string;
  /** Parsed version for semver tags. */
  version?: SemVer;
}

/** The newest usable tag, or undefined if none of `tags` is usable. */
export function selectNewestTag(tags: readonly string[]): string | undefined {
  let newest: RankedTag | undefined;
  for (const tag of tags) {
    const ranked = rankTag(tag);
    if (ranked && (!newest || compareNewestFirst(ranked, newest) < 0)) newest = ranked;
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
  return ranked.sort(compareNewestFirst).map((r) => r.tag);
}

function rankTag(tag: string): RankedTag | undefined {
  if (typeof tag !== 'string' || !TAG_PATTERN.test(tag)) return undefined;
  const moment = toMoment(tag);
  if (moment) return { tag, rank: 0, moment };
  // Strict parsing: accepts an optional leading `v`, rejects leading zeros and partial versions.
  const version = parseVersion(tag);
  if (version) return { tag, rank: 1, version };
  if (tag === LATEST) return { tag, rank: 2 };
  return undefined;
}

/** `YYYYMMDDHHMMSS` for date-like tags, so both families compare as plain strings. */
function toMoment(tag: string): string | undefined {
  const dateTime = DATE_TIME.exec(tag);
  if (dateTime) return dateTime[1] + dateTime[2];
  const date = SHORT_DATE.exec(tag);
  if (date) return `20${date[1]}${date[2]}${date[3]}000000`;
  return undefined;
}

/** Negative when `a` is newer than `b`. */
function compareNewestFirst(a: RankedTag, b: RankedTag): number {
  if (a.rank !== b.rank) return a.rank - b.rank;
  let order = 0;
  if (a.moment !== undefined && b.moment !== undefined) order = compareStrings(b.moment, a.moment);
  else if (a.version && b.version) order = rcompareVersions(a.version, b.version);
  return order !== 0 ? order : compareStrings(b.tag, a.tag);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
