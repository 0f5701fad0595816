/**
 * Payload cache: `<cacheRoot>/payloads/<image id hex>/{manifest.json,<entry>}`.
 * Entries are installed by renaming a complete staging folder into place, so a reader
 * sees a whole payload or none; every read is verified by the caller before use.
 * The cache is used only when nobody else can write it (prepareCache).
 */
import { readdirSync } from 'node:fs';
import { loadCrypto } from '../common/lazy-builtins';
import { mkdir, readdir, rename, rm } from '../common/fs-async';
import { join } from 'node:path';
import type { Logger } from '../contract/contract';
import type { HostPlatform } from '../common/host-platform';
import { checkPrivateDir, makeDirs } from '../common/private-dir';
import { readPrivateFile, readPrivateFileStamped, type FileStamp } from '../common/read-private-file';
import { writeSyncedFile } from '../common/write-synced-file';
import { VERIFIED_FOLDER } from './verified-record';
import { REFUSED_FOLDER } from './refused-images';
import { selectCacheDir } from './select-host-folders';
import { ignoreFailure } from '../common/ignore-failure';

const PRIVATE_DIR_MODE = 0o700;

/** A payload file is ~100 kB; far larger is not one of ours (and is never read whole). */
const CACHED_FILE_LIMIT_BYTES = 32 * 1024 * 1024;

/** `$XDG_CACHE_HOME/run-docker`, default `~/.cache/run-docker` (macOS and Windows: select-host-folders.ts); `source` as in ShimConfig. */
export function cacheRootDir(
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
  platform: HostPlatform = process.platform,
): { dir: string; source: string } {
  return selectCacheDir(platform, env, homeDir);
}

/** The folders whose contents decide what runs and as whom (and what is not read: `refused`); `mini` is the mini payload's `ctx.cacheDir`. */
const CHECKED_FOLDERS = [
  '',
  'payloads',
  'staging',
  'code',
  VERIFIED_FOLDER,
  REFUSED_FOLDER,
  'mini',
  join('mini', 'image-users'),
];

/**
 * The cache root when it may be trusted, else undefined (one warning): every folder that
 * exists must be a real folder owned by `uid` that group and others cannot write. Ours but
 * too open is made 0700 (one warning). Also sweeps what killed runs left in `staging/`.
 * Undefined `uid` (Windows): only that each is a real folder (common/private-dir.ts).
 */
export async function prepareCache(
  cacheRoot: string,
  uid: number | undefined,
  log: Logger,
): Promise<string | undefined> {
  const repaired: { dir: string; mode: number }[] = [];
  for (const folder of CHECKED_FOLDERS) {
    const dir = join(cacheRoot, folder);
    const check = await checkPrivateDir(dir, uid);
    if (check.state === 'unusable') {
      log.warn(`the cache folder "${dir}" ${check.why}; running without the cache`);
      return undefined;
    }
    if (check.state === 'missing' && folder === '') break;
    if (check.state === 'repaired') repaired.push({ dir, mode: check.mode });
  }
  const [first] = repaired;
  if (first) {
    const more = repaired.length > 1 ? ` (and ${repaired.length - 1} of its folders)` : '';
    log.warn(
      `the cache folder "${first.dir}"${more} was writable by group or others (mode ${first.mode.toString(8)}); made it 0700`,
    );
  }
  await sweepStaging(join(cacheRoot, 'staging'), log);
  return cacheRoot;
}

/** Staging folders are `new-<pid>-<random>` / `old-<pid>-<random>`; those of a process that is gone are removed. */
async function sweepStaging(staging: string, log: Logger): Promise<void> {
  // No staging folder (or none readable): nothing to sweep.
  let names: string[];
  try {
    names = readdirSync(staging);
  } catch {
    names = [];
  }
  for (const name of names) {
    const pid = /^(?:new|old)-(\d+)-[0-9a-f]+$/.exec(name)?.[1];
    if (pid === undefined || isRunning(Number(pid))) continue;
    log.debug(`removing "${name}" from "${staging}", left by a run that was stopped`);
    await ignoreFailure(
      rm(join(staging, name), { recursive: true, force: true }),
      'a leftover costs only space; the next run sweeps again',
      log,
    );
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function payloadCacheDir(cacheRoot: string, imageId: string): string {
  return join(cacheRoot, 'payloads', imageId.replace(/^sha256:/, ''));
}

/**
 * A file of a cached payload, or undefined when it is not there. Never follows a symlink,
 * never blocks, never reads without end: UnreadableFile for anything but a bounded regular file.
 */
export async function readCachedFile(dir: string, name: string): Promise<Buffer | undefined> {
  return readPrivateFile(join(dir, name), { maxBytes: CACHED_FILE_LIMIT_BYTES });
}

/** readCachedFile with the file's stamp (read-private-file.ts), for verification records. */
export async function readCachedFileStamped(
  dir: string,
  name: string,
): Promise<{ bytes: Buffer; stamp: FileStamp } | undefined> {
  return readPrivateFileStamped(join(dir, name), { maxBytes: CACHED_FILE_LIMIT_BYTES });
}

/**
 * Installs `files` as the cache entry `dir`, unless an identical entry is already there.
 * A different one (tampered, truncated) is replaced. Concurrent writers of the same image
 * each rename a complete folder, so no reader ever sees a partial one; and since a whole
 * entry is never moved aside for an identical one, a reader racing a writer does not see
 * its files vanish (which it could not tell from tampering).
 */
export async function writeCachedPayload(
  cacheRoot: string,
  dir: string,
  files: ReadonlyMap<string, Uint8Array>,
): Promise<void> {
  const staging = join(cacheRoot, 'staging');
  await makeDirs(staging, PRIVATE_DIR_MODE);
  const unique = `${process.pid}-${loadCrypto().randomBytes(6).toString('hex')}`;
  const incoming = join(staging, `new-${unique}`);
  const outgoing = join(staging, `old-${unique}`);
  try {
    await mkdir(incoming, { mode: PRIVATE_DIR_MODE });
    for (const [name, bytes] of files) await writeSyncedFile(join(incoming, name), bytes, { mode: 0o600, flag: 'wx' });
    await makeDirs(join(cacheRoot, 'payloads'), PRIVATE_DIR_MODE);
    try {
      await rename(incoming, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw error;
      if (await holdsExactly(dir, files)) return;
      // A different entry is there (stale, tampered, not a folder): move it aside, put ours
      // in place, and delete the old one.
      await ignoreFailure(rename(dir, outgoing), 'if it cannot move aside, the rename below fails and says why');
      await rename(incoming, dir).catch((again: NodeJS.ErrnoException) => {
        // Another writer got there between our two renames: its entry is as good as ours.
        if (again.code !== 'ENOTEMPTY' && again.code !== 'EEXIST') throw again;
      });
    }
  } finally {
    await rm(incoming, { recursive: true, force: true });
    await rm(outgoing, { recursive: true, force: true });
  }
}

/** Whether the entry `dir` has exactly `files`, byte for byte. */
async function holdsExactly(dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<boolean> {
  try {
    const names = await readdir(dir);
    if (names.length !== files.size) return false;
    for (const [name, bytes] of files) {
      const cached = await readCachedFile(dir, name);
      if (!cached || !cached.equals(bytes)) return false;
    }
    return true;
  } catch {
    return false;
  }
}
