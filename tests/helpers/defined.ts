/**
 * `value`, or a failure that names what was missing: for an index a test expects to hold
 * (the only line of stderr, the first match), where `!` would fail later and less clearly.
 */
export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`expected ${what}, found none`);
  return value;
}
