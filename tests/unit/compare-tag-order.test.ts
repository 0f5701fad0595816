import semverCompare from 'semver/functions/compare';
import { compareTagOrder } from '../../common/compare-tag-order';

describe('compareTagOrder', () => {
  it('orders mini versions by their UTC moment', () => {
    expect(compareTagOrder('20261201-000000', '20261130-235959')).toBeGreaterThan(0);
    expect(compareTagOrder('20261130-235959', '20261201-000000')).toBeLessThan(0);
    expect(compareTagOrder('20261201-000000', '20261201-000000')).toBe(0);
  });

  it('puts yy.mm.dd dates on the same timeline, and the same moment written two ways is equal', () => {
    expect(compareTagOrder('26.12.01', '20261130-235959')).toBeGreaterThan(0);
    expect(compareTagOrder('26.12.01', '20261201-000000')).toBe(0);
  });

  it('orders semantic versions by precedence, below any date-like tag, and latest last', () => {
    expect(compareTagOrder('1.10.0', '1.9.0')).toBeGreaterThan(0);
    expect(compareTagOrder('1.0.0', '1.0.0-rc.1')).toBeGreaterThan(0);
    expect(compareTagOrder('v1.2.0', '1.2.0')).toBe(0);
    expect(compareTagOrder('99.0.0', '20210101-000000')).toBeLessThan(0);
    expect(compareTagOrder('latest', '0.0.1')).toBeLessThan(0);
  });

  it('counts a date-time or date only when it is a real calendar moment; one that is not is no tag at all', () => {
    // Impossible months, days, hours, minutes and seconds, and 29 February outside leap years.
    for (const impossible of [
      '20261301-250000',
      '20261301-000000',
      '20260001-000000',
      '20260100-000000',
      '20260431-000000',
      '20260229-000000',
      '21000229-000000',
      '20260101-240000',
      '20260101-006000',
      '20260101-000060',
      '99999999-999999',
      '26.13.01',
      '26.02.30',
      '21.13.40',
      '00.00.00',
    ]) {
      expect([impossible, compareTagOrder(impossible, '20260101-000000')]).toEqual([impossible, undefined]);
      expect([impossible, compareTagOrder(impossible, '1.0.0')]).toEqual([impossible, undefined]);
    }
    // The edges of the real calendar and clock still count.
    expect(compareTagOrder('20240229-235959', '20240228-000000')).toBeGreaterThan(0);
    expect(compareTagOrder('20000229-000000', '19991231-235959')).toBeGreaterThan(0);
    expect(compareTagOrder('20261231-235959', '20261201-000000')).toBeGreaterThan(0);
    expect(compareTagOrder('24.02.29', '24.02.28')).toBeGreaterThan(0);
  });

  it('has no answer for tags that are not usable', () => {
    expect(compareTagOrder('main', '20261201-000000')).toBeUndefined();
    expect(compareTagOrder('20261201-000000', '../x')).toBeUndefined();
    expect(compareTagOrder('', '')).toBeUndefined();
  });
});

describe('versions without semver loaded', () => {
  it('orders plain X.Y.Z exactly as semver does, and mixed with pre-releases too', () => {
    const versions = [
      '0.0.0',
      '0.0.1',
      '0.1.0',
      '1.0.0',
      'v1.0.0',
      '1.0.0-rc.1',
      '1.0.0-alpha',
      '1.2.3',
      '1.2.10',
      '1.10.2',
      '2.0.0-beta.2',
      '2.0.0-beta.11',
      '10.0.0',
      '999999999999999.0.0',
    ];
    for (const a of versions) {
      for (const b of versions) {
        expect([a, b, Math.sign(compareTagOrder(a, b) ?? NaN)]).toEqual([a, b, semverCompare(a, b)]);
      }
    }
  });

  it('leaves to semver what it refuses: leading zeros, four parts, numbers beyond safe integers', () => {
    for (const tag of ['01.2.3', '1.2.3.4', '1.2', '9999999999999999.0.0'])
      expect(compareTagOrder(tag, '1.0.0')).toBeUndefined();
  });
});
