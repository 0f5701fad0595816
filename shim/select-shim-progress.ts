/**
 * Whether the shim shows the progress of its own pulls (tiny, mini), pure. Kept tiny and
 * grammar-free: the shim is frozen once shipped and must never misread the container's
 * arguments.
 *
 * - Only on a terminal. Off a terminal (scripts, CI logs) a pull of tiny or mini is
 *   run-docker updating itself, not the user's image: it stays silent, so what a script
 *   captures does not depend on whether a new mini happened to be published.
 * - Silenced by RUN_DOCKER_QUIET=1, or by `-q`/`--quiet` as the shim reads its flags
 *   (read-shim-flags.ts: only the leading options, so nothing after IMAGE is ever read).
 *   A `-q` after an option's value (`-e A=1 -q IMAGE`) is seen by the mini payload only.
 */
import { isQuietEnv, selectProgressOutput, type ProgressOutput } from '../common/select-progress-output';
import type { ShimFlags } from './read-shim-flags';

export function selectShimProgress(
  flags: Pick<ShimFlags, 'quiet'>,
  env: Readonly<Record<string, string | undefined>>,
  isTTY: boolean,
): ProgressOutput {
  const output = selectProgressOutput({ isTTY, env, quiet: isQuietEnv(env) || flags.quiet });
  return output.mode === 'tty' ? output : { mode: 'off', color: false };
}
