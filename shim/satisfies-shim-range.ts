/**
 * Whether this shim fits a payload's `shim` range, as semver's `satisfies` (with
 * includePrerelease) answers. The ranges scripts/publish writes are plain comparator sets
 * (">=0.1.0 <1.0.0", joined by "||"); those are decided here by comparing numbers. Anything
 * else (x-ranges, ~, ^, hyphens, pre-releases) goes to semver. Why not semver always: its
 * range parser runs some twenty regular expressions of up to 600 characters with `{0,256}`
 * bounds, and compiling them cost ~8 M instructions of every call, twice (tiny and mini).
 */
import type satisfiesFunction from 'semver/functions/satisfies';
import type validRangeFunction from 'semver/ranges/valid';

type Version = [number, number, number];
type Comparator = { operator: '>=' | '<=' | '>' | '<' | '='; version: Version };

const PLAIN_VERSION = /^(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})$/;
const PLAIN_COMPARATOR = /^(>=|<=|>|<|=)?(\d+\.\d+\.\d+)$/;

/** Pure: the comparator sets of a plain range, or undefined when it is not one. */
export function parsePlainRange(range: string): Comparator[][] | undefined {
  const sets = range.split('||').map((set) => set.trim());
  if (sets.some((set) => set === '')) return undefined;
  const parsed: Comparator[][] = [];
  for (const set of sets) {
    const comparators: Comparator[] = [];
    for (const text of set.split(/\s+/)) {
      const [, operator = '=', versionText] = PLAIN_COMPARATOR.exec(text) ?? [];
      const version = versionText === undefined ? undefined : parsePlainVersion(versionText);
      if (!version) return undefined;
      comparators.push({ operator: operator as Comparator['operator'], version });
    }
    parsed.push(comparators);
  }
  return parsed;
}

/** Pure: `1.2.3` as numbers; undefined for anything else (pre-releases, build metadata, `v`). */
export function parsePlainVersion(text: string): Version | undefined {
  const match = PLAIN_VERSION.exec(text);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

function holds(version: Version, { operator, version: bound }: Comparator): boolean {
  const order = compare(version, bound);
  return operator === '>='
    ? order >= 0
    : operator === '<='
      ? order <= 0
      : operator === '>'
        ? order > 0
        : operator === '<'
          ? order < 0
          : order === 0;
}

export function satisfiesShimRange(shimVersion: string, range: string): boolean {
  const version = parsePlainVersion(shimVersion);
  const sets = parsePlainRange(range);
  if (version && sets) return sets.some((set) => set.every((comparator) => holds(version, comparator)));
  // Loaded only for the ranges above that need it (a bundled module runs on first require).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: semver's regular expressions only for ranges that are not plain
  const satisfies = require('semver/functions/satisfies') as typeof satisfiesFunction;
  return satisfies(shimVersion, range, { includePrerelease: true });
}

export function isValidShimRange(range: string): boolean {
  if (parsePlainRange(range)) return true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: semver's regular expressions only for ranges that are not plain
  const validRange = require('semver/ranges/valid') as typeof validRangeFunction;
  return validRange(range) !== null;
}
