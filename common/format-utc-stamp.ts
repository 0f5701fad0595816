/**
 * Pure: `date` in UTC as `YYYYMMDD-HHMMSS`, the form of mini versions (docs/tags.md) and of
 * the time in default container names. Sorts as text in time order. From the getUTC*
 * fields, not toISOString: its first call in a process costs ~1 ms here, theirs ~0.1 ms.
 */
export function formatUtcStamp(date: Date): string {
  const two = (value: number) => String(value).padStart(2, '0');
  const day = `${String(date.getUTCFullYear()).padStart(4, '0')}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}`;
  return `${day}-${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}`;
}
