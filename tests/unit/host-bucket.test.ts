import { computeHostBucket } from '../../shim/host-bucket';

describe('computeHostBucket', () => {
  it('is the same on every call, and differs between repositories', () => {
    const first = computeHostBucket('stable', 'web-042', 'reg.example/team/mini');
    expect(computeHostBucket('stable', 'web-042', 'reg.example/team/mini')).toBe(first);
    const others = ['a', 'b', 'c', 'd', 'e'].map((name) =>
      computeHostBucket('stable', 'web-042', `reg.example/${name}/mini`),
    );
    expect(new Set([first, ...others]).size).toBeGreaterThan(1);
  });

  it('puts every canary host in bucket 0', () => {
    expect(computeHostBucket('canary', 'web-042', 'reg.example/team/mini')).toBe(0);
    expect(computeHostBucket('canary', 'anything', 'x/y')).toBe(0);
  });

  it('spreads numbered hosts evenly over 0-99 (each tenth within 10% of its share)', () => {
    const tenths = new Array<number>(10).fill(0);
    for (let host = 0; host < 20000; host++)
      tenths[Math.floor(computeHostBucket('stable', `host-${host}`, '127.0.0.1:5000/fleet/mini') / 10)]! += 1;
    for (const count of tenths) expect(Math.abs(count - 2000)).toBeLessThan(200);
  });
});
