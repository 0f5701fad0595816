/**
 * Where run-docker keeps its own files on this call: the cache (payloads, verification and
 * refusal records, code caches, the mini's folder with registry tokens and image users) and
 * the state (the record of mini versions run, and any host state after it).
 *
 * As root, none of them may sit where another user can change them (docs/trust.md,
 * "Privilege does not borrow trust"; docs/decisions/root-keeps-its-own-cache-and-state.md):
 * root runs with another account's HOME under `sudo -E`, with `env_keep += HOME`, or as a
 * service whose HOME is a service account's, and that account could plant a payload, swap a
 * folder for a link, or hide the rollback record. So root uses the folder that HOME and
 * XDG_* name only when every folder and link on its way is one only root can change
 * (read-trusted-file.ts); otherwise its own home from the user database, as OpenSSH reads
 * `~/.ssh` from there whatever HOME says. Every other user: the folder HOME and XDG_* name,
 * as always (nothing more is asked on their warm path).
 */
import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../contract/contract';
import type { FileOwner, HostPlatform } from '../common/host-platform';
import { checkPrivateDir } from '../common/private-dir';
import { currentUser, UnreadableFile } from '../common/read-private-file';
import { resolveTrustedPath } from '../common/read-trusted-file';
import { selectCacheDir, selectStateDir, type HostFolder } from './select-host-folders';

type Env = Readonly<Record<string, string | undefined>>;

export type OwnFolderKind = 'cache' | 'state';

export type OwnFolder =
  | (HostFolder & {
      /** As root: the folder HOME or XDG_* named, not used, and why ("… sits in the folder …"). */
      passedOver?: { dir: string; why: string };
    })
  /** As root, when neither that folder nor root's own could be used: why (then none is used). */
  | { dir: undefined; source: string; why: string };

export interface OwnFolderOptions {
  /** Create what is missing (0700), folder by folder; as root only (others' callers make it as before). */
  create?: boolean;
  platform?: HostPlatform;
  /** The process's uid (undefined on Windows). */
  uid?: number | undefined;
  /** root's home in the user database; asked only when the folder HOME names cannot be used. */
  databaseHome?: () => string | undefined;
}

const ROOT: FileOwner = { uid: 0, gid: 0 };
const PRIVATE_MODE = 0o700;
const SELECT = { cache: selectCacheDir, state: selectStateDir };

/** The cache root (`$XDG_CACHE_HOME/run-docker`, default `~/.cache/run-docker`), by the rule above. */
export function locateCacheRoot(env: Env, homeDir: string, options: OwnFolderOptions = {}): OwnFolder {
  return locateOwnFolder('cache', env, homeDir, options);
}

/**
 * The state folder (`$XDG_STATE_HOME/run-docker`, default `~/.local/state/run-docker`), by
 * the rule above: the one place for host state. A writer asks with `create: true`, then makes
 * and writes what it needs inside (makeDirs, writeFileAtomically): as root, everything on the
 * way is then root's alone, so nothing inside can be swapped by anyone else.
 */
export function locateStateDir(env: Env, homeDir: string, options: OwnFolderOptions = {}): OwnFolder {
  return locateOwnFolder('state', env, homeDir, options);
}

export function locateOwnFolder(
  kind: OwnFolderKind,
  env: Env,
  homeDir: string,
  options: OwnFolderOptions = {},
): OwnFolder {
  const platform = options.platform ?? process.platform;
  const uid = 'uid' in options ? options.uid : process.getuid?.();
  const named = SELECT[kind](platform, env, homeDir);
  if (uid !== 0 || platform === 'win32') return named;
  const walk = { folder: options.create ? { create: PRIVATE_MODE } : {} };
  const first = judgeWay(named.dir, walk);
  if (typeof first === 'string') return { ...named, dir: first };
  const home = (options.databaseHome ?? readDatabaseHome)();
  const own = home === undefined ? undefined : SELECT[kind](platform, {}, home);
  const namedWhy = `"${named.dir}" ${first.why}`;
  if (own === undefined)
    return { dir: undefined, source: named.source, why: `${namedWhy}, and the user database has no home for root` };
  if (own.dir === named.dir) return { dir: undefined, source: named.source, why: namedWhy };
  const second = judgeWay(own.dir, walk);
  if (typeof second !== 'string')
    return { dir: undefined, source: named.source, why: `${namedWhy}, and root's own "${own.dir}" ${second.why}` };
  return { dir: second, source: "root's home in the user database", passedOver: { dir: named.dir, why: first.why } };
}

