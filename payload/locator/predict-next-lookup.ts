/**
 * Which repository a call looked up next after another, per working folder: a call in a
 * project's folder looks up mini's tags, then that project's; the next call there will most
 * likely do the same, so the lookup of mini can send the project's first request at once,
 * beside its own (registry/transport/early-answers.ts). A wrong guess costs one request
 * nobody takes, never a wrong answer: an early answer serves only the identical request.
 *
 * Kept in `registry-lookups.json` in the payload cache folder (private: 0700, checked by the
 * shim), 0600, written whole and renamed, and only when it changes: a call that does what the
 * last one did writes nothing. At most MAX_ENTRIES folders, the most recent kept.
 */
import { join } from 'node:path';
import type { BaseContext, Logger } from '../../contract/contract';
import { readPrivateFile } from '../../common/read-private-file';
import { writeFileAtomically } from '../../common/write-file-atomically';
import { processEarlyAnswers } from './registry/transport/early-answers';

export const LOOKUP_MEMORY_FILE = 'registry-lookups.json';
const MAX_FILE_BYTES = 64 * 1024;
export const MAX_ENTRIES = 64;

/** After `after` (a repository, `registry/path`) in `folder`, the call looked up `next`. */
export interface NextLookup {
  folder: string;
  after: string;
  next: string;
  /** Epoch ms of the call that saw it, to keep the most recent. */
  at: number;
}

export interface LookupMemory {
  version: 1;
  entries: NextLookup[];
}

/** Pure: the file's entries, well-formed ones only; anything else reads as empty. */
export function parseLookupMemory(text: string): LookupMemory {
  const empty: LookupMemory = { version: 1, entries: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return empty;
  }
  if (typeof raw !== 'object' || raw === null || (raw as { version?: unknown }).version !== 1) return empty;
  const entries = (raw as { entries?: unknown }).entries;
  if (!Array.isArray(entries)) return empty;
  return {
    version: 1,
    entries: entries.filter(
      (entry: unknown): entry is NextLookup =>
        typeof entry === 'object' &&
        entry !== null &&
        typeof (entry as NextLookup).folder === 'string' &&
        typeof (entry as NextLookup).after === 'string' &&
        typeof (entry as NextLookup).next === 'string' &&
        Number.isFinite((entry as NextLookup).at),
    ),
  };
}

/** Pure: the repository looked up after `after` in `folder` last time, if any. */
export function selectNextLookup(memory: LookupMemory, folder: string, after: string): string | undefined {
  return memory.entries.find((entry) => entry.folder === folder && entry.after === after)?.next;
}

/**
 * Pure: the memory with `next` (undefined: nothing) after `after` in `folder`, the most
 * recent MAX_ENTRIES kept; undefined when that is what it holds already.
 */
export function updateLookupMemory(
  memory: LookupMemory,
  folder: string,
  after: string,
  next: string | undefined,
  now: number,
): LookupMemory | undefined {
  if (selectNextLookup(memory, folder, after) === next) return undefined;
  const others = memory.entries.filter((entry) => entry.folder !== folder || entry.after !== after);
  const entries = next === undefined ? others : [{ folder, after, next, at: now }, ...others];
  return { version: 1, entries: entries.sort((a, b) => b.at - a.at).slice(0, MAX_ENTRIES) };
}

/** The memory in `cacheDir`; a file that cannot be read counts as empty (one debug line): it costs only speed. */
export async function readLookupMemory(cacheDir: string, log?: Logger): Promise<LookupMemory> {
  const file = join(cacheDir, LOOKUP_MEMORY_FILE);
  try {
    return parseLookupMemory((await readPrivateFile(file, { maxBytes: MAX_FILE_BYTES }))?.toString('utf8') ?? '');
  } catch (error) {
    log?.debug(`ignoring "${file}": ${(error as Error).message}`);
    return parseLookupMemory('');
  }
}

/** Records `next` (undefined: nothing) after `after` in `folder`, when that changes the file. Never fails. */
export async function rememberNextLookup(
  cacheDir: string,
  folder: string,
  after: string,
  next: string | undefined,
  log?: Logger,
  now: number = Date.now(),
): Promise<void> {
  const file = join(cacheDir, LOOKUP_MEMORY_FILE);
  try {
    // Read again just before writing: concurrent calls in other folders lose nothing worse than a guess.
    const updated = updateLookupMemory(await readLookupMemory(cacheDir, log), folder, after, next, now);
    if (updated) await writeFileAtomically(file, JSON.stringify(updated));
  } catch (error) {
    log?.debug(`cannot write "${file}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/**
 * For a call that looks nothing more up (a pinned image, a build): what the last call in this
 * folder looked up after this call's last lookup is forgotten, so that the next such call
 * does not ask it early for nobody. Writes only when there was something to forget.
 */
export async function noteNoFurtherLookup(ctx: BaseContext): Promise<void> {
  const last = processEarlyAnswers().lookups.at(-1);
  const folder = currentFolder();
  if (typeof last?.predicted !== 'string' || ctx.cacheDir === undefined || folder === undefined) return;
  last.predicted = null;
  await rememberNextLookup(ctx.cacheDir, folder, last.repository, undefined, ctx.log);
}

/** The working folder, the key of what a call looks up; undefined when it is gone. */
export function currentFolder(): string | undefined {
  try {
    return process.cwd();
  } catch {
    return undefined;
  }
}
