/**
 * The shim's configuration: env > config file > built-in defaults, per key.
 * Pure: the caller reads the environment and the file.
 */
import type { EngineCli } from '../contract/contract';
import { parseEngineCli, readEngineCliEnv } from '../common/engine-cli-setting';
import { formatImageRef, formatRepository, isPinned, parseImageRef, type ImageRef } from '../common/image-ref';
import { RunDockerError } from '../common/run-docker-error';
import type { ShimFlags } from './read-shim-flags';
import { CHANNELS, type Channel } from './host-bucket';
import type { HostId } from './read-host-id';

/** Baked in at build time (RUN_DOCKER_DEFAULT_TINY / _MINI); absent: no default, and a host
 *  with nothing configured runs the payloads built into the shim. */
export interface ShimDefaults {
  tiny?: string;
  mini?: string;
}

export interface ConfigFile {
  path: string;
  /** Parsed JSON, or undefined when the file does not exist. */
  content: unknown;
}

export interface ConfigValue {
  ref: ImageRef;
  /** Where the value came from, for messages and `--show-config`: `default`, `file <path>`, `env <NAME>`. */
  source: string;
}

export interface ShimConfig {
  /** Undefined: no tiny configured anywhere, so the shim's built-in payloads run. */
  tiny: ConfigValue | undefined;
  /** A bare repository follows the newest mini; a tag or digest pins it. Undefined: none configured. */
  mini: ConfigValue | undefined;
  /** Run mini payloads without a trusted signature (with a warning each time): development only. */
  allowUnsigned: boolean;
  /** As ConfigValue.source. */
  allowUnsignedSource: string;
  /** Which CLI runs containers (docs/engines.md); undefined: the run payload chooses by the engine. */
  cli: { value: EngineCli; source: string } | undefined;
  /** Which hosts' turn in a staged rollout this host takes (docs/releasing.md): `stable` unless set. */
  channel: { value: Channel; source: string };
  /** This host's identity for rollout buckets, when set (else read-host-id.ts finds one). */
  hostId?: HostId;
}

const KEYS = { tiny: 'RUN_DOCKER_TINY', mini: 'RUN_DOCKER_MINI' } as const;

/**
 * `files` in precedence order (the user's, then the system-wide ones: read-config-file.ts);
 * each key comes from the environment, else the first file that sets it, else the default.
 */
export function resolveShimConfig(
  env: Readonly<Record<string, string | undefined>>,
  files: ConfigFile | readonly ConfigFile[] | undefined,
  defaults: ShimDefaults,
): ShimConfig {
  const present = (files === undefined ? [] : 'path' in files ? [files] : files).filter(
    (file) => file.content !== undefined,
  );
  const read = present.map((file) => ({ file, values: readFileValues(file) }));
  const pick = (key: keyof typeof KEYS): ConfigValue | undefined => {
    const fromEnv = env[KEYS[key]];
    if (fromEnv !== undefined && fromEnv !== '') {
      return { ref: parseImageRef(fromEnv, `${KEYS[key]}`), source: `env ${KEYS[key]}` };
    }
    for (const { file, values } of read) {
      const value = values[key];
      if (value !== undefined)
        return { ref: parseImageRef(value, `"${key}" in ${file.path}`), source: `file ${file.path}` };
    }
    const fallback = defaults[key];
    return fallback ? { ref: parseImageRef(fallback, `built-in default ${key}`), source: 'default' } : undefined;
  };
  const tiny = pick('tiny');
  if (tiny && !isPinned(tiny.ref)) {
    throw new RunDockerError(
      `the tiny image "${formatRepository(tiny.ref)}" (from ${tiny.source}) has no tag or digest`,
      'Pin tiny to the exact image the shim should trust, preferably by digest: repo@sha256:…',
    );
  }
  const fromEnv = env.RUN_DOCKER_ALLOW_UNSIGNED;
  const allowUnsigned =
    fromEnv !== undefined && fromEnv !== ''
      ? { value: fromEnv === '1', source: 'env RUN_DOCKER_ALLOW_UNSIGNED' }
      : (present.map(readAllowUnsigned).find((setting) => setting !== undefined) ?? {
          value: false,
          source: 'default',
        });
  const hostId = pickText(env, present, 'hostId', 'RUN_DOCKER_HOST_ID');
  const channel = pickText(env, present, 'channel', 'RUN_DOCKER_CHANNEL');
  if (channel && !(CHANNELS as readonly string[]).includes(channel.id)) {
    throw new RunDockerError(
      `the channel "${channel.id}" (from ${channel.source}) is not one run-docker knows`,
      `Write ${CHANNELS.map((name) => `"${name}"`).join(' or ')} (docs/releasing.md), or remove it to follow stable.`,
    );
  }
  return {
    tiny,
    mini: pick('mini'),
    allowUnsigned: allowUnsigned.value,
    allowUnsignedSource: allowUnsigned.source,
    cli: readCli(env, present),
    channel: channel
      ? { value: channel.id as Channel, source: channel.source }
      : { value: 'stable', source: 'default' },
    ...(hostId ? { hostId } : {}),
  };
}

