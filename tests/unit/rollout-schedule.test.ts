import {
  admissionTime,
  formatRolloutSteps,
  isAdmitted,
  isRollout,
  parseRolloutOption,
  rolloutPercentAt,
} from '../../common/rollout-schedule';

const start = new Date('2026-12-07T04:00:00.250Z');
const at = (seconds: number) => Date.parse('2026-12-07T04:00:00Z') + seconds * 1000;

describe('parseRolloutOption', () => {
  it('reads steps with s, m, h and d from the publish time, to the second', () => {
    expect(parseRolloutOption('5%,25%@6h,100%@1d', start)).toEqual({
      start: '2026-12-07T04:00:00Z',
      steps: [
        { percent: 5, afterSeconds: 0 },
        { percent: 25, afterSeconds: 6 * 3600 },
        { percent: 100, afterSeconds: 86400 },
      ],
    });
    expect(parseRolloutOption(' 50% , 100%@30s ', start).steps).toEqual([
      { percent: 50, afterSeconds: 0 },
      { percent: 100, afterSeconds: 30 },
    ]);
    expect(parseRolloutOption('0%@10m,100%@2d', start).steps).toEqual([
      { percent: 0, afterSeconds: 600 },
      { percent: 100, afterSeconds: 172800 },
    ]);
  });

  it.each([
    ['5', /"5" is not a rollout step/],
    ['5%,25%', /the step "25%" needs a time after the start/],
    ['5%@1w', /"5%@1w" is not a rollout step/],
    ['101%', /has a step at 101%/],
    ['50%,25%@1h', /goes down from 50% to 25%/],
    ['5%@2h,25%@1h', /out of order/],
    ['5%@1h,25%@60m', /out of order/],
    ['', /"" is not a rollout step/],
    [Array.from({ length: 17 }, (_, i) => `${i}%@${i + 1}s`).join(','), /has 17 steps; it needs 1 to 16/],
    ['5%@999999999d', /at most ten years/],
  ])('refuses %j in one line', (text, message) => {
    expect(() => parseRolloutOption(text, start)).toThrow(message);
  });

  it('writes a schedule back as it reads it', () => {
    expect(formatRolloutSteps(parseRolloutOption('5%,25%@6h,100%@1d', start).steps)).toBe('5%,25%@6h,100%@1d');
    expect(formatRolloutSteps(parseRolloutOption('1%@45s,2%@61s', start).steps)).toBe('1%@45s,2%@61s');
  });
});

describe('isRollout (a manifest field)', () => {
  const good = parseRolloutOption('5%,100%@1h', start);

  it('accepts what publish writes', () => {
    expect(isRollout(good)).toBe(true);
  });

  it.each([
    ['null', null],
    ['an array', []],
    ['a start with milliseconds', { ...good, start: '2026-12-07T04:00:00.000Z' }],
    ['a start that names no moment', { ...good, start: '2026-13-07T04:00:00Z' }],
    ['no steps', { ...good, steps: [] }],
    ['a fractional percentage', { ...good, steps: [{ percent: 5.5, afterSeconds: 0 }] }],
    ['a percentage as text', { ...good, steps: [{ percent: '5', afterSeconds: 0 }] }],
    [
      'a percentage that goes down',
      {
        ...good,
        steps: [
          { percent: 50, afterSeconds: 0 },
          { percent: 5, afterSeconds: 9 },
        ],
      },
    ],
    ['a negative time', { ...good, steps: [{ percent: 5, afterSeconds: -1 }] }],
  ])('refuses %s', (_name, value) => {
    expect(isRollout(value)).toBe(false);
  });
});

describe('rolloutPercentAt and isAdmitted', () => {
  const rollout = parseRolloutOption('5%,25%@6h,100%@24h', start);

  it('gives the percentage of the last step whose time has come, 0 before the first', () => {
    expect(rolloutPercentAt(rollout, at(-1))).toBe(0);
    expect(rolloutPercentAt(rollout, at(0))).toBe(5);
    expect(rolloutPercentAt(rollout, at(6 * 3600 - 1))).toBe(5);
    expect(rolloutPercentAt(rollout, at(6 * 3600))).toBe(25);
    expect(rolloutPercentAt(rollout, at(10 * 86400))).toBe(100);
  });

  it('admits the buckets below the percentage, so bucket 0 (canary) first and never goes backwards', () => {
    expect(isAdmitted(rollout, 0, at(0))).toBe(true);
    expect(isAdmitted(rollout, 4, at(0))).toBe(true);
    expect(isAdmitted(rollout, 5, at(0))).toBe(false);
    expect(isAdmitted(rollout, 99, at(86400))).toBe(true);
    const wentBack: string[] = [];
    for (let bucket = 0; bucket < 100; bucket++) {
      let admitted = false;
      for (let second = -60; second < 2 * 86400; second += 600) {
        const now = isAdmitted(rollout, bucket, at(second));
        if (admitted && !now) wentBack.push(`bucket ${bucket} at ${second} s`);
        admitted = now;
      }
    }
    expect(wentBack).toEqual([]);
  });

  it('says when a bucket will be admitted, or that no step does', () => {
    expect(admissionTime(rollout, 3)).toBe('2026-12-07T04:00:00Z');
    expect(admissionTime(rollout, 30)).toBe('2026-12-08T04:00:00Z');
    expect(admissionTime(parseRolloutOption('50%', start), 70)).toBeUndefined();
  });
});
