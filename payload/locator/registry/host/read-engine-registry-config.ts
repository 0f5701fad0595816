/**
 * The engine's registry settings (`GET /info`, RegistryConfig), for the one decision that
 * needs them: http or https for a registry that is not on loopback. /info is the engine's
 * slowest cheap call (27–65 ms here, against ~1 ms for /_ping: it counts containers, asks
 * the storage driver, …), so its answer is kept in the payload cache for 60 s, keyed by the
 * engine endpoint and stored with the ID of the engine that gave it. Settings only change
 * when dockerd restarts (daemon.json), so a minute's delay in seeing them is the price of
 * not paying /info on every call.
 */
import { join } from 'node:path';
import type { EngineClient, Logger } from '../../../../contract/contract';
import { readPrivateFile } from '../../../../common/read-private-file';
import { writeFileAtomically } from '../../../../common/write-file-atomically';
import { parseEngineRegistryConfig, type EngineRegistryConfig } from './select-registry-security';
import { ignoreFailure } from '../../../../common/ignore-failure';

export const ENGINE_CONFIG_CACHE_FILE = 'engine-registry-config.json';
export const ENGINE_CONFIG_TTL_MS = 60_000;

export interface ReadEngineRegistryConfigOptions {
  /** The address of the engine `engine` talks to (BaseContext.docker): the cache key. Without it, /info is asked every time. */
  engineHost?: string;
  cacheDir?: string;
  log?: Logger;
  now?: () => number;
}

interface CachedConfig {
  endpoint: string;
  fetchedAt: number;
  config: EngineRegistryConfig;
}

/**
 * undefined without an engine or when the engine did not answer: callers then keep the rule
 * from before (http for loopback only).
 */
export async function readEngineRegistryConfig(
  engine: EngineClient | undefined,
  options: ReadEngineRegistryConfigOptions,
): Promise<EngineRegistryConfig | undefined> {
  if (!engine) return undefined;
  const now = options.now ?? Date.now;
  const endpoint = options.engineHost;
  const file = options.cacheDir && endpoint ? join(options.cacheDir, ENGINE_CONFIG_CACHE_FILE) : undefined;
  if (file) {
    const cached = await readCached(file);
    const age = cached ? now() - cached.fetchedAt : -1;
    if (cached && cached.endpoint === endpoint && age >= 0 && age < ENGINE_CONFIG_TTL_MS) {
      options.log?.debug(`engine registry settings of "${cached.config.engineId}" from the cache (${age} ms old)`);
      return cached.config;
    }
  }
  let config: EngineRegistryConfig | undefined;
  try {
    config = parseEngineRegistryConfig(await engine.readInfo());
  } catch (error) {
    options.log?.debug(`engine /info failed (${(error as Error).message}); registry scheme by the loopback rule`);
    return undefined;
  }
  if (config && file && endpoint) {
    await ignoreFailure(
      writeCached(file, { endpoint, fetchedAt: now(), config }),
      'the cache only saves asking the engine again',
      options.log,
    );
  }
  return config;
}

async function readCached(file: string): Promise<CachedConfig | undefined> {
  try {
    const bytes = await readPrivateFile(file, { maxBytes: 256 * 1024 });
    if (!bytes) return undefined;
    const value = JSON.parse(bytes.toString('utf8')) as Partial<CachedConfig>;
    const config =
      value.config &&
      parseEngineRegistryConfig({ ID: value.config.engineId, RegistryConfig: toRegistryConfig(value.config) });
    if (typeof value.endpoint !== 'string' || typeof value.fetchedAt !== 'number' || !config) return undefined;
    return { endpoint: value.endpoint, fetchedAt: value.fetchedAt, config };
  } catch {
    // A broken cache file is asked again, never trusted.
    return undefined;
  }
}

/** Back to /info's shape, so a cached entry passes the same checks as a fresh answer. */
function toRegistryConfig(config: EngineRegistryConfig): unknown {
  const IndexConfigs: Record<string, { Secure: unknown }> = {};
  for (const [name, secure] of Object.entries(config.secureByIndex ?? {})) IndexConfigs[name] = { Secure: secure };
  return { InsecureRegistryCIDRs: config.insecureCidrs, IndexConfigs };
}

/** Whole or not at all (writeFileAtomically). */
async function writeCached(file: string, content: CachedConfig): Promise<void> {
  await writeFileAtomically(file, JSON.stringify(content));
}
