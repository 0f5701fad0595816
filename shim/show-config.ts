/**
 * `run-docker --show-config`: the shim's effective configuration and where each value
 * came from, without contacting the engine (it must help exactly when the engine or the
 * registry is the problem). The configuration is the shim's, so this lives in the shim,
 * not in a payload.
 *
 * Read among run-docker's leading options by read-shim-flags.ts, never after IMAGE
 * (`run-docker app tool --show-config` gives it to the container). Like `--help`, it is a
 * request: the arguments around it do not matter.
 *
 * Data first: `buildConfigRows` makes {key, value, source} rows and `formatConfigRows`
 * renders them, both pure; a new setting is one more row.
 */
import { formatImageRef, formatRepository, isPinned } from '../common/image-ref';
import type { OwnFolder } from './locate-own-folder';
import type { ReleaseState } from './release-state';
import type { ShimConfig } from './resolve-shim-config';

export interface ConfigRow {
  key: string;
  value: string;
  /** `default`, `file <path>`, `env <NAME>`, `built in`. */
  source: string;
}

/** Everything the rows are made of, resolved by the caller (main.ts reads the process and the file). */
export interface ConfigFacts {
  shimVersion: string;
  config: ShimConfig;
  /** Every place a config file is looked for, in precedence order (read-config-file.ts). */
  configFiles: Array<{ path: string; source: string; scope: 'user' | 'system'; exists: boolean }>;
  /** As a call would use them (locate-own-folder.ts): as root, possibly not where HOME says. */
  cacheRoot: OwnFolder;
  stateDir: OwnFolder;
  dockerConfig: { path: string; source: string };
  /** The project `run-docker .` would use: the nearest pyproject.toml with a [tool.run-docker] table from the current folder up. */
  project: { file: string } | { file?: undefined; error?: string };
  /** The engine as the docker CLI would choose it (DOCKER_HOST, docker context), or why it cannot be used. */
  engine: { host: string; source: string } | { error: string };
  /**
   * Whether that engine shares this host's files (common/engine/engine-files.ts), as far as
   * is known without asking it: a socket on this host does; for a network address, the last
   * answer a run got, or a setting. Absent when the engine cannot be used.
   */
  engineFiles?: { value: string; source: string };
  /** Where this host stands in the mini repository's releases (docs/releasing.md); absent without a mini. */
  release?: ReleaseRowFacts;
}

export interface ReleaseRowFacts {
  repository: string;
  /** Undefined while the host has no identity yet (none configured, no machine ID, none made). */
  bucket: number | undefined;
  /** Where the host's identity came from (read-host-id.ts); the identity itself is never shown. */
  hostIdSource: string;
  /** Absent when no state folder can be used (as root: see the state row). */
  stateFile?: string;
  state: ReleaseState;
}

export function buildConfigRows(facts: ConfigFacts): ConfigRow[] {
  const { config } = facts;
  return [
    { key: 'shim', value: facts.shimVersion, source: 'built in' },
    config.tiny
      ? { key: 'tiny', value: formatImageRef(config.tiny.ref), source: config.tiny.source }
      : { key: 'tiny', value: 'none', source: 'default' },
    config.mini
      ? { key: 'mini', value: formatImageRef(config.mini.ref), source: config.mini.source }
      : { key: 'mini', value: 'none', source: 'default' },
    { key: 'payload', value: describePayload(config, facts.shimVersion), source: 'from tiny and mini' },
    { key: 'allowUnsigned', value: String(config.allowUnsigned), source: config.allowUnsignedSource },
    config.cli
      ? { key: 'cli', value: config.cli.value, source: config.cli.source }
      : { key: 'cli', value: 'by engine: podman for Podman (when installed), else docker', source: 'default' },
    { key: 'channel', value: config.channel.value, source: config.channel.source },
    ...(facts.release ? buildReleaseRows(facts.release, config.channel.value) : []),
    ...facts.configFiles.map((file) => ({
      key: file.scope === 'user' ? 'config file' : 'system config',
      value: file.path,
      source: file.exists ? file.source : `${file.source}; not present`,
    })),
    projectRow(facts.project),
    folderRow('payload cache', facts.cacheRoot),
    folderRow('state', facts.stateDir),
    { key: 'docker config', value: facts.dockerConfig.path, source: facts.dockerConfig.source },
    'error' in facts.engine
      ? { key: 'engine', value: `unusable: ${facts.engine.error}`, source: 'DOCKER_HOST / docker context' }
      : {
          key: 'engine',
          value: facts.engine.host,
          source: facts.engine.source === 'DOCKER_HOST' ? 'env DOCKER_HOST' : facts.engine.source,
        },
    ...(facts.engineFiles ? [{ key: 'engine files', ...facts.engineFiles }] : []),
  ];
}

