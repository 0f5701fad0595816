/**
 * Reads a file from a place a user or others could plant things (the cache, config
 * files) without ever blocking or reading without end: a FIFO would hang `readFile`, a
 * symlink to /dev/zero would read until memory runs out. The file is opened first and the
 * open handle is checked (no race between a check and the read): a regular file only, no
 * larger than a limit, read from that handle.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { selectFileOwner, type FileOwner, type HostPlatform } from './host-platform';

/** Why a file was not read; `message` reads as "its … <message>" or "the file … <message>". */
export class UnreadableFile extends Error {
  override readonly name = 'UnreadableFile' as const;
  constructor(
    readonly path: string,
    readonly reason: 'not-regular' | 'symlink' | 'too-large' | 'writable-by-others',
    message: string,
  ) {
    super(message);
  }
}

export interface ReadPrivateFileOptions {
  /** Larger files are refused, not read in part. */
  maxBytes: number;
  /**
   * Refuse a file that someone but this user (or root) could have written. See
   * findForeignWriter. Default: the process's user (currentUser), for every file: a cached
   * payload, verification record or token is only ever written by its user, and one that
   * another user could have written is theirs to choose (docs/trust.md). Root: root alone.
   */
  writableOnlyBy?: FileOwner;
  /**
   * Follow a symlink as the last part of the path (the target must still be a regular
   * file). Off for the cache, where run-docker only ever writes regular files; on for
   * config files, which dotfile managers (stow, home-manager) install as symlinks.
   */
  followSymlink?: boolean;
}

/** The file's bytes, or undefined when it does not exist; UnreadableFile when it is not a bounded regular file. */
export async function readPrivateFile(path: string, options: ReadPrivateFileOptions): Promise<Buffer | undefined> {
  return (await readPrivateFileStamped(path, options))?.bytes;
}

/**
 * readPrivateFile, with the file's stamp as it was when read: its device, inode, size and
 * modification and change times (ns). A file written in any way since has another stamp (a
 * replacing rename: another inode; a write in place: another ctime, which no user can set).
 *
 * Synchronous inside, asynchronous to its callers: these are small local files, and each call
 * through node:fs's thread pool costs a round trip between threads; a warm call made ~70 of
 * them, ~7 ms here (docs/performance.md). Open and read cannot block: O_NONBLOCK, and only a
 * regular file is read.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- synchronous inside on purpose (above); a throw still rejects
export async function readPrivateFileStamped(
  path: string,
  options: ReadPrivateFileOptions,
): Promise<{ bytes: Buffer; stamp: FileStamp } | undefined> {
  return readPrivateFileStampedSync(path, options);
}

/** readPrivateFileStamped for callers that must stay synchronous (a pure function's callback). */
export function readPrivateFileStampedSync(
  path: string,
  options: ReadPrivateFileOptions,
): { bytes: Buffer; stamp: FileStamp } | undefined {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below anyway).
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (options.followSymlink ? 0 : constants.O_NOFOLLOW);
  let fd: number;
  try {
    fd = openSync(path, flags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // O_NOFOLLOW on a symlink fails with ELOOP.
    if (code === 'ELOOP' && !options.followSymlink)
      throw new UnreadableFile(path, 'symlink', 'is not a regular file (a symlink)');
    throw error;
  }
  try {
    const info = fstatSync(fd, { bigint: true });
    if (!info.isFile())
      throw new UnreadableFile(path, 'not-regular', `is not a regular file (${describeFileType(info)})`);
    // Checked on the open file: what is read is what was judged.
    const user = 'writableOnlyBy' in options ? options.writableOnlyBy : currentUser();
    const foreignWriter =
      user && findForeignWriter({ uid: Number(info.uid), gid: Number(info.gid), mode: Number(info.mode) }, user);
    if (foreignWriter) throw new UnreadableFile(path, 'writable-by-others', `can be changed by ${foreignWriter}`);
    if (info.size > options.maxBytes) {
      throw new UnreadableFile(path, 'too-large', `is larger than ${options.maxBytes} bytes (${info.size})`);
    }
    // Read at most one byte more than allowed: a file growing while we read is refused too.
    const buffer = Buffer.alloc(Math.min(Number(info.size), options.maxBytes) + 1);
    let length = 0;
    for (;;) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) {
        if (length > options.maxBytes)
          throw new UnreadableFile(path, 'too-large', `is larger than ${options.maxBytes} bytes (it grew while read)`);
        break;
      }
    }
    const stamp = {
      identity: `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`,
      changedAtMs: Number(info.ctimeNs / 1_000_000n),
    };
    return { bytes: buffer.subarray(0, length), stamp };
  } finally {
    closeSync(fd);
  }
}

/** What readPrivateFileStamped tells of a file: `identity` changes with any write; `changedAtMs` is its ctime. */
export interface FileStamp {
  identity: string;
  changedAtMs: number;
}

/** The process's uid and gid, for writableOnlyBy; undefined on Windows, where owner and mode say nothing (host-platform.ts). */
export function currentUser(platform: HostPlatform = process.platform): FileOwner | undefined {
  return selectFileOwner(platform, { uid: process.getuid?.(), gid: process.getgid?.() });
}

/**
 * Pure: who other than `user` (or root) may write a file or folder with these stat fields,
 * or undefined. Group write is allowed only for the user's own primary group: Debian and
 * Ubuntu give each user a private group and a umask of 002, so 0664 files are the norm there
 * (OpenSSH's StrictModes, as Debian patches it, allows the same). Not where that group is
 * every user's (macOS: `staff`).
 */
export function findForeignWriter(
  info: { uid: number; gid: number; mode: number },
  user: FileOwner,
): string | undefined {
  const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
  if (info.uid !== user.uid && info.uid !== 0) return `uid ${info.uid}, its owner`;
  if ((info.mode & 0o002) !== 0) return `every user (mode ${mode})`;
  if ((info.mode & 0o020) !== 0 && info.gid !== user.gid) return `group ${info.gid} (mode ${mode})`;
  if ((info.mode & 0o020) !== 0 && user.sharedGroup) return `group ${info.gid}, which every user is in (mode ${mode})`;
  return undefined;
}

function describeFileType(info: import('node:fs').BigIntStats): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  if (info.isDirectory()) return 'a folder';
  return 'not a file';
}
