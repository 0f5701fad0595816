/**
 * Whether a cache folder may be trusted: what is in it decides what runs (payloads) and
 * as whom (image users), so only a folder nobody else can write qualifies. Checked with
 * lstat (a symlink is never followed): a real folder, owned by the current uid, with no
 * group or other write bit. Root is a user like others here: root's cache is root's.
 */
import { lstatSync } from 'node:fs';
import { constants } from 'node:fs';
import { access, chmod, lstat, mkdir } from './fs-async';
import { dirname } from 'node:path';

export type PrivateDirCheck =
  | { state: 'private' }
  | { state: 'missing' }
  /** Ours but too open: made 0700 (`mode` is the one it had). */
  | { state: 'repaired'; mode: number }
  | { state: 'unusable'; why: string };

const PRIVATE_MODE = 0o700;
const GROUP_OR_OTHER_WRITE = 0o022;

/**
 * Pure: the verdict on a folder's lstat, for the user `uid`. Undefined `uid`: owner and mode
 * are not judged, only that it is a real folder (Windows, host-platform.ts: NTFS has ACLs).
 */
export function judgeDir(
  info: { isSymbolicLink(): boolean; isDirectory(): boolean; uid: number; mode: number },
  uid: number | undefined,
): PrivateDirCheck | 'too-open' {
  if (info.isSymbolicLink()) return { state: 'unusable', why: 'is a symlink' };
  if (!info.isDirectory()) return { state: 'unusable', why: 'is not a folder' };
  if (uid === undefined) return { state: 'private' };
  if (info.uid !== uid) return { state: 'unusable', why: `belongs to uid ${info.uid}, not to you` };
  if ((info.mode & GROUP_OR_OTHER_WRITE) !== 0) return 'too-open';
  return { state: 'private' };
}

/** Checks `dir`; a folder of ours that group or others may write is made 0700 (reported as `repaired`). `uid` as in judgeDir. */
export async function checkPrivateDir(dir: string, uid: number | undefined): Promise<PrivateDirCheck> {
  let info;
  try {
    // Synchronous: a local folder's inode, asked seven times a call; a thread-pool round trip each cost more.
    info = lstatSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'unusable', why: `cannot be examined (${(error as NodeJS.ErrnoException).code})` };
  }
  const verdict = judgeDir(info, uid);
  if (verdict !== 'too-open') return verdict;
  try {
    await chmod(dir, PRIVATE_MODE);
  } catch (error) {
    return {
      state: 'unusable',
      why: `is writable by group or others and cannot be made 0700 (${(error as NodeJS.ErrnoException).code})`,
    };
  }
  return { state: 'repaired', mode: info.mode & 0o777 };
}

/**
 * `mkdir -p` with `mode`, failing with the real reason: Node's recursive mkdir says ENOENT
 * when a parent cannot be created, e.g. on a read-only file system (EROFS).
 */
export async function makeDirs(dir: string, mode = PRIVATE_MODE): Promise<string | undefined> {
  try {
    return await mkdir(dir, { recursive: true, mode });
  } catch (error) {
    throw await explainMkdirFailure(dir, error as NodeJS.ErrnoException);
  }
}

/**
 * The error a recursive mkdir of `dir` should have reported: on ENOENT, why the nearest
 * folder that exists cannot be written (EROFS, EACCES), asked without creating anything.
 */
export async function explainMkdirFailure(dir: string, error: NodeJS.ErrnoException): Promise<NodeJS.ErrnoException> {
  if (error.code !== 'ENOENT') return error;
  let ancestor = dirname(dir);
  while (
    !(await lstat(ancestor).then(
      () => true,
      () => false,
    ))
  ) {
    const parent = dirname(ancestor);
    if (parent === ancestor) return error;
    ancestor = parent;
  }
  return access(ancestor, constants.W_OK).then(
    () => error,
    (real: NodeJS.ErrnoException) =>
      Object.assign(new Error(`${real.code}: cannot create "${dir}"`), { code: real.code }) as NodeJS.ErrnoException,
  );
}