/**
 * The folder's path with every link on its way resolved, or why a folder or link on its way
 * lets another user change it. The folder itself is left to its user (prepareCache,
 * prepareStateDir: a link or another owner there is one warning, as for every user); with
 * `create`, it is made here, on its own, so that it is root's before anyone else could make it
 * (in a sticky folder such as /tmp, nobody else can rename it then).
 */
function judgeWay(dir: string, options: { folder: { create?: number } }): string | { why: string } {
  try {
    const way = join(resolveTrustedPath(dirname(dir), ROOT, options), basename(dir));
    if (options.folder.create !== undefined) makeOne(way, options.folder.create);
    return way;
  } catch (error) {
    if (error instanceof UnreadableFile) return { why: error.message };
    // ELOOP, EACCES on the way: not a way to use either.
    return { why: `cannot be reached (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
}

/** One folder, not its parents; one that is there (anyone's) is its user's to judge. */
function makeOne(dir: string, mode: number): void {
  try {
    mkdirSync(dir, { mode });
  } catch {
    // EEXIST: judged by its user next. EROFS, EACCES: whoever writes in it says so, with the reason.
  }
}

/** root's home from the user database (getpwuid): what `sudo -H` and a login would set HOME to. */
function readDatabaseHome(): string | undefined {
  try {
    return userInfo().homedir || undefined;
  } catch {
    // No passwd entry for this uid.
    return undefined;
  }
}

/** The debug line that says where the folder is and why, when it is not where HOME or XDG_* said; else undefined. */
export function describePassedOver(kind: OwnFolderKind, folder: OwnFolder): string | undefined {
  if (folder.dir === undefined || !('passedOver' in folder) || folder.passedOver === undefined) return undefined;
  const noun = kind === 'cache' ? 'cache' : 'state folder';
  return `as root, the ${noun} is "${folder.dir}" (${folder.source}): "${folder.passedOver.dir}" ${folder.passedOver.why}`;
}

/**
 * The state folder for this call, ready to read: located by the rule above (its debug line
 * when root passed HOME's over), and held to the cache root's rule (checkPrivateDir: a real
 * folder of the user's; too open, made 0700 with one warning), so that nobody else can hide
 * or swap what is in it. Undefined, with one warning, when it cannot be used; a folder not
 * there yet is returned as it is (a writer makes it: locateStateDir with `create`, then makeDirs).
 */
export async function prepareStateDir(
  env: Env,
  homeDir: string,
  log: Logger,
  options: OwnFolderOptions = {},
): Promise<string | undefined> {
  const folder = locateStateDir(env, homeDir, options);
  if (folder.dir === undefined) {
    log.warn(
      `the state folder is not used: run-docker runs as root, and ${folder.why}; older minis are not refused this time`,
    );
    return undefined;
  }
  const passedOver = describePassedOver('state', folder);
  if (passedOver !== undefined) log.debug(passedOver);
  const uid = 'uid' in options ? options.uid : currentUser(options.platform)?.uid;
  const check = await checkPrivateDir(folder.dir, uid);
  if (check.state === 'unusable') {
    log.warn(`the state folder "${folder.dir}" ${check.why}; older minis are not refused this time`);
    return undefined;
  }
  if (check.state === 'repaired')
    log.warn(
      `the state folder "${folder.dir}" was writable by group or others (mode ${check.mode.toString(8)}); made it 0700`,
    );
  return folder.dir;
}
