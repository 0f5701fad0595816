import satisfies from 'semver/functions/satisfies';
import validRange from 'semver/ranges/valid';
import { isValidShimRange, parsePlainRange, satisfiesShimRange } from '../../shim/satisfies-shim-range';

const versions = [
  '0.0.0',
  '0.1.0',
  '0.1.1',
  '0.9.9',
  '0.10.0',
  '1.0.0',
  '1.0.1',
  '1.2.3',
  '2.0.0',
  '10.0.0',
  '0.1.0-rc.1',
  '1.0.0-0',
  '1.2.3+build',
];
const bounds = ['0.0.0', '0.1.0', '0.10.0', '1.0.0', '1.2.3', '2.0.0'];
const operators = ['', '=', '>', '>=', '<', '<='];

/** Every plain comparator, every pair of them, and some unions: the fast path must agree with semver on each. */
function plainRanges(): string[] {
  const single = operators.flatMap((operator) => bounds.map((bound) => `${operator}${bound}`));
  const pairs = single.flatMap((a, index) => single.slice(index, index + 7).map((b) => `${a} ${b}`));
  const unions = pairs.slice(0, 40).map((pair, index) => `${pair} || ${single[index % single.length]}`);
  return [...single, ...pairs, ...unions];
}

describe('the shim range check', () => {
  it('answers every plain range as semver satisfies does (includePrerelease)', () => {
    const ranges = plainRanges();
    expect(ranges.length).toBeGreaterThan(300);
    for (const range of ranges) {
      expect(parsePlainRange(range)).toBeDefined();
      for (const version of versions) {
        expect([range, version, satisfiesShimRange(version, range)]).toEqual([
          range,
          version,
          satisfies(version, range, { includePrerelease: true }),
        ]);
      }
    }
  });

  it('hands every other form to semver, with the same answer', () => {
    const others = [
      '^0.1.0',
      '~1.2.0',
      '1.x',
      '*',
      '',
      '>= 0.1.0',
      '0.1.0 - 1.0.0',
      '>=0.1.0-0 <1.0.0',
      '>=01.0.0',
      'v1.0.0',
      '>=0.1.0 <1.0.0 ||',
      'not a range',
      '>=1.0.0  <2.0.0',
    ];
    for (const range of others) {
      for (const version of versions) {
        expect([range, version, satisfiesShimRange(version, range)]).toEqual([
          range,
          version,
          satisfies(version, range, { includePrerelease: true }),
        ]);
      }
      expect([range, isValidShimRange(range)]).toEqual([range, validRange(range) !== null]);
    }
  });

  it('takes only plain forms as plain', () => {
    expect(parsePlainRange('>=0.1.0 <1.0.0')).toEqual([
      [
        { operator: '>=', version: [0, 1, 0] },
        { operator: '<', version: [1, 0, 0] },
      ],
    ]);
    for (const range of [
      '^1.0.0',
      '>=1.0.0-rc.1',
      '1.0',
      '>=1.0.0 ||',
      '>= 1.0.0',
      '=v1.0.0',
      '>=9999999999999999.0.0',
    ])
      expect(parsePlainRange(range)).toBeUndefined();
  });
});
