/**
 * The benchmark's statistics and its reading of the line --dry-run prints
 * (scripts/bench-setup.mjs): what docs/performance.md quotes rests on them. The script is an
 * ES module that Jest's CommonJS runner cannot import, so one Node process imports it and
 * prints every answer as JSON.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const moduleUrl = pathToFileURL(join(__dirname, '..', '..', 'scripts', 'bench-setup.mjs')).href;

/** Each call's answer, in order; NaN comes back as null (JSON). */
function evaluate(calls: string[]): unknown[] {
  const program = `import * as b from ${JSON.stringify(moduleUrl)};
process.stdout.write(JSON.stringify([${calls.join(', ')}]));`;
  return JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8' }),
  ) as unknown[];
}

/** A call of splitShellWords on `line` that answers with the message it throws. */
function refusalOf(line: string): string {
  return `(() => { try { b.splitShellWords(${JSON.stringify(line)}); return 'split'; } catch (e) { return e.message; } })()`;
}

describe('scripts/bench-setup.mjs', () => {
  const answers = evaluate([
    'b.middleHalf([8, 1, 7, 2, 6, 3, 5, 4])',
    'b.middleHalf([5, 1, 4, 2, 3])',
    'b.middleHalf([7])',
    'b.middleHalf([])',
    'b.pairedDifferences([10, 20, 30], [1, 2, 3], [4, 4, 4])',
    'b.pairedDifferences([10, 20], [1])',
    'b.pairedMedian([10, 20, 30], [1, 2, 3])',
    'b.median([3, 1, 2, 10])',
    `b.splitShellWords(${JSON.stringify("A=1 docker run --env 'HOST_UNAME=Linux vm #1' 'it'\\''s' x''y")})`,
    refusalOf("docker 'open"),
    refusalOf("docker $'a\\tb'"),
  ]);

  test('the middle half is the medians of the lower and upper halves (the odd middle value in neither)', () => {
    expect(answers[0]).toEqual([2.5, 6.5]);
    expect(answers[1]).toEqual([1.5, 4.5]);
  });

  test('one value is its own middle half, and none is unknown rather than zero', () => {
    expect(answers[2]).toEqual([7, 7]);
    expect(answers[3]).toEqual([null, null]);
  });

  test('paired differences subtract round by round, and a missing round is unknown, never zero', () => {
    expect(answers[4]).toEqual([5, 14, 23]);
    expect(answers[5]).toEqual([9, null]);
  });

  test('the command --dry-run prints splits back into its words: single quotes, and a quote between them', () => {
    expect(answers[8]).toEqual(['A=1', 'docker', 'run', '--env', 'HOST_UNAME=Linux vm #1', "it's", 'xy']);
  });

  test("a quote left open, or $'…' quoting, is refused rather than misread", () => {
    expect(answers[9]).toBe("unterminated quote in: docker 'open");
    expect(answers[10]).toMatch(/^\$'…' quoting is not expected in: /);
  });

  test('the paired median and the median', () => {
    expect(answers[6]).toBe(18);
    expect(answers[7]).toBe(2.5);
  });
});
