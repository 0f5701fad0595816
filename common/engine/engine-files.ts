/**
 * Whether the engine sees this host's files: bind mounts name folders on the engine's host,
 * which is this host only for some engines (docs/engine-and-credentials.md, "Engines on
 * another host"). Shared by the run payload, which decides and records it, and the shim's
 * --show-config, which reports the record without asking the engine.
 *
 * - A unix socket (or a Windows named pipe) is an engine on this host: it shares its files,
 *   Docker Desktop's VM through its file sharing. Nothing is asked.
 * - tcp:// and ssh:// may reach any host, this one included (a relay, ssh to localhost), so
 *   the engine is asked (payload/run/read-engine-files.ts): a folder made here for the
 *   question, under a random name, is offered as a bind source. The answer is kept a minute
 *   per address, in the payload cache.
 * - `sharesFiles` in run-docker's config (select-engine-settings.ts) decides instead, for an
 *   engine the question cannot settle (a unix socket forwarded from another host, Podman).
 */
import { join } from 'node:path';
import { currentUser, readPrivateFile } from '../read-private-file';

/** The record of answers, in the payload cache (`<cache root>/mini`). */
export const ENGINE_FILES_RECORD = 'engine-files.json';
/** An answer is used this long; then the engine is asked again (a minute, as the /info cache). */
export const ENGINE_FILES_TTL_MS = 60_000;
const RECORD_LIMIT_BYTES = 64 * 1024;

export interface FileSharing {
  /** Bind mounts name this host's folders. */
  shares: boolean;
  /** Why, completing "the engine … (WHY)": for --dry-run, --show-config and debug lines. */
  why: string;
}

/** Pure: an address the engine listens on here (unix socket, named pipe), as opposed to a network address. */
export function isHostSocket(host: string): boolean {
  return /^(?:unix|npipe):/.test(host);
}

export type ProbeVerdict = 'shares' | 'separate' | 'unknown';

/**
 * Pure: what the engine's answer to a create with bind sources [`probe`, `control`] says.
 * `probe` exists here and nowhere else; `control` exists nowhere. An engine that checks bind
 * sources before images (dockerd: moby daemon/create.go) names the first one missing on its
 * host: `control` when it sees `probe`, `probe` when it does not. Any other answer (an engine
 * that looks for the image first, as Podman does, or another refusal) settles nothing.
 */
export function readProbeAnswer(
  answer: { statusCode: number; message: string },
  probe: string,
  control: string,
): ProbeVerdict {
  const missing = findMissingBindSource(answer, [probe, control]);
  if (missing === control) return 'shares';
  if (missing === probe) return 'separate';
  return 'unknown';
}

/**
 * Pure: which of `sources` the engine named as missing on its host in its refusal of a
 * create (400, "bind source path does not exist: PATH"), or undefined for any other answer.
 */
export function findMissingBindSource(
  answer: { statusCode: number; message: string },
  sources: readonly string[],
): string | undefined {
  if (answer.statusCode !== 400 || !/bind source path does not exist/i.test(answer.message)) return undefined;
  // The path must end where the message or a word does: a folder's path starts the paths inside it.
  return sources.find((path) => new RegExp(`(?:^|[\\s:"'])${escapeRegExp(path)}(?:$|[\\s"',;])`).test(answer.message));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface RecordEntry {
  host: string;
  shares: boolean;
  /** ms since the epoch. */
  checkedAt: number;
}

/** Pure: the entries of a record's text; anything damaged counts as no record. */
export function parseRecord(text: string | undefined): RecordEntry[] {
  if (text === undefined) return [];
  try {
    const value = JSON.parse(text) as { version?: unknown; entries?: unknown };
    if (value?.version !== 1 || !Array.isArray(value.entries)) return [];
    return value.entries
      .filter(
        (entry: Partial<RecordEntry> | null): entry is RecordEntry =>
          typeof entry?.host === 'string' &&
          typeof entry.shares === 'boolean' &&
          typeof entry.checkedAt === 'number' &&
          Number.isFinite(entry.checkedAt),
      )
      .map(({ host, shares, checkedAt }) => ({ host, shares, checkedAt }));
  } catch {
    return [];
  }
}

/** Pure: the record's text with `entry` first, others kept (eight addresses at most). */
export function formatRecord(entries: readonly RecordEntry[], entry: RecordEntry): string {
  return JSON.stringify({
    version: 1,
    entries: [entry, ...entries.filter((other) => other.host !== entry.host)].slice(0, 8),
  });
}

/** Pure: the answer for `host` in `entries` still in use at `now`, if any. */
export function findFreshEntry(entries: readonly RecordEntry[], host: string, now: number): RecordEntry | undefined {
  const entry = entries.find((candidate) => candidate.host === host);
  const age = entry === undefined ? -1 : now - entry.checkedAt;
  return entry && age >= 0 && age < ENGINE_FILES_TTL_MS ? entry : undefined;
}

/** The record in `cacheDir` (a private folder: the answer decides what is mounted). */
export async function readEngineFilesRecord(cacheDir: string): Promise<RecordEntry[]> {
  try {
    const bytes = await readPrivateFile(join(cacheDir, ENGINE_FILES_RECORD), {
      maxBytes: RECORD_LIMIT_BYTES,
      writableOnlyBy: currentUser(),
    });
    return parseRecord(bytes?.toString('utf8'));
  } catch {
    // Unreadable or someone else's: asked again, never trusted.
    return [];
  }
}

/** Pure: "shares this host's files" or "does not share this host's files", with why. */
export function describeFileSharing(sharing: FileSharing): string {
  return `${sharing.shares ? 'shares' : 'does not share'} this host's files (${sharing.why})`;
}
