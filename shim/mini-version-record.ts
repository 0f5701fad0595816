/**
 * The anti-rollback record: per mini repository, the highest signed version this host has
 * run. A host never runs a lower one unless a tag is pinned (docs/trust.md, "Rollback").
 *
 *   $XDG_STATE_HOME/run-docker/mini-versions.json   (default ~/.local/state/run-docker/, 0700)
 *   {"minis": {"127.0.0.1:5000/team/mini": "20261201-000000", …}}   (0600)
 *
 * Host state, not cache: deleting the cache must not reset it. All reads and writes of the
 * file are here; its folder is the state folder (locate-own-folder.ts), which root keeps
 * where only root can change it, so another user cannot hide the record from root.
 */
import type { Logger } from '../contract/contract';
import { compareTagOrder } from '../common/compare-tag-order';
import { hostPathModule, type HostPlatform } from '../common/host-platform';
import { readHostRecord, writeHostRecord, type HostRecordKind } from './host-record-file';
import { selectStateDir } from './select-host-folders';

const FILE_NAME = 'mini-versions.json';
/** One line per mini repository a host follows: far below this. */
const MAX_RECORD_BYTES = 256 * 1024;

/** `$XDG_STATE_HOME/run-docker/mini-versions.json`, default `~/.local/state/run-docker/mini-versions.json` (Windows: select-host-folders.ts); where root keeps it: locate-own-folder.ts. */
export function miniVersionRecordPath(
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
  platform: HostPlatform = process.platform,
): string {
  return hostPathModule(platform).join(selectStateDir(platform, env, homeDir).dir, FILE_NAME);
}

/** The record in the state folder this call uses (locate-own-folder.ts: as root, root's own). */
export function miniVersionRecordFile(stateDir: string, platform: HostPlatform = process.platform): string {
  return hostPathModule(platform).join(stateDir, FILE_NAME);
}

/** Repository (formatRepository form) → highest version run. A Map: names are data, never object keys. */
type VersionRecord = Map<string, string>;

const RECORD: HostRecordKind<VersionRecord> = {
  name: 'the record of mini versions this host has run',
  lost: 'older minis are not refused this time',
  rewrittenBy: 'the next run writes it again',
  maxBytes: MAX_RECORD_BYTES,
  parse: parseRecord,
  empty: () => new Map(),
};

function parseRecord(text: string): VersionRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const minis = (value as { minis?: unknown } | null)?.minis;
  if (typeof minis !== 'object' || minis === null || Array.isArray(minis)) return undefined;
  const record: VersionRecord = new Map();
  for (const [repository, version] of Object.entries(minis)) {
    if (typeof version !== 'string' || compareTagOrder(version, version) === undefined) return undefined;
    record.set(repository, version);
  }
  return record;
}

/** The highest version of `repository` (formatRepository form) this host has run, if any. */
export async function readHighestMiniVersion(
  file: string,
  repository: string,
  log: Logger,
): Promise<string | undefined> {
  return (await readHostRecord(file, RECORD, log)).get(repository);
}

/**
 * Raises the record of `repository` to `version` when it is higher (never lowers it).
 * Atomic: a complete temp file in the same folder is renamed over the old one. Two shims
 * recording at once may lose one update; the next run records again. Failure to write
 * costs one warning, never the run.
 */
export async function recordMiniVersion(file: string, repository: string, version: string, log: Logger): Promise<void> {
  const record = await readHostRecord(file, RECORD, { warn: () => undefined, debug: (message) => log.debug(message) });
  const current = record.get(repository);
  const order = current === undefined ? 1 : compareTagOrder(version, current);
  if (order === undefined || order <= 0) return;
  await writeHostRecord(
    file,
    `${JSON.stringify({ minis: Object.fromEntries(record.set(repository, version)) }, null, 2)}\n`,
    log,
    {
      what: `that this host ran mini ${version}`,
      consequence: 'older minis may run later without a word',
    },
  );
}
