import { EXIT_RUN_DOCKER_FAILURE } from '../contract/contract';
import { toEngineConnectionError, type EngineAddress } from '../common/engine-error';
import { makePrintable } from '../common/make-printable';
import { formatUserFacingError, isUserFacingError } from '../common/run-docker-error';

/** The one line (plus a stack with RUN_DOCKER_DEBUG) for a failure, and the exit code. */
export function describeFailure(
  error: unknown,
  env: Readonly<Record<string, string | undefined>>,
  endpoint?: EngineAddress,
): { lines: string[]; exitCode: number } {
  const userFacing = isUserFacingError(error) ? error : toEngineConnectionError(error, env, endpoint);
  const stack =
    env.RUN_DOCKER_DEBUG && error instanceof Error && error.stack ? error.stack.split('\n').map(makePrintable) : [];
  if (userFacing) return { lines: [formatUserFacingError(userFacing), ...stack], exitCode: userFacing.exitCode };
  const message = error instanceof Error ? error.message : String(error);
  return {
    lines: [
      `run-docker: unexpected error: ${makePrintable(message.replace(/\s+/g, ' '))}. Run again with RUN_DOCKER_DEBUG=1 for details and report it.`,
      ...stack,
    ],
    exitCode: EXIT_RUN_DOCKER_FAILURE,
  };
}
