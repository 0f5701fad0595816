/**
 * One deadline for all registry lookups of a call. A call makes two: the mini's (tiny's
 * locator, called by the shim) and the project's (the mini payload's own copy of this
 * code). Those are separately bundled modules in one process, so a module-level variable
 * would be two variables.
 *
 * Why time spent, shared through a `Symbol.for` key on globalThis, and not the two
 * alternatives:
 * - a budget from process start (`performance.timeOrigin`) counts everything between the
 *   lookups too, above all the pull of a newly published mini: after a 20 s pull the
 *   project's lookup would be skipped, with a warning, on the very call that delivers the
 *   new behaviour;
 * - a deadline in the contract's BaseContext would have to be set by the frozen shim, which
 *   knows nothing of registries, and would measure from the same wrong origin.
 * The payloads run in the shim's realm (compile-payload.ts), so every copy of this file
 * finds the same record; the key is private to this file, no contract change. A tiny
 * built before this file simply does not add its time: the bound is then per lookup.
 */

/** Milliseconds registry lookups have taken in this process so far. */
export interface RegistryBudget {
  spentMs: number;
}

/** When the lookup under way must end, and the whole budget (for messages). */
export interface RegistryDeadline {
  at: number;
  totalMs: number;
}

const SPENT_KEY = Symbol.for('run-docker.registry-lookups.spent-ms');

/** The budget every copy of the locator in this process shares. */
export function processRegistryBudget(): RegistryBudget {
  const holder = globalThis as { [SPENT_KEY]?: RegistryBudget };
  const found = holder[SPENT_KEY];
  if (typeof found === 'object' && found !== null && typeof found.spentMs === 'number') return found;
  return (holder[SPENT_KEY] = { spentMs: 0 });
}

/** Runs one lookup with what is left of `totalMs`, and adds its time to the budget. */
export async function withRegistryDeadline<T>(
  budget: RegistryBudget,
  totalMs: number,
  lookup: (deadline: RegistryDeadline) => Promise<T>,
  now: () => number = Date.now,
): Promise<T> {
  const started = now();
  try {
    return await lookup({ at: started + Math.max(0, totalMs - budget.spentMs), totalMs });
  } finally {
    budget.spentMs += Math.max(0, now() - started);
  }
}
