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

describe('formatUtcStamp against toISOString', () => {
  it('agrees with toISOString across years, months, leap days and the end of a day', () => {
    const fromIso = (date: Date) =>
      date.toISOString().replace(/^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2}).*$/, '$1$2$3-$4$5$6');
    for (const time of [
      '2024-02-29T23:59:59.999Z',
      '1999-12-31T00:00:00Z',
      '2026-07-04T09:05:03Z',
      '2100-03-01T12:34:56Z',
      '0999-01-01T00:00:00Z',
    ]) {
      expect(formatUtcStamp(new Date(time))).toBe(fromIso(new Date(time)));
    }
  });
});
