/**
 * The `cli` setting (RUN_DOCKER_CLI, or "cli" in the config file): which CLI starts
 * containers (docs/engines.md). Read by the shim with its other settings and handed to the
 * run payload; a payload under an older shim reads the variable itself.
 */
import type { EngineCli } from '../contract/contract';
import { RunDockerError } from './run-docker-error';

export const ENGINE_CLIS: readonly EngineCli[] = ['docker', 'podman'];

/** `value` as a CLI name, or the one line saying what is wrong with it (`where`: `RUN_DOCKER_CLI`, `"cli" in the config file "…"`). */
export function parseEngineCli(value: unknown, where: string): EngineCli {
  if (ENGINE_CLIS.includes(value as EngineCli)) return value as EngineCli;
  throw new RunDockerError(
    `${where} must be "docker" or "podman", not ${JSON.stringify(value)}`,
    'Name the CLI that starts containers, or leave it out to use the one that speaks to the engine (docs/engines.md).',
  );
}

/** RUN_DOCKER_CLI, when set and not empty. */
export function readEngineCliEnv(
  env: Readonly<Record<string, string | undefined>>,
): { value: EngineCli; source: string } | undefined {
  const value = env.RUN_DOCKER_CLI;
  if (value === undefined || value === '') return undefined;
  return { value: parseEngineCli(value, 'RUN_DOCKER_CLI'), source: 'env RUN_DOCKER_CLI' };
}
