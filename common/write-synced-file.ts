// Writes a file and syncs it to disk before the caller renames it into place.
import { close, fsync, open, writeFile } from './fs-async';

export interface SyncedFileOptions {
  /** Permission bits of a new file. */
  mode: number;
  /** `wx`: never write through something already there under that name. */
  flag: string;
}

/**
 * writeFile, then fsync, then close. `writeFile(…, { flush: true })` does the same on
 * Node.js 20.10 and later, but Node.js 18 (Debian 12's) ignores the option without a word:
 * the data would still be in the page cache when the caller renames the file over the old
 * one, and a power cut could leave an empty file under the final name.
 */
export async function writeSyncedFile(
  path: string,
  data: string | Uint8Array,
  options: SyncedFileOptions,
): Promise<void> {
  const fd = await open(path, options.flag, options.mode);
  try {
    await writeFile(fd, data);
    await fsync(fd);
  } finally {
    await close(fd);
  }
}
