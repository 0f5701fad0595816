/**
 * Pure: `date` in UTC as `YYYYMMDD-HHMMSS`, the form of mini versions (docs/tags.md) and of
 * the time in default container names. Sorts as text in time order.
 */
export function formatUtcStamp(date: Date): string {
  const iso = date.toISOString(); // 2026-11-28T10:15:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}
