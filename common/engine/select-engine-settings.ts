/**
 * Pure: the settings run-docker's config files give one engine, under `engines`, keyed by the
 * engine's address (as --show-config prints it: `ssh://me@prod-1`, `tcp://10.0.0.5:2376`) or
 * by the name of the docker context that chose it (docs/configuration.md, "Engines on
 * another host"). The first file (highest precedence) that has an entry for the engine gives
 * all of its settings; a malformed entry there is one line and exit 125, since it decides
 * which folders of which host a container gets.
 */
import { posix } from 'node:path';
import { RunDockerError } from '../run-docker-error';
import { normalizeHost } from './select-engine-endpoint';

/** A folder on the engine's host, or none mapped (`"no"`). */
export type EngineFolderSetting = { kind: 'none' } | { kind: 'dir'; path: string };

export interface EngineSettings {
  /** Where they came from: `engines["ssh://me@prod-1"] in /home/me/.config/run-docker/config.json`. */
  source: string;
  /** The folder mapped to `<home>/data` on that engine's host. */
  dataDir?: EngineFolderSetting;
  /** The folder mapped to `<home>/log`. */
  logDir?: EngineFolderSetting;
  /** Overrides what run-docker finds out (engine-files.ts). */
  sharesFiles?: boolean;
}

export interface EngineName {
  /** The engine's address as the shim chose it (select-engine-endpoint.ts normalizes it). */
  host: string;
  /** The docker context that chose it, when one did. */
  context?: string;
}

export function selectEngineSettings(
  files: ReadonlyArray<{ path: string; content: unknown }>,
  engine: EngineName,
): EngineSettings | undefined {
  for (const file of files) {
    const engines = (file.content as { engines?: unknown } | null)?.engines;
    if (engines === undefined) continue;
    if (typeof engines !== 'object' || engines === null || Array.isArray(engines))
      throw malformed(file.path, '"engines" must be an object, keyed by engine address or docker context name');
    for (const [key, value] of Object.entries(engines as Record<string, unknown>)) {
      if (!namesEngine(key, engine)) continue;
      return readEntry(value, `engines["${key}"]`, file.path);
    }
  }
  return undefined;
}

/** An address key is compared as the shim normalizes addresses (`host:2375` is `tcp://host:2375`). */
function namesEngine(key: string, engine: EngineName): boolean {
  if (engine.context !== undefined && key === engine.context) return true;
  if (key === engine.host) return true;
  // An address has a scheme, or is HOST:PORT (tcp, as in DOCKER_HOST); anything else names a context.
  if (!key.includes('://') && !/^[^/]+:\d+$/.test(key)) return false;
  try {
    return normalizeHost(key, false, 'config') === engine.host || normalizeHost(key, true, 'config') === engine.host;
  } catch {
    return false;
  }
}

function readEntry(value: unknown, source: string, file: string): EngineSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw malformed(file, `${source} must be an object such as {"dataDir": "/srv/me/data"}`);
  const entry = value as Record<string, unknown>;
  const settings: EngineSettings = { source: `${source} in ${file}` };
  for (const key of Object.keys(entry)) {
    if (!['dataDir', 'logDir', 'sharesFiles'].includes(key))
      throw malformed(file, `${source} has an unknown setting "${key}" (dataDir, logDir and sharesFiles are known)`);
  }
  for (const key of ['dataDir', 'logDir'] as const) {
    const folder = entry[key];
    if (folder === undefined) continue;
    if (folder === 'no') settings[key] = { kind: 'none' };
    else if (typeof folder === 'string' && posix.isAbsolute(folder) && !folder.includes('\n'))
      settings[key] = { kind: 'dir', path: posix.normalize(folder).replace(/(.)\/+$/, '$1') };
    else throw malformed(file, `"${key}" of ${source} must be an absolute path on the engine's host, or "no"`);
  }
  if (entry.sharesFiles !== undefined) {
    if (typeof entry.sharesFiles !== 'boolean')
      throw malformed(file, `"sharesFiles" of ${source} must be true or false`);
    settings.sharesFiles = entry.sharesFiles;
  }
  return settings;
}

function malformed(file: string, what: string): RunDockerError {
  return new RunDockerError(`the config file "${file}": ${what}`, 'Fix it (docs/configuration.md, "engines").');
}
