// @ts-check
// What both benchmark modes (scripts/benchmark.mjs, scripts/benchmark-far.mjs) set up and
// compute alike: the project image, a command runner, medians.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** @param {string} file @param {string[]} argv @param {Omit<import('node:child_process').ExecFileSyncOptions, 'encoding'>} options */
export const sh = (file, argv, options = {}) =>
  execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...options, encoding: 'utf8' }).trim();

/** @param {number[]} values */
export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const at = (/** @type {number} */ index) => sorted[index] ?? NaN;
  return sorted.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
};

/** `samples` less, round by round, each of `others` (paired: scenarios of one round drift
 *  alike). A round missing from another list gives NaN, never a silent zero.
 *  @param {number[]} samples @param {...number[]} others */
export const pairedDifferences = (samples, ...others) =>
  samples.map((value, i) => others.reduce((rest, other) => rest - (other[i] ?? NaN), value));

/** The median of the paired differences (pairedDifferences).
 *  @param {number[]} samples @param {...number[]} others */
export const pairedMedian = (samples, ...others) => median(pairedDifferences(samples, ...others));

/**
 * The middle half of `values`: the first and third quartiles (the medians of the lower and
 * upper halves). Printed beside a paired median, it shows how far one run's median can be
 * trusted: two rows whose middle halves overlap widely do not differ by their medians alone.
 * @param {number[]} values @returns {[number, number]}
 */
export const middleHalf = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length < 2) return [sorted[0] ?? NaN, sorted[0] ?? NaN];
  const half = sorted.length >> 1;
  return [median(sorted.slice(0, half)), median(sorted.slice(sorted.length - half))];
};

/** A mini version as scripts/publish makes them: UTC `YYYYMMDD-HHMMSS` (common/format-utc-stamp.ts,
 *  in dist/publish-support.js: scripts/benchmark builds before it runs a benchmark). */
export const utcVersion = (/** @type {Date} */ date) =>
  createRequire(import.meta.url)('../dist/publish-support.js').formatUtcStamp(date);

/** `--name value` from argv, or `fallback`.
 *  @param {string[]} args @returns {(name: string, fallback?: string) => string | undefined} */
export const optionOf = (args) => (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};

/** The project image: busybox as `true`, with docker-user, FROM scratch; built in DIR as TAG. */
/** @param {string} dir @param {string} tag */
export function buildProjectImage(dir, tag) {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'etc'));
  mkdirSync(join(dir, 'home', 'docker-user'), { recursive: true });
  copyFileSync(sh('sh', ['-c', 'command -v busybox']), join(dir, 'bin', 'busybox'));
  symlinkSync('busybox', join(dir, 'bin', 'true'));
  writeFileSync(
    join(dir, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\ndocker-user:x:1000:1000::/home/docker-user:/bin/sh\n',
  );
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY bin /bin\nCOPY etc /etc\nCOPY home /home\n');
  sh('docker', ['build', '--quiet', '--tag', tag, dir], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
}

/**
 * The argv of a command line as `--dry-run` prints it (common/format-shell-command.ts): words
 * apart by spaces, POSIX single quotes, `\'` between them. `$'…'` (control characters) is
 * not expected in the benchmark's own command and is refused rather than misread.
 * @param {string} line @returns {string[]}
 */
export function splitShellWords(line) {
  /** @type {string[]} */
  const words = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === ' ') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in: ${line}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '\\' && line[i + 1] === "'") {
      word += "'";
      inWord = true;
      i++;
    } else if (c === '$' && line[i + 1] === "'") {
      throw new Error(`$'…' quoting is not expected in: ${line}`);
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