/** RUN_DOCKER_CLI, else the first file's "cli"; either must name a CLI run-docker knows. */
function readCli(
  env: Readonly<Record<string, string | undefined>>,
  files: readonly ConfigFile[],
): { value: EngineCli; source: string } | undefined {
  const fromEnv = readEngineCliEnv(env);
  if (fromEnv) return fromEnv;
  for (const file of files) {
    const content = file.content;
    const value =
      typeof content === 'object' && content !== null ? (content as Record<string, unknown>).cli : undefined;
    if (value !== undefined)
      return { value: parseEngineCli(value, `"cli" in the config file "${file.path}"`), source: `file ${file.path}` };
  }
  return undefined;
}

/** The longest host ID or channel name taken: an identity is a few dozen characters. */
const MAX_SETTING_LENGTH = 256;

/**
 * A text setting from `envName`, else the first file that sets `key` (never a default); its
 * value as `id`. Printable characters only, at most MAX_SETTING_LENGTH: a value is never shown
 * whole (a host ID is only hashed), so a typo must not hide in invisible characters.
 */
function pickText(
  env: Readonly<Record<string, string | undefined>>,
  files: readonly ConfigFile[],
  key: 'hostId' | 'channel',
  envName: string,
): HostId | undefined {
  const check = (value: unknown, where: string): string => {
    if (typeof value !== 'string' || value === '' || value.length > MAX_SETTING_LENGTH || /[^\x21-\x7e]/.test(value))
      throw new RunDockerError(
        `"${key}" from ${where} must be 1 to ${MAX_SETTING_LENGTH} printable characters without spaces`,
        key === 'hostId'
          ? 'Write a name or number that is this host\'s alone ("web-042"), or remove it to use /etc/machine-id.'
          : 'Write "stable" or "canary", or remove it.',
      );
    return value;
  };
  const fromEnv = env[envName];
  if (fromEnv !== undefined && fromEnv !== '')
    return { id: check(fromEnv, `env ${envName}`), source: `env ${envName}` };
  for (const file of files) {
    const content = file.content;
    const value =
      typeof content === 'object' && content !== null && !Array.isArray(content)
        ? (content as Record<string, unknown>)[key]
        : undefined;
    if (value !== undefined) return { id: check(value, `the config file "${file.path}"`), source: `file ${file.path}` };
  }
  return undefined;
}

/** The file's allowUnsigned, or undefined when it does not set one. */
function readAllowUnsigned(file: ConfigFile): { value: boolean; source: string } | undefined {
  const content = file.content;
  const value =
    typeof content === 'object' && content !== null ? (content as Record<string, unknown>).allowUnsigned : undefined;
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    throw new RunDockerError(
      `"allowUnsigned" in the config file "${file.path}" must be true or false`,
      'Write "allowUnsigned": false, or remove it.',
    );
  }
  return { value, source: `file ${file.path}` };
}

function readFileValues(file: ConfigFile | undefined): Partial<Record<keyof typeof KEYS, string>> {
  if (file?.content === undefined) return {};
  const content = file.content;
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new RunDockerError(
      `the config file "${file.path}" must hold a JSON object`,
      'Write it as {"tiny": "repo@sha256:…", "mini": "repo"} or remove it to use the defaults.',
    );
  }
  const values: Partial<Record<keyof typeof KEYS, string>> = {};
  for (const key of Object.keys(KEYS) as (keyof typeof KEYS)[]) {
    const value = (content as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      throw new RunDockerError(
        `"${key}" in the config file "${file.path}" must be a string`,
        'Write an image reference such as "127.0.0.1:5000/run-docker/mini".',
      );
    }
    values[key] = value;
  }
  return values;
}

/**
 * Pure: the warning for a tiny pinned by tag and not by digest, or undefined. The tiny's
 * manifest names the keys every mini must be signed with (docs/trust.md): pinned by tag,
 * whoever can push that tag chooses them. Said on `--show-config` and `--version`, where an
 * operator looks at what a host trusts, not on every run.
 */
export function describeTagPinnedTiny(tiny: ConfigValue | undefined): string | undefined {
  if (tiny === undefined || tiny.ref.digest !== undefined) return undefined;
  const ref = formatImageRef(tiny.ref);
  return `the tiny image "${ref}" (from ${tiny.source}) is pinned by tag, not by digest: whoever can push that tag chooses the keys this host trusts; pin it as ${formatRepository(tiny.ref)}@sha256:… ("docker image inspect --format '{{index .RepoDigests 0}}' ${ref}" prints it)`;
}

/** `--local` among the leading options (read-shim-flags.ts), or RUN_DOCKER_LOCAL=1. */
export function isLocalMode(
  flags: Pick<ShimFlags, 'local'>,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  return flags.local || env.RUN_DOCKER_LOCAL === '1';
}
