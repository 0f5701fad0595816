import { formatUtcStamp } from '../../common/format-utc-stamp';

describe('formatUtcStamp', () => {
  it('writes the UTC time as YYYYMMDD-HHMMSS, whatever the zone of the date given', () => {
    expect(formatUtcStamp(new Date('2026-11-28T10:15:07.999Z'))).toBe('20261128-101507');
    expect(formatUtcStamp(new Date('2026-01-02T23:30:00-05:00'))).toBe('20260103-043000');
  });

  it('sorts as text in time order', () => {
    const times = ['2026-12-31T23:59:59Z', '2026-01-01T00:00:00Z', '2026-06-15T12:00:00Z', '2027-01-01T00:00:00Z'];
    const stamps = times.map((time) => formatUtcStamp(new Date(time)));
    expect([...stamps].sort()).toEqual([...times].sort().map((time) => formatUtcStamp(new Date(time))));
  });
});
