/**
 * The order of tags and mini versions: "newer" means the same thing to the locator
 * (payload/locator/select-newest-tag.ts, which picks the newest tag) and to the shim (which
 * refuses a mini older than one it has already run). Pure; lives in common/ because the
 * shim may not import payload/. The rules are in select-newest-tag.ts and docs/tags.md.
 */
import type { SemVer } from 'semver';
import type parseFunction from 'semver/functions/parse';
import type rcompareFunction from 'semver/functions/rcompare';
import { TAG_PATTERN } from './image-ref';

/**
 * semver, loaded only for a tag with a pre-release or build part. Loading it builds its ~40
 * regular expressions, ~1 ms in each bundle that does (the shim, the tiny and the mini
 * payload: docs/performance.md), and the tags a call compares are nearly always dates or
 * plain `X.Y.Z`, which compare the same by their three numbers.
 */
function loadSemver(): { parse: typeof parseFunction; rcompare: typeof rcompareFunction } {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see above */
  return {
    parse: require('semver/functions/parse') as typeof parseFunction,
    rcompare: require('semver/functions/rcompare') as typeof rcompareFunction,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** `X.Y.Z` (an optional leading `v`), no leading zeros, each part a safe integer: semver's own rules for such a version. */
const PLAIN_VERSION = /^v?(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})$/;

const DATE_TIME = /^(\d{8})-(\d{6})$/;
const SHORT_DATE = /^(\d{2})\.(\d{2})\.(\d{2})$/;
const LATEST = 'latest';

export interface RankedTag {
  tag: string;
  /** 0 date-like, 1 semver, 2 latest — a lower rank is always newer. */
  rank: 0 | 1 | 2;
  /** 14-digit moment for date-like tags. */
  moment?: string;
  /** Parsed version for semver tags: its three numbers when plain, else semver's parse. */
  version?: { plain: [number, number, number] } | { full: SemVer };
}

/** The tag's place in the order, or undefined when it is not a usable tag. */
export function rankTag(tag: string): RankedTag | undefined {
  if (typeof tag !== 'string' || !TAG_PATTERN.test(tag)) return undefined;
  // The shape of a date makes a tag a date, never a version (`21.13.40` is no semver 21.13.40):
  // one that names no real moment is not usable at all.
  if (DATE_TIME.test(tag) || SHORT_DATE.test(tag)) {
    const moment = toMoment(tag);
    return moment === undefined ? undefined : { tag, rank: 0, moment };
  }
  const plain = PLAIN_VERSION.exec(tag);
  if (plain) return { tag, rank: 1, version: { plain: [Number(plain[1]), Number(plain[2]), Number(plain[3])] } };
  // Strict parsing: accepts an optional leading `v`, rejects leading zeros and partial versions.
  const full = /^v?\d/.test(tag) ? loadSemver().parse(tag) : null;
  if (full) return { tag, rank: 1, version: { full } };
  if (tag === LATEST) return { tag, rank: 2 };
  return undefined;
}

/** Negative when `a` is newer than `b`; ties go to the tag whose text sorts last. */
export function compareRankedNewestFirst(a: RankedTag, b: RankedTag): number {
  const order = compareMoments(a, b);
  return order !== 0 ? order : compareStrings(b.tag, a.tag);
}

/**
 * Positive when version (or tag) `a` is newer than `b`, negative when older, 0 when they are
 * the same moment or version (`1.2.0` and `v1.2.0`); undefined when either is not usable.
 */
export function compareTagOrder(a: string, b: string): number | undefined {
  const rankedA = rankTag(a);
  const rankedB = rankTag(b);
  if (!rankedA || !rankedB) return undefined;
  return compareMoments(rankedB, rankedA);
}

/** Negative when `a` is newer than `b`, ignoring how each is written. */
function compareMoments(a: RankedTag, b: RankedTag): number {
  if (a.rank !== b.rank) return a.rank - b.rank;
  if (a.moment !== undefined && b.moment !== undefined) return compareStrings(b.moment, a.moment);
  if (a.version && b.version) return compareVersionsNewestFirst(a.version, b.version);
  return 0;
}

/** semver's rcompare, without semver when both are plain. */
function compareVersionsNewestFirst(
  a: NonNullable<RankedTag['version']>,
  b: NonNullable<RankedTag['version']>,
): number {
  if ('plain' in a && 'plain' in b) {
    for (let part = 0; part < 3; part++) {
      const order = (b.plain[part] ?? 0) - (a.plain[part] ?? 0);
      if (order !== 0) return Math.sign(order);
    }
    return 0;
  }
  const semver = loadSemver();
  const full = (version: NonNullable<RankedTag['version']>) =>
    'full' in version ? version.full : semver.parse(version.plain.join('.'))!;
  return semver.rcompare(full(a), full(b));
}

/**
 * `YYYYMMDDHHMMSS` for date-like tags, so both families compare as plain strings; undefined
 * for a tag that is not one, and for one that has the shape but names no real moment
 * (`20261301-250000`, `26.02.30`): such a tag would outrank every real one, and for a mini
 * raise the host's rollback record above anything ever published (docs/tags.md).
 */
function toMoment(tag: string): string | undefined {
  const dateTime = DATE_TIME.exec(tag);
  if (dateTime) {
    const [date = '', time = ''] = dateTime.slice(1, 3);
    return isCalendarDate(date) && isClockTime(time) ? date + time : undefined;
  }
  const short = SHORT_DATE.exec(tag);
  if (short) {
    const date = `20${short.slice(1, 4).join('')}`;
    return isCalendarDate(date) ? `${date}000000` : undefined;
  }
  return undefined;
}

/** Pure: whether `YYYYMMDD` is a day of the (proleptic) Gregorian calendar. */
function isCalendarDate(date: string): boolean {
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(4, 6));
  const day = Number(date.slice(6, 8));
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  return day <= days;
}

/** Pure: whether `HHMMSS` is a time of day on a UTC clock (no leap second: a stamp never carries one). */
function isClockTime(time: string): boolean {
  return Number(time.slice(0, 2)) < 24 && Number(time.slice(2, 4)) < 60 && Number(time.slice(4, 6)) < 60;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
