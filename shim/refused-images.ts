/**
 * Images whose payload this shim refused for what their own bytes hold, remembered so the
 * next call skips them at no cost (docs/trust.md, "endless data"): without it, a bad newest
 * mini was read again, up to its bounds, on every call of every host.
 *
 * `<cacheRoot>/refused/<image id hex>.json` = {kind, shim, reason, message}. Keyed by image
 * ID, the sha256 of the image's config, which names its layers: the same ID is the same bytes,
 * under any tag, pulled again or not. Only verdicts on those bytes alone are written (a
 * manifest that does not match the label, a missing or changed entry, a file past its
 * bound, another contract version), and each names the shim version that reached it: another
 * shim, whose rules or bounds may differ, decides again. A refusal that depends on anything
 * else is never written: the tiny's keys or allowUnsigned (untrusted), the tag (signed as
 * another version), the host's record (rollback), the registry (a pull), the engine (an
 * export that failed). So a good image is never refused from here; at worst a bad one is
 * read again. The folder is the cache's (checked by prepareCache: the user's alone), every
 * file is read with a bound, and the folder keeps at most MAX_REFUSALS of them.
 */
import { join } from 'node:path';
import type { Logger, PayloadKind } from '../contract/contract';
import { lstat, readdir, rm } from '../common/fs-async';
import { ignoreFailure } from '../common/ignore-failure';
import { makeDirs } from '../common/private-dir';
import { readPrivateFile } from '../common/read-private-file';
import { writeFileAtomically } from '../common/write-file-atomically';
import { PayloadRejected } from './verify-payload';

/** Folder under the cache root. */
export const REFUSED_FOLDER = 'refused';
/** Refusals kept at most; the oldest go first. Each is a few hundred bytes. */
export const MAX_REFUSALS = 256;
const MAX_RECORD_BYTES = 4 * 1024;
const MAX_MESSAGE_LENGTH = 500;

export interface Refusal {
  kind: PayloadKind;
  /** The shim version that reached the verdict. */
  shim: string;
  reason: 'corrupt' | 'incompatible';
  message: string;
}

export function refusalPath(cacheRoot: string, imageId: string): string {
  return join(cacheRoot, REFUSED_FOLDER, `${imageId.replace(/^sha256:/, '')}.json`);
}

/** Pure: whether this verdict depends on the image's bytes alone (and this shim), and so may be remembered. */
export function isImageVerdict(error: PayloadRejected): error is PayloadRejected & { reason: Refusal['reason'] } {
  return error.reason === 'corrupt' || error.reason === 'incompatible';
}

/** The refusal this shim remembered for the image as `kind`, as the error to throw, or undefined. */
export async function readRefusal(
  cacheRoot: string,
  imageId: string,
  kind: PayloadKind,
  shimVersion: string,
  log: Logger,
): Promise<PayloadRejected | undefined> {
  const file = refusalPath(cacheRoot, imageId);
  let refusal: Refusal | undefined;
  try {
    const bytes = await readPrivateFile(file, { maxBytes: MAX_RECORD_BYTES });
    refusal = bytes && parseRefusal(bytes.toString('utf8'));
  } catch (error) {
    log.debug(`ignoring the refusal record "${file}" (${(error as Error).message})`);
    return undefined;
  }
  if (refusal === undefined || refusal.kind !== kind || refusal.shim !== shimVersion) return undefined;
  log.debug(`"${imageId}" was refused before (${refusal.message}); not read again ("${file}")`);
  return new PayloadRejected(refusal.message, refusal.reason);
}

/** Pure: the refusal in `text`, or undefined for anything but a well-formed one. */
export function parseRefusal(text: string): Refusal | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { kind, shim, reason, message } = (value ?? {}) as Partial<Record<keyof Refusal, unknown>>;
  if (kind !== 'tiny' && kind !== 'mini') return undefined;
  if (reason !== 'corrupt' && reason !== 'incompatible') return undefined;
  if (typeof shim !== 'string' || typeof message !== 'string' || message.length > MAX_MESSAGE_LENGTH) return undefined;
  return { kind, shim, reason, message };
}

/** Writes the refusal (keeping the folder within MAX_REFUSALS); a failure only costs the next call a read. */
export async function rememberRefusal(
  cacheRoot: string,
  imageId: string,
  refusal: Refusal,
  log: Logger,
): Promise<void> {
  const file = refusalPath(cacheRoot, imageId);
  const message =
    refusal.message.length > MAX_MESSAGE_LENGTH
      ? `${refusal.message.slice(0, MAX_MESSAGE_LENGTH - 1)}…`
      : refusal.message;
  try {
    const folder = join(cacheRoot, REFUSED_FOLDER);
    await makeDirs(folder);
    await pruneRefusals(folder, MAX_REFUSALS - 1);
    await writeFileAtomically(file, JSON.stringify({ ...refusal, message }));
  } catch (error) {
    log.debug(`could not remember the refusal in "${file}": ${(error as Error).message}`);
  }
}

/** Removes the oldest records until at most `keep` are left. */
async function pruneRefusals(folder: string, keep: number): Promise<void> {
  const names = (await readdir(folder)).filter((name) => name.endsWith('.json'));
  if (names.length <= keep) return;
  const dated = await Promise.all(
    names.map(async (name) => ({
      name,
      mtimeMs: await lstat(join(folder, name)).then(
        (info) => info.mtimeMs,
        () => 0,
      ),
    })),
  );
  dated.sort((a, b) => a.mtimeMs - b.mtimeMs);
  for (const { name } of dated.slice(0, dated.length - keep))
    await ignoreFailure(rm(join(folder, name), { force: true }), 'another call may have removed it');
}
