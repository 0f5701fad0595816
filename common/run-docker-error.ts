import { EXIT_RUN_DOCKER_FAILURE, type UserFacingError } from '../contract/contract';
import { makePrintable } from './make-printable';

/** A failure the user can act on: what is wrong (message) and what to do (hint). */
export class RunDockerError extends Error implements UserFacingError {
  override readonly name = 'RunDockerError' as const;
  constructor(
    message: string,
    readonly hint: string,
    readonly exitCode: number = EXIT_RUN_DOCKER_FAILURE,
  ) {
    super(message);
  }
}

export function isUserFacingError(error: unknown): error is UserFacingError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'RunDockerError' &&
    typeof (error as { hint?: unknown }).hint === 'string'
  );
}

/** The single line printed for a user-facing error; what it quotes is shown, never interpreted. */
export function formatUserFacingError(error: UserFacingError): string {
  return makePrintable(`run-docker: ${error.message}. ${error.hint}`.replace(/\s*\n\s*/g, ' '));
}
