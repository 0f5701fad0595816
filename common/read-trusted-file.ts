/**
 * Files that decide what runs are read only when nobody but the user (or root) could have
 * written them: run-docker's config names the trust root (tiny), docker's config.json and
 * contexts name the engine whose images run and the credential helpers that are started.
 * Root with another user's HOME (sudo keeping HOME, a service account's home) must not take
 * its orders from that user's files (docs/trust.md, "Privilege does not borrow trust").
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FileOwner } from './host-platform';
import { findForeignWriter, readPrivateFileStampedSync, UnreadableFile } from './read-private-file';

export interface ReadTrustedFileOptions {
  /** Who may have written it (besides root); undefined: no owner checks (Windows, host-platform.ts). */
  user: FileOwner | undefined;
  /** Larger files are refused, not read in part. */
  maxBytes: number;
}

/**
 * The file's bytes, or undefined when it does not exist. UnreadableFile when it is not a
 * bounded regular file, or (`writable-by-others`) when another user could have written it or
 * the folder holding it. A symlink to a regular file is followed: dotfile managers install
 * config files that way.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- synchronous inside, as readPrivateFile; a throw still rejects
export async function readTrustedFile(path: string, options: ReadTrustedFileOptions): Promise<Buffer | undefined> {
  return readTrustedFileSync(path, options);
}

/** readTrustedFile for callers that must stay synchronous. */
export function readTrustedFileSync(path: string, options: ReadTrustedFileOptions): Buffer | undefined {
  refuseForeignFolder(path, options.user);
  return readPrivateFileStampedSync(path, {
    maxBytes: options.maxBytes,
    followSymlink: true,
    writableOnlyBy: options.user,
  })?.bytes;
}

/** Another user who may write the folder could replace the file: refused like the file itself. */
function refuseForeignFolder(path: string, user: FileOwner | undefined): void {
  if (user === undefined) return;
  // A folder that cannot be looked at (absent, most often) has no writer to refuse; reading
  // the file in it answers for itself.
  let folder;
  try {
    folder = statSync(dirname(path));
  } catch {
    return;
  }
  const writer = findForeignWriter(folder, user);
  // The sticky bit (/tmp) keeps others from replacing what is ours.
  if (writer && (folder.mode & 0o1000) === 0) {
    throw new UnreadableFile(
      path,
      'writable-by-others',
      `sits in the folder "${dirname(path)}", which can be changed by ${writer}`,
    );
  }
}
