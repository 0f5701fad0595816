/**
 * Installs `data` as `file`, whole or not at all: written to a temporary file beside it
 * (O_EXCL: never through something planted under that name), synced, then renamed over
 * `file`, so a reader sees the old content or the new, never a part. A failure leaves no
 * temporary file behind and is the caller's to weigh (most caches only lose speed).
 */
import { loadCrypto } from './lazy-builtins';
import { rename, rm } from './fs-async';
import { basename, dirname, join } from 'node:path';
import { writeSyncedFile } from './write-synced-file';
import { ignoreFailure } from './ignore-failure';

export async function writeFileAtomically(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const partial = join(
    dirname(file),
    `.${basename(file)}.${process.pid}-${loadCrypto().randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    await writeSyncedFile(partial, data, { mode, flag: 'wx' });
    await rename(partial, file);
  } catch (error) {
    await ignoreFailure(rm(partial, { force: true }), 'the failed write is the error to report');
    throw error;
  }
}
