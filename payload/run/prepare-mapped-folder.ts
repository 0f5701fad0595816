/**
 * The host folders a run maps into the container: data and log are created when missing,
 * and when run-docker runs as root for the image's docker-user (Linux), a folder it creates is
 * given to that user. Root may run with another user's HOME (sudo keeping HOME, a service
 * whose home is another account's), and that user could point `~/work` anywhere, or swap a
 * link in between two steps: so as root (docs/trust.md, "Privilege does not borrow trust")
 *   - no folder on the way may belong to another user (refused, with what to do), and a
 *     folder is created only where nobody but root may write (or with the sticky bit, /tmp);
 *   - a link on the way is followed only when root owns it;
 *   - the walk goes folder by folder on open descriptors (Linux: `/proc/self/fd/N/name`, which
 *     is openat/mkdirat: what a name resolves to is decided by the folder already open, not by
 *     the path again), each opened with O_NOFOLLOW | O_DIRECTORY;
 *   - a folder created here is given away with fchown on its own descriptor, never by name.
 * A user other than root maps what they like, as before: their links are followed and nothing
 * is chowned. Node has no openat; the /proc form is its equivalent where /proc is mounted.
 */
import {
  closeSync,
  constants,
  fchownSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  statSync,
} from 'node:fs';
import { isAbsolute, posix } from 'node:path';
import { findForeignWriter } from '../../common/read-private-file';
import { RunDockerError } from '../../common/run-docker-error';

export type MappedFolderOption = '--hostdatadir' | '--hostlogdir' | '--hostsrcdir';

export interface MappedFolder {
  path: string;
  /** The option that chooses it, for the hint. */
  option: MappedFolderOption;
}

export interface PrepareMappedFolderOptions {
  /** The process's uid: root (0) is held to the rules above. */
  uid: number | undefined;
  /** Give a folder created here to this user (a Linux root running docker-user). */
  owner?: { uid: number; gid: number };
  /** Create it when missing (data, log); false only checks the way (a source folder). */
  create: boolean;
  /** Tests only: called right after a step, so a test can change the path exactly there. */
  afterStep?: (step: 'created' | 'opened', path: string) => void;
}

/** As the kernel's limit on links followed in one lookup (Linux MAXSYMLINKS); also bounds looking again after a race. */
const MAX_LINKS = 40;
const OPEN_FOLDER = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const ROOT = { uid: 0, gid: 0 };
const STICKY = 0o1000;

/** Whether `/proc/self/fd/N/name` reaches `name` inside the open folder N (Linux with /proc). */
let procFds: boolean | undefined;
function hasProcFds(): boolean {
  if (procFds === undefined) {
    try {
      procFds = process.platform === 'linux' && statSync('/proc/self/fd').isDirectory();
    } catch {
      procFds = false;
    }
  }
  return procFds;
}

/** An open folder, and its path (for messages, and the form used where /proc is not there). */
interface OpenFolder {
  fd: number;
  path: string;
}

