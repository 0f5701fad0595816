import { RunDockerError } from '../../../common/run-docker-error';

/** Tunables of the registry client; environment variables override the defaults. */
export interface RegistrySettings {
  /** Per HTTP request, body included. RUN_DOCKER_REGISTRY_TIMEOUT_MS, default 10 s. */
  timeoutMs: number;
  /** Tags asked for per page (`?n=`). RUN_DOCKER_REGISTRY_PAGE_SIZE, default 1000. */
  pageSize: number;
}

export const DEFAULT_REGISTRY_SETTINGS: RegistrySettings = { timeoutMs: 10_000, pageSize: 1000 };

export function readRegistrySettings(env: Readonly<Record<string, string | undefined>>): RegistrySettings {
  return {
    timeoutMs: readPositiveInteger(env, 'RUN_DOCKER_REGISTRY_TIMEOUT_MS') ?? DEFAULT_REGISTRY_SETTINGS.timeoutMs,
    pageSize: readPositiveInteger(env, 'RUN_DOCKER_REGISTRY_PAGE_SIZE') ?? DEFAULT_REGISTRY_SETTINGS.pageSize,
  };
}

function readPositiveInteger(env: Readonly<Record<string, string | undefined>>, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new RunDockerError(`"${name}" must be a positive whole number, not "${text.slice(0, 40)}"`, `Fix or unset ${name}.`);
  }
  return value;
}