/** The file `.` stands for, as far as a look at its text tells: the payload parses it (`--dry-run .` shows what it makes of it). */
function projectRow(project: ConfigFacts['project']): ConfigRow {
  const source = 'for ".": the nearest pyproject.toml with [tool.run-docker], from the current folder up';
  if (project.file !== undefined) return { key: 'project file', value: project.file, source };
  if (project.error !== undefined) return { key: 'project file', value: `unusable: ${project.error}`, source };
  return { key: 'project file', value: 'none', source };
}

/** Where a folder of run-docker's own is; as root, also the folder HOME or XDG_* named and why it is not used. */
function folderRow(key: string, folder: OwnFolder): ConfigRow {
  if (folder.dir === undefined) return { key, value: 'none', source: `as root: ${folder.why}` };
  const passedOver = folder.passedOver;
  return {
    key,
    value: folder.dir,
    source: passedOver === undefined ? folder.source : `${folder.source}; "${passedOver.dir}" ${passedOver.why}`,
  };
}

/** The host's bucket, the keys rotations added and retired, and the versions halts stopped, for the repository. */
function buildReleaseRows(release: ReleaseRowFacts, channel: string): ConfigRow[] {
  const { keys, halted } = release.state;
  const state = release.stateFile === undefined ? 'no state folder' : `file ${release.stateFile}`;
  const rotations =
    keys.added.length + keys.retired.length === 0
      ? 'none seen'
      : `added ${keys.added.map((key) => key.keyId).join(', ') || 'none'}; retired ${keys.retired.join(', ') || 'none'}`;
  return [
    {
      key: 'rollout bucket',
      value:
        release.bucket === undefined
          ? `not yet known for ${release.repository}`
          : `${release.bucket} of 0-99 for ${release.repository}`,
      source: channel === 'canary' ? 'canary: always 0' : `host ID from ${release.hostIdSource}`,
    },
    { key: 'key rotations', value: rotations, source: state },
    { key: 'halted minis', value: halted.join(', ') || 'none seen', source: state },
  ];
}

/** Which run payload a call would run and why, as far as the settings tell (no engine, no registry). */
function describePayload(config: ShimConfig, shimVersion: string): string {
  const builtIn = `built into shim ${shimVersion}`;
  if (config.tiny === undefined) return `${builtIn} (no tiny configured)`;
  if (config.mini === undefined) return `${builtIn} (no mini configured)`;
  // Short: the row sets the width of the value column.
  if (isPinned(config.mini.ref))
    return `pinned mini ${formatImageRef(config.mini.ref)}, or built-in if the tiny is unusable`;
  return `newest trusted mini of ${formatRepository(config.mini.ref)} that has reached this host, else built-in`;
}

/** One line per row, `key  value  (source)`, keys and values in aligned columns. */
export function formatConfigRows(rows: readonly ConfigRow[]): string {
  const keyWidth = Math.max(...rows.map((row) => row.key.length));
  const valueWidth = Math.max(...rows.map((row) => row.value.length));
  return rows.map((row) => `${row.key.padEnd(keyWidth)}  ${row.value.padEnd(valueWidth)}  (${row.source})\n`).join('');
}
