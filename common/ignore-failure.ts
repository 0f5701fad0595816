import type { Logger } from '../contract/contract';

/**
 * `promise` with its failure ignored on purpose, resolving to undefined instead: for steps
 * that are best effort (clean-up, caches that only save time). `why` says why ignoring is
 * safe there; with `log`, a debug line (RUN_DOCKER_DEBUG) shows what was ignored and why.
 */
export function ignoreFailure<T>(
  promise: Promise<T>,
  why: string,
  log?: Pick<Logger, 'debug'>,
): Promise<T | undefined> {
  return promise.catch((error: unknown) => {
    log?.debug(`ignored: ${error instanceof Error ? error.message : String(error)} (${why})`);
    return undefined;
  });
}
