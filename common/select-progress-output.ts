/**
 * How pull progress is shown, decided from facts the caller read once (pure).
 * https://no-color.org: NO_COLOR set and not empty turns colour off; cursor movement is
 * not colour, so the redraw stays.
 */

/** `tty`: redrawn in place; `plain`: a line per layer status change; `off`: nothing. */
export type ProgressMode = 'tty' | 'plain' | 'off';

export interface ProgressOutput {
  mode: ProgressMode;
  /** Colour escapes allowed; never in `plain` (logs and pipes get no escapes at all). */
  color: boolean;
}

export interface ProgressFacts {
  /** Whether the stream progress goes to (stderr) is a terminal. */
  isTTY: boolean;
  env: Readonly<Record<string, string | undefined>>;
  /** `-q/--quiet` or RUN_DOCKER_QUIET=1. */
  quiet: boolean;
}

export function selectProgressOutput({ isTTY, env, quiet }: ProgressFacts): ProgressOutput {
  if (quiet) return { mode: 'off', color: false };
  // A dumb terminal cannot move the cursor: it gets the lines a log gets.
  if (!isTTY || env.TERM === 'dumb') return { mode: 'plain', color: false };
  return { mode: 'tty', color: !env.NO_COLOR };
}

/** RUN_DOCKER_QUIET=1 silences pull progress everywhere, like RUN_DOCKER_LOCAL=1. */
export function isQuietEnv(env: Readonly<Record<string, string | undefined>>): boolean {
  return env.RUN_DOCKER_QUIET === '1';
}
