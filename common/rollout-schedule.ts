/**
 * Staged rollouts, pure (docs/releasing.md): the schedule `scripts/publish mini --rollout`
 * reads (`5%,25%@6h,100%@24h`), the strict shape a manifest's `rollout` must have, and the
 * percentage of hosts a schedule admits at a moment. Shared by the shim and scripts/publish,
 * so both read a schedule the same way.
 */
import type { Rollout, RolloutStep } from '../contract/contract';

/** More steps than anyone stages a release in; a bound on what a manifest may make the shim walk. */
export const MAX_ROLLOUT_STEPS = 16;
/** Ten years: a later step is a typo, not a schedule. */
const MAX_AFTER_SECONDS = 10 * 366 * 24 * 3600;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
const STEP = /^(\d{1,3})%(?:@(\d{1,9})([smhd]))?$/;
const UTC_SECOND = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** The schedule's start as the manifest keeps it: UTC to the second, `2026-12-07T04:00:00Z`. */
export function formatRolloutStart(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * `--rollout` text to a schedule starting at `start`: steps `P%@<n><s|m|h|d>` separated by
 * commas, the first one's time optional (`5%` is `5%@0s`). Error (one line, for publish)
 * when it is not one.
 */
export function parseRolloutOption(text: string, start: Date): Rollout {
  const items = text.split(',').map((item) => item.trim());
  const steps = items.map((item, index): RolloutStep => {
    const match = STEP.exec(item);
    if (!match)
      throw new Error(
        `"${item}" is not a rollout step: write PERCENT% or PERCENT%@TIME, TIME a whole number with s, m, h or d (5%,25%@6h,100%@1d)`,
      );
    const [, percent = '', amount, unit] = match;
    if (amount === undefined && index > 0)
      throw new Error(`the step "${item}" needs a time after the start (${item}@6h): only the first step may omit it`);
    return {
      percent: Number(percent),
      afterSeconds: amount === undefined || unit === undefined ? 0 : Number(amount) * UNIT_SECONDS[unit as 's'],
    };
  });
  const rollout = { start: formatRolloutStart(start), steps };
  const problem = findScheduleProblem(rollout);
  if (problem !== undefined) throw new Error(`the rollout "${text}" ${problem}`);
  return rollout;
}

/** Whether a manifest's `rollout` is a schedule the shim can follow; anything else makes the manifest corrupt. */
export function isRollout(value: unknown): value is Rollout {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { start, steps } = value as Partial<Record<keyof Rollout, unknown>>;
  if (typeof start !== 'string' || !Array.isArray(steps)) return false;
  const shaped = steps.every((step: unknown) => {
    const { percent, afterSeconds } = (step ?? {}) as Partial<Record<keyof RolloutStep, unknown>>;
    return Number.isInteger(percent) && Number.isInteger(afterSeconds);
  });
  return shaped && findScheduleProblem({ start, steps: steps as RolloutStep[] }) === undefined;
}

/** Why a schedule cannot be followed (completing "the rollout … "), or undefined. */
function findScheduleProblem({ start, steps }: Rollout): string | undefined {
  if (!UTC_SECOND.test(start) || formatRolloutStart(new Date(Date.parse(start) || 0)) !== start)
    return `starts at "${start}", which is not a UTC time to the second`;
  if (steps.length === 0 || steps.length > MAX_ROLLOUT_STEPS)
    return `has ${steps.length} steps; it needs 1 to ${MAX_ROLLOUT_STEPS}`;
  for (const [index, step] of steps.entries()) {
    if (step.percent < 0 || step.percent > 100) return `has a step at ${step.percent}%: percentages are 0 to 100`;
    if (step.afterSeconds < 0 || step.afterSeconds > MAX_AFTER_SECONDS)
      return `has a step ${step.afterSeconds} s after the start: at most ten years`;
    const before = steps[index - 1];
    if (before && step.afterSeconds <= before.afterSeconds)
      return 'has steps out of order: each step needs a later time than the one before';
    // Admission must never go backwards for a host (docs/releasing.md).
    if (before && step.percent < before.percent)
      return `goes down from ${before.percent}% to ${step.percent}%: a host once admitted stays admitted`;
  }
  return undefined;
}

/** The percentage of the last step whose time has come at `nowMs`; 0 before the first. */
export function rolloutPercentAt(rollout: Rollout, nowMs: number): number {
  const elapsedSeconds = (nowMs - Date.parse(rollout.start)) / 1000;
  let percent = 0;
  for (const step of rollout.steps) if (step.afterSeconds <= elapsedSeconds) percent = step.percent;
  return percent;
}

/** Whether a host in `bucket` (0–99) is admitted at `nowMs`. */
export function isAdmitted(rollout: Rollout, bucket: number, nowMs: number): boolean {
  return bucket < rolloutPercentAt(rollout, nowMs);
}

/** When the host in `bucket` will be admitted (UTC, to the second), or undefined if no step ever admits it. */
export function admissionTime(rollout: Rollout, bucket: number): string | undefined {
  const step = rollout.steps.find((candidate) => bucket < candidate.percent);
  return step && formatRolloutStart(new Date(Date.parse(rollout.start) + step.afterSeconds * 1000));
}

/** The schedule as `--rollout` reads it (`5%,25%@6h,100%@1d`), from the given start. */
export function formatRolloutSteps(steps: readonly RolloutStep[]): string {
  return steps
    .map((step, index) => {
      if (index === 0 && step.afterSeconds === 0) return `${step.percent}%`;
      const unit = (['d', 'h', 'm'] as const).find((name) => step.afterSeconds % UNIT_SECONDS[name] === 0) ?? 's';
      return `${step.percent}%@${step.afterSeconds / UNIT_SECONDS[unit]}${unit}`;
    })
    .join(',');
}
