import { selectFallbackMinis } from '../../shim/select-fallback-minis';

const local = (tag: string) => ({ tag, presentLocally: true });
const remote = (tag: string) => ({ tag, presentLocally: false });

describe('selectFallbackMinis', () => {
  it('keeps the order, skips the rejected newest, and tries every local mini', () => {
    const plan = selectFallbackMinis([remote('20260105-000000'), local('20260104-000000'), local('20260103-000000')], {
      rejectedTag: '20260105-000000',
    });
    expect(plan).toEqual({
      candidates: [local('20260104-000000'), local('20260103-000000')],
      belowFloor: 0,
      notPulled: 0,
      halted: 0,
    });
  });

  it('never plans a halted mini, and counts them apart from the pulls', () => {
    const tags = [remote('4.0.0'), remote('3.0.0'), local('2.0.0'), remote('1.0.0')];
    const plan = selectFallbackMinis(tags, { rejectedTag: '5.0.0', maxPulls: 1, halted: new Set(['4.0.0', '2.0.0']) });
    expect(plan.candidates.map((c) => c.tag)).toEqual(['3.0.0']);
    expect(plan).toMatchObject({ halted: 2, notPulled: 1 });
  });

  it('plans at most maxPulls registry minis, local ones are free, and counts the rest', () => {
    const tags = [remote('6.0.0'), remote('5.0.0'), local('4.0.0'), remote('3.0.0'), remote('2.0.0'), local('1.0.0')];
    const plan = selectFallbackMinis(tags, { rejectedTag: '7.0.0', maxPulls: 2 });
    expect(plan.candidates.map((c) => c.tag)).toEqual(['6.0.0', '5.0.0', '4.0.0', '1.0.0']);
    expect(plan.notPulled).toBe(2);
  });

  it('never plans a mini older than the floor, local or not, and counts them', () => {
    const tags = [
      local('20261202-000000'),
      remote('20261201-000000'),
      local('20261130-000000'),
      remote('20261129-000000'),
    ];
    const plan = selectFallbackMinis(tags, { rejectedTag: '20261203-000000', floor: '20261201-000000' });
    expect(plan.candidates.map((c) => c.tag)).toEqual(['20261202-000000', '20261201-000000']);
    expect(plan.belowFloor).toBe(2);
  });

  it('ignores a tag listed twice', () => {
    const plan = selectFallbackMinis([local('2.0.0'), remote('2.0.0')], { rejectedTag: '3.0.0' });
    expect(plan.candidates).toEqual([local('2.0.0')]);
  });
});
