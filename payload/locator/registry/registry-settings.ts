import { readPositiveInteger } from '../../../common/read-positive-integer';

/** Tunables of the registry client; environment variables override the defaults. */
export interface RegistrySettings {
  /** Per HTTP request, body included. RUN_DOCKER_REGISTRY_TIMEOUT_MS, default 10 s. */
  timeoutMs: number;
  /** All registry lookups of one call together (registry-deadline.ts). RUN_DOCKER_REGISTRY_DEADLINE_MS, default 5 s. */
  deadlineMs: number;
  /** Tags asked for per page (`?n=`). RUN_DOCKER_REGISTRY_PAGE_SIZE, default 1000. */
  pageSize: number;
}

/**
 * 5 s for every lookup of a call: a far registry answers a lookup in 3–4 round trips
 * (tag list, 401, token, tag list again; ~150 ms each, plus a TLS handshake), so two
 * lookups fit many times over; a hung one costs the user at most this, once.
 */
export const DEFAULT_REGISTRY_SETTINGS: RegistrySettings = { timeoutMs: 10_000, deadlineMs: 5_000, pageSize: 1000 };

export function readRegistrySettings(env: Readonly<Record<string, string | undefined>>): RegistrySettings {
  return {
    timeoutMs: readPositiveInteger(env, 'RUN_DOCKER_REGISTRY_TIMEOUT_MS') ?? DEFAULT_REGISTRY_SETTINGS.timeoutMs,
    deadlineMs: readPositiveInteger(env, 'RUN_DOCKER_REGISTRY_DEADLINE_MS') ?? DEFAULT_REGISTRY_SETTINGS.deadlineMs,
    pageSize: readPositiveInteger(env, 'RUN_DOCKER_REGISTRY_PAGE_SIZE') ?? DEFAULT_REGISTRY_SETTINGS.pageSize,
  };
}
