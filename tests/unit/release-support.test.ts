import { describeUnfinishedRollout, narrowShimRange, planHalt } from '../../publish/release-support';

const V1 = '20260101-000000';
const V2 = '20260102-000000';
const V3 = '20260103-000000';

describe('planHalt', () => {
  it('goes back to the older minis, newest first, past those halted before', () => {
    expect(planHalt([V3, V2, V1], V3, new Set([V2]))).toEqual({ candidates: [V1] });
    expect(planHalt([V3, V2, V1], V3, new Set())).toEqual({ candidates: [V2, V1] });
  });

  it('refuses a version that is not the newest, one that is not there, and one with nothing before it', () => {
    expect(() => planHalt([V3, V2, V1], V2, new Set())).toThrow(
      `mini ${V2} is not the newest (${V3} is): a halt sends every host back past the newer ones too`,
    );
    expect(() => planHalt([V2, V1], V3, new Set())).toThrow(`there is no mini ${V3} in the repository to halt`);
    expect(() => planHalt([V2, V1], V2, new Set([V1]))).toThrow(`no mini older than ${V2} is left to go back to`);
  });
});

describe('narrowShimRange', () => {
  // As scripts/publish asks semver: does the range admit a shim before 0.2.0?
  const admitsOlder = (range: string) => !/^>=0\.2\.0 |>=0\.2\.0$/.test(range.trim());

  it('keeps a range that admits no shim before 0.2.0, and narrows every alternative of one that does', () => {
    expect(narrowShimRange('>=0.2.0 <1.0.0', admitsOlder)).toBe('>=0.2.0 <1.0.0');
    expect(narrowShimRange('>=0.1.0 <1.0.0', admitsOlder)).toBe('>=0.1.0 <1.0.0 >=0.2.0');
    expect(narrowShimRange('>=0.1.0 <0.5.0 || >=2.0.0', admitsOlder)).toBe('>=0.1.0 <0.5.0 >=0.2.0 || >=2.0.0 >=0.2.0');
  });
});

describe('describeUnfinishedRollout', () => {
  const staged = {
    rollout: {
      start: '2026-12-07T04:00:00Z',
      steps: [
        { percent: 10, afterSeconds: 0 },
        { percent: 100, afterSeconds: 3600 },
      ],
    },
  } as Parameters<typeof describeUnfinishedRollout>[0];

  it('says a mini is still rolling out until its last step reaches 100%', () => {
    expect(describeUnfinishedRollout(staged, Date.parse('2026-12-07T04:30:00Z'))).toBe(
      'it is still rolling out (at 10%)',
    );
    expect(describeUnfinishedRollout(staged, Date.parse('2026-12-07T05:00:00Z'))).toBeUndefined();
    expect(describeUnfinishedRollout({} as typeof staged, 0)).toBeUndefined();
  });
});
