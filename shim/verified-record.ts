/**
 * What an earlier call verified about a cached payload, so that a warm call need not hash it
 * and check its signature again: hashing ~200 kB and verifying an ed25519 signature meant
 * loading node:crypto, ~10 ms of every call (docs/performance.md).
 *
 * `<cacheRoot>/verified/<image id hex>.json` holds, for each file of the payload, its stamp
 * (read-private-file.ts: device, inode, size, mtime and ctime) as it was when its sha256
 * matched, and the key its signature verified with. A file whose stamp is unchanged has not
 * been written since, so it still matches; any other file is hashed again, exactly as before.
 * The record is as trusted as the cache folder it sits in, which nobody but the user can
 * write (prepareCache): whoever could forge it could as well replace the payload's V8 code
 * cache, which runs as it is (docs/trust.md, "Code caches").
 */
import { dirname, join } from 'node:path';
import type { Logger, TrustedKey } from '../contract/contract';
import { makeDirs } from '../common/private-dir';
import { readPrivateFile, type FileStamp } from '../common/read-private-file';
import { writeFileAtomically } from '../common/write-file-atomically';

/** Folder under the cache root. */
export const VERIFIED_FOLDER = 'verified';

/**
 * A file changed within this long before it was hashed is not recorded: its ctime is kept
 * at the kernel's tick (a few ms), so a write right after the hash could leave it unchanged.
 */
export const SETTLED_AFTER_MS = 1000;

export interface VerifiedRecord {
  /** File name → the stamp's identity when its sha256 matched. */
  files: Record<string, string>;
  /** The key the manifest's signature verified with (mini payloads). */
  signedBy?: TrustedKey;
}

export function verifiedRecordPath(cacheRoot: string, imageId: string): string {
  return join(cacheRoot, VERIFIED_FOLDER, `${imageId.replace(/^sha256:/, '')}.json`);
}

/** The record, or undefined when there is none or it is not one (then everything is checked). */
export async function readVerifiedRecord(file: string, log: Logger): Promise<VerifiedRecord | undefined> {
  try {
    const bytes = await readPrivateFile(file, { maxBytes: 64 * 1024 });
    return bytes === undefined ? undefined : parseVerifiedRecord(bytes.toString('utf8'));
  } catch (error) {
    log.debug(`ignoring the verification record "${file}" (${(error as Error).message})`);
    return undefined;
  }
}

/** Pure: the record in `text`, or undefined for anything but a well-formed one. */
export function parseVerifiedRecord(text: string): VerifiedRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { files, signedBy } = (value ?? {}) as Partial<Record<keyof VerifiedRecord, unknown>>;
  if (typeof files !== 'object' || files === null || !Object.values(files).every((stamp) => typeof stamp === 'string'))
    return undefined;
  const key = signedBy as Partial<TrustedKey> | undefined;
  if (key !== undefined && (typeof key.keyId !== 'string' || typeof key.publicKey !== 'string')) return undefined;
  return {
    files: files as Record<string, string>,
    ...(key ? { signedBy: { keyId: key.keyId as string, publicKey: key.publicKey as string } } : {}),
  };
}

/** Pure: whether the file read with `stamp` is the one the record says matched. */
export function isUnchanged(record: VerifiedRecord | undefined, name: string, stamp: FileStamp): boolean {
  return record?.files[name] === stamp.identity;
}

/** Pure: the record of files just hashed, those too fresh to trust their stamp left out (SETTLED_AFTER_MS). */
export function recordOf(stamps: ReadonlyMap<string, FileStamp>, nowMs: number, signedBy?: TrustedKey): VerifiedRecord {
  const files: Record<string, string> = {};
  for (const [name, stamp] of stamps) if (nowMs - stamp.changedAtMs >= SETTLED_AFTER_MS) files[name] = stamp.identity;
  return { files, ...(signedBy ? { signedBy } : {}) };
}

/** Writes the record; a failure only costs the next call a hash. */
export async function writeVerifiedRecord(file: string, record: VerifiedRecord, log: Logger): Promise<void> {
  try {
    await makeDirs(dirname(file));
    await writeFileAtomically(file, JSON.stringify(record));
  } catch (error) {
    log.debug(`could not write the verification record "${file}": ${(error as Error).message}`);
  }
}
