/**
 * Calling the locator in-process, as the shim does: a BaseContext whose warnings are kept
 * for assertions, and the error a promise fails with.
 */
import { CONTRACT_VERSION, type BaseContext, type EngineClient } from '../../contract/contract';
import type { RunDockerError } from '../../common/run-docker-error';

/** `env` must give HOME; a long-lived test file also wants a large RUN_DOCKER_REGISTRY_DEADLINE_MS (the budget is per process). */
export function makeLocatorContext(
  engine: EngineClient,
  env: Record<string, string>,
  overrides: Partial<BaseContext> = {},
) {
  const warnings: string[] = [];
  const ctx: BaseContext = {
    contract: CONTRACT_VERSION,
    shimVersion: '0.0.0-test',
    local: false,
    env,
    log: { warn: (line) => warnings.push(line), debug: () => {} },
    engine,
    ...overrides,
  };
  return { ctx, warnings };
}

/** The error `promise` rejects with; a promise that resolves fails the test. */
export async function failure(promise: Promise<unknown>): Promise<RunDockerError> {
  try {
    await promise;
  } catch (error) {
    return error as RunDockerError;
  }
  throw new Error('expected a failure');
}
