/**
 * What a host has learnt from signed release statements, per mini repository
 * (docs/releasing.md): keys added and key IDs retired by key statements (key-ring.ts), and
 * versions halted by halt statements. Host state beside the rollback record, not cache:
 *
 *   $XDG_STATE_HOME/run-docker/releases.json   (default ~/.local/state/run-docker/, 0700)
 *   {"repositories": {"127.0.0.1:5000/team/mini": {"addedKeys": [{keyId, publicKey}],
 *     "retiredKeys": ["…"], "halted": ["20261202-000000"]}}}   (0600)
 *
 * A file of its own, not more fields in mini-versions.json: shims before 0.2.0 rewrite that
 * file with only what they know, and would drop these.
 */
import type { Logger, TrustedKey } from '../contract/contract';
import { compareTagOrder } from '../common/compare-tag-order';
import { hostPathModule, type HostPlatform } from '../common/host-platform';
import { readHostRecord, writeHostRecord, type HostRecordKind } from './host-record-file';
import type { KeyState } from './key-ring';
import { selectStateDir } from './select-host-folders';

const FILE_NAME = 'releases.json';
const MAX_STATE_BYTES = 1024 * 1024;
/** Halted versions kept per repository, newest first: far more than a team ever halts. */
const MAX_HALTED = 1000;

export interface ReleaseState {
  keys: KeyState;
  /** Versions halted by a signed halt statement this host has seen. */
  halted: string[];
}

type StateFile = Map<string, ReleaseState>;

/** `$XDG_STATE_HOME/run-docker/releases.json`, beside mini-versions.json. */
export function releaseStatePath(
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
  platform: HostPlatform = process.platform,
): string {
  return hostPathModule(platform).join(selectStateDir(platform, env, homeDir).dir, FILE_NAME);
}

/** The release state in the state folder this call uses (locate-own-folder.ts: as root, root's own). */
export function releaseStateFile(stateDir: string, platform: HostPlatform = process.platform): string {
  return hostPathModule(platform).join(stateDir, FILE_NAME);
}

export const EMPTY_RELEASE_STATE: ReleaseState = { keys: { added: [], retired: [] }, halted: [] };

/**
 * The state of `repository`. Missing: empty. Unreadable or damaged: one warning, then empty,
 * as for the rollback record (mini-version-record.ts): whoever can damage the file can as well
 * empty it, or change the tiny in the config file beside it.
 */
export async function readReleaseState(file: string, repository: string, log: Logger): Promise<ReleaseState> {
  return (await readHostRecord(file, STATE, log)).get(repository) ?? EMPTY_RELEASE_STATE;
}

const STATE: HostRecordKind<StateFile> = {
  name: "this host's record of key rotations and halts",
  lost: "only the pinned tiny's keys are trusted this time",
  rewrittenBy: 'the next rotation or halt writes it again',
  maxBytes: MAX_STATE_BYTES,
  parse: parseStateFile,
  empty: () => new Map(),
};

function parseStateFile(text: string): StateFile | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const repositories = (value as { repositories?: unknown } | null)?.repositories;
  if (typeof repositories !== 'object' || repositories === null || Array.isArray(repositories)) return undefined;
  const state: StateFile = new Map();
  for (const [repository, entry] of Object.entries(repositories)) {
    const parsed = parseEntry(entry);
    if (!parsed) return undefined;
    state.set(repository, parsed);
  }
  return state;
}

function parseEntry(value: unknown): ReleaseState | undefined {
  const { addedKeys, retiredKeys, halted } = (value ?? {}) as Record<string, unknown>;
  if (!Array.isArray(addedKeys) || !Array.isArray(retiredKeys) || !Array.isArray(halted)) return undefined;
  const keysValid = addedKeys.every((key: unknown) => {
    const { keyId, publicKey } = (key ?? {}) as Partial<Record<keyof TrustedKey, unknown>>;
    return typeof keyId === 'string' && typeof publicKey === 'string';
  });
  if (!keysValid || !retiredKeys.every((keyId) => typeof keyId === 'string')) return undefined;
  if (!halted.every((version) => typeof version === 'string' && compareTagOrder(version, version) === 0))
    return undefined;
  return {
    keys: { added: addedKeys as TrustedKey[], retired: retiredKeys },
    halted: halted as string[],
  };
}

/**
 * Writes the state of `repository` (atomically, the rest of the file as it is). Retired key
 * IDs and halted versions are only ever added to what the file holds, never dropped by a
 * writer that read it earlier. A failure costs one warning: the statements are followed
 * again from the next mini that carries them.
 */
export async function writeReleaseState(
  file: string,
  repository: string,
  state: ReleaseState,
  log: Logger,
): Promise<void> {
  const all = await readHostRecord(file, STATE, { warn: () => undefined, debug: (line) => log.debug(line) });
  const before = all.get(repository) ?? EMPTY_RELEASE_STATE;
  const retired = [...new Set([...before.keys.retired, ...state.keys.retired])];
  const merged: ReleaseState = {
    keys: {
      added: [...before.keys.added, ...state.keys.added].filter(
        (key, index, keys) =>
          !retired.includes(key.keyId) && keys.findIndex((other) => other.keyId === key.keyId) === index,
      ),
      retired,
    },
    halted: [...new Set([...before.halted, ...state.halted])]
      .sort((a, b) => compareTagOrder(b, a) ?? 0)
      .slice(0, MAX_HALTED),
  };
  all.set(repository, merged);
  const repositories = Object.fromEntries(
    [...all].map(([name, entry]) => [
      name,
      { addedKeys: entry.keys.added, retiredKeys: entry.keys.retired, halted: entry.halted },
    ]),
  );
  await writeHostRecord(file, `${JSON.stringify({ repositories }, null, 2)}\n`, log, {
    what: 'key rotations and halts',
    consequence: 'they are followed again from the next mini that carries them',
  });
}
