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

  it('has no answer for tags that are not usable', () => {
    expect(compareTagOrder('main', '20261201-000000')).toBeUndefined();
    expect(compareTagOrder('20261201-000000', '../x')).toBeUndefined();
    expect(compareTagOrder('', '')).toBeUndefined();
  });
});
