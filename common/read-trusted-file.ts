/**
 * Files that decide what runs are read only when nobody but the user (or root) could have
 * written them: run-docker's config names the trust root (tiny), docker's config.json and
 * contexts name the engine whose images run and the credential helpers that are started.
 * Root with another user's HOME (sudo keeping HOME, a service account's home) must not take
 * its orders from that user's files (docs/trust.md, "Privilege does not borrow trust").
 */
import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
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
 * any folder on its way (resolveTrustedPath). A symlink is followed where nobody else could
 * have placed it: dotfile managers install config files that way.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- synchronous inside, as readPrivateFile; a throw still rejects
export async function readTrustedFile(path: string, options: ReadTrustedFileOptions): Promise<Buffer | undefined> {
  return readTrustedFileSync(path, options);
}

/** readTrustedFile for callers that must stay synchronous. */
export function readTrustedFileSync(path: string, options: ReadTrustedFileOptions): Buffer | undefined {
  if (options.user === undefined)
    return readPrivateFileStampedSync(path, {
      maxBytes: options.maxBytes,
      followSymlink: true,
      writableOnlyBy: undefined,
    })?.bytes;
  // Every link on the way is resolved by the walk: what is opened is the checked path itself.
  return readPrivateFileStampedSync(resolveTrustedPath(path, options.user), {
    maxBytes: options.maxBytes,
    writableOnlyBy: options.user,
  })?.bytes;
}

/** What resolveTrustedPath asks of the file system (tests pass their own). */
export interface PathLookup {
  lstat(path: string): { uid: number; gid: number; mode: number; isDirectory(): boolean; isSymbolicLink(): boolean };
  readlink(path: string): string;
  /** One folder, never its parents: fails with EEXIST when anything is there already. */
  mkdir(path: string, mode: number): void;
}

const NODE_LOOKUP: PathLookup = {
  lstat: (path) => lstatSync(path),
  readlink: (path) => readlinkSync(path),
  mkdir: (path, mode) => mkdirSync(path, { mode }),
};

export interface TrustedPathOptions {
  lookup?: PathLookup;
  /**
   * `path` is a folder run-docker keeps its own files in (the cache, the state), not a file
   * to read: a folder or link on the way that fails is refused even where nothing is yet
   * (run-docker would create what is missing there), and with `create`, each missing folder
   * is made on its own (`mode`), then judged like one that was there.
   */
  folder?: { create?: number };
}

/** As the kernel's limit on links followed in one lookup (Linux MAXSYMLINKS). */
const MAX_LINKS = 40;

const STICKY = 0o1000;

/**
 * `path` with every symlink resolved, walked from `/` one folder at a time, as sudo checks
 * sudoers and OpenSSH StrictModes a user's files: every folder on the way must be one that
 * nobody but `user` or root can change — owned by one of them, and writable by group or
 * others only with the sticky bit (/tmp), which keeps others from renaming or replacing what
 * is not theirs. A symlink is taken only when `user` or root owns it (it sits in a folder
 * checked before, so nobody else could have placed it), and its target is walked the same
 * way: a link in a root-only folder that points into another user's home does not pass.
 * UnreadableFile (`writable-by-others`) names the first folder or link that fails — only when
 * the file is there: where nothing is, nothing is taken (root with another user's HOME and
 * no config in it runs on). Everything after a missing part is returned as it is.
 *
 * For a folder (`options.folder`), the folder is judged too, a refusal stands whether or not
 * it is there, and the result is a path on which every folder is one nobody but `user` or
 * root can change, and no link: what is opened, created or renamed by that path later is
 * what was judged here. A folder made in a sticky folder (/tmp) stays the user's: others
 * cannot rename it there.
 */
export function resolveTrustedPath(path: string, user: FileOwner, options: TrustedPathOptions = {}): string {
  const lookup = options.lookup ?? NODE_LOOKUP;
  const folder = options.folder;
  let pending = resolve(path).split(sep).filter(Boolean);
  let current: string = sep;
  let refusal = judgeFolder(path, current, lookup.lstat(current), user);
  let links = 0;
  while (pending.length > 0) {
    const [name, ...rest] = pending as [string, ...string[]];
    pending = rest;
    if (name === '.') continue;
    if (name === '..') {
      // `current` was reached from / through folders judged already: its parent is one of them.
      current = join(current, '..');
      continue;
    }
    // Not join(): it normalizes the whole path again at every step, and that made a warm call
    // as root run ~14 M instructions more (docs/performance.md); `name` holds no separator.
    const next = current === sep ? `${sep}${name}` : `${current}${sep}${name}`;
    let info;
    try {
      info = lookup.lstat(next);
    } catch (error) {
      // Absent, or not to be looked into: nothing is read from there.
      if (folder === undefined) return join(next, ...pending);
      // A folder would be made there, through whatever failed on the way.
      if (refusal) throw refusal;
      if (folder.create === undefined || (error as NodeJS.ErrnoException).code !== 'ENOENT')
        return join(next, ...pending);
      try {
        lookup.mkdir(next, folder.create);
      } catch (mkdirError) {
        // Made by someone else meanwhile: judged below like any folder that was there.
        if ((mkdirError as NodeJS.ErrnoException).code !== 'EEXIST') return join(next, ...pending);
      }
      pending = [name, ...pending];
      if (++links > MAX_LINKS) throw Object.assign(new Error(`ELOOP: "${next}" keeps changing`), { code: 'ELOOP' });
      continue;
    }
    if (info.isSymbolicLink()) {
      if (info.uid !== user.uid && info.uid !== 0)
        refusal ??= new UnreadableFile(
          path,
          'writable-by-others',
          `is reached through the link "${next}", which belongs to uid ${info.uid}`,
        );
      if (++links > MAX_LINKS)
        throw Object.assign(new Error(`ELOOP: too many symbolic links in "${path}"`), { code: 'ELOOP' });
      const target = lookup.readlink(next);
      if (isAbsolute(target)) current = sep;
      pending = [...target.split(sep).filter(Boolean), ...pending];
      continue;
    }
    // The file itself is judged when it is opened (readPrivateFile's writableOnlyBy); a folder here, as any on the way.
    if ((pending.length === 0 && folder === undefined) || !info.isDirectory()) {
      if (refusal) throw refusal;
      return join(next, ...pending);
    }
    refusal ??= judgeFolder(path, next, info, user);
    current = next;
  }
  if (refusal) throw refusal;
  return current;
}

/** Why nobody but `user` or root can be trusted for what is in `folder`, or undefined when they are the only ones who can change it. */
function judgeFolder(
  path: string,
  folder: string,
  info: { uid: number; gid: number; mode: number },
  user: FileOwner,
): UnreadableFile | undefined {
  // The sticky bit answers group and other write, never another owner: an owner may rename anything inside.
  const sticky = (info.mode & STICKY) !== 0 && (info.uid === user.uid || info.uid === 0);
  const writer = findForeignWriter(info, user);
  return writer && !sticky
    ? new UnreadableFile(
        path,
        'writable-by-others',
        `sits in the folder "${folder}", which can be changed by ${writer}`,
      )
    : undefined;
}