/** Creates `folder.path` when missing (options.create) and checks its way; RunDockerError says what is wrong. POSIX paths only. */
export function prepareMappedFolder(folder: MappedFolder, options: PrepareMappedFolderOptions): void {
  const asRoot = options.uid === 0;
  const inside = (parent: OpenFolder, name: string) =>
    hasProcFds() ? `/proc/self/fd/${parent.fd}/${name}` : posix.join(parent.path, name);
  const openRoot = (): OpenFolder => {
    const opened = { fd: openSync('/', constants.O_RDONLY | constants.O_DIRECTORY), path: '/' };
    if (asRoot) refuseForeignFolder(folder, opened);
    return opened;
  };

  let current = openRoot();
  let pending = posix.resolve(folder.path).split('/').filter(Boolean);
  let links = 0;
  try {
    while (pending.length > 0) {
      const [name, ...rest] = pending as [string, ...string[]];
      pending = rest;
      if (name === '.') continue;
      const shown = name === '..' ? posix.dirname(current.path) : posix.join(current.path, name);
      const at = inside(current, name);
      let fd: number;
      let created = false;
      try {
        fd = openSync(at, OPEN_FOLDER);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Linux answers ENOTDIR for a link opened with O_NOFOLLOW | O_DIRECTORY (ELOOP without O_DIRECTORY).
        const link = code === 'ENOTDIR' || code === 'ELOOP' ? lstatSync(at) : undefined;
        if (link?.isSymbolicLink()) {
          // Followed only when nobody but root could have placed it, where root is at stake.
          if (asRoot && link.uid !== 0)
            throw refusal(folder, `the link "${shown}" on its way belongs to uid ${link.uid}`);
          if (++links > MAX_LINKS) throw cannotCreate(folder, 'ELOOP', options.create);
          const target = readlinkSync(at);
          if (isAbsolute(target)) {
            const root = openRoot();
            closeSync(current.fd);
            current = root;
          }
          pending = [...target.split('/').filter(Boolean), ...pending];
          continue;
        }
        if (code === 'ENOTDIR') throw notAFolder(folder, shown);
        if (code !== 'ENOENT' || !options.create)
          throw cannotCreate(folder, code ?? (error as Error).message, options.create);
        if (asRoot) refuseOpenFolder(folder, current);
        try {
          mkdirSync(at);
        } catch (mkdirError) {
          const mkdirCode = (mkdirError as NodeJS.ErrnoException).code;
          // Made by someone else in between (a concurrent run): look again, a bounded number of times.
          if (mkdirCode === 'EEXIST' && ++links <= MAX_LINKS) {
            pending = [name, ...pending];
            continue;
          }
          throw cannotCreate(folder, mkdirCode ?? (mkdirError as Error).message, true);
        }
        options.afterStep?.('created', shown);
        try {
          fd = openSync(at, OPEN_FOLDER);
        } catch (openError) {
          throw replaced(folder, shown, (openError as NodeJS.ErrnoException).code);
        }
        created = true;
      }
      const next = { fd, path: shown };
      closeSync(current.fd);
      current = next;
      const last = pending.length === 0;
      // The folders on the way decide where the last one is; the last one itself may be anyone's (docker-user's, after a first run).
      if (asRoot && !last) refuseForeignFolder(folder, current);
      if (last && created && options.owner) {
        options.afterStep?.('opened', shown);
        // The descriptor, never the name: whatever the name means by now, this is the folder made above.
        fchownSync(current.fd, options.owner.uid, options.owner.gid);
      }
    }
  } finally {
    closeSync(current.fd);
  }
}

/** As root: refused when the folder belongs to another user, who could point what is in it anywhere. */
function refuseForeignFolder(folder: MappedFolder, open: OpenFolder): void {
  const info = fstatSync(open.fd);
  if (info.uid !== 0)
    throw refusal(folder, `"${open.path}" on its way belongs to uid ${info.uid}, who could point it anywhere`);
}

/**
 * As root, before creating in it: refused when others may write it without the sticky bit.
 * They could swap the new folder for one of root's between its creation and its opening,
 * and root would give that one away; the sticky bit keeps them from renaming what is not theirs.
 */
function refuseOpenFolder(folder: MappedFolder, open: OpenFolder): void {
  const info = fstatSync(open.fd);
  const writer = findForeignWriter(info, ROOT);
  if (writer && (info.mode & STICKY) === 0)
    throw refusal(folder, `"${open.path}", where it would be created, can be changed by ${writer}`);
}

function noun(folder: MappedFolder): string {
  return { '--hostdatadir': 'data folder', '--hostlogdir': 'log folder', '--hostsrcdir': 'source folder' }[
    folder.option
  ];
}

/** `--hostdatadir` (or "no" to map none): the way to another folder, or to none. */
function otherFolder(folder: MappedFolder): string {
  return folder.option === '--hostsrcdir' ? folder.option : `${folder.option} (or "no" to map none)`;
}

function refusal(folder: MappedFolder, why: string): RunDockerError {
  return new RunDockerError(
    `the ${noun(folder)} "${folder.path}" is not used: run-docker runs as root, and ${why}`,
    `Run with "sudo -H" (HOME of root), or choose a folder only root can change with ${otherFolder(folder)}.`,
  );
}

function notAFolder(folder: MappedFolder, shown: string): RunDockerError {
  const what =
    shown === posix.resolve(folder.path)
      ? `the ${noun(folder)} "${folder.path}" exists and is not a folder`
      : `the ${noun(folder)} "${folder.path}" cannot be created: "${shown}" on its way is not a folder`;
  return new RunDockerError(what, `Move it away, or choose another folder with ${otherFolder(folder)}.`);
}

function cannotCreate(folder: MappedFolder, code: string, create: boolean): RunDockerError {
  return new RunDockerError(
    `cannot ${create ? 'create' : 'use'} the ${noun(folder)} "${folder.path}" (${code})`,
    create
      ? `Create it yourself, choose another with ${otherFolder(folder)}.`
      : `Check it, or choose another with ${otherFolder(folder)}.`,
  );
}

function replaced(folder: MappedFolder, shown: string, code: string | undefined): RunDockerError {
  return new RunDockerError(
    `the ${noun(folder)} "${folder.path}" is not used: "${shown}" was replaced right after run-docker created it (${code ?? 'changed'})`,
    `Check who else writes in "${posix.dirname(shown)}", then try again.`,
  );
}
