/**
 * Payload cache: `<cacheRoot>/payloads/<image id hex>/{manifest.json,<entry>}`.
 * Entries are installed by renaming a complete staging folder into place, so a reader
 * sees a whole payload or none; every read is verified by the caller before use.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';

const PRIVATE_DIR_MODE = 0o700;

/** `$XDG_CACHE_HOME/run-docker`, default `~/.cache/run-docker`; `source` as in ShimConfig. */
export function cacheRootDir(env: Readonly<Record<string, string | undefined>>, homeDir: string): { dir: string; source: string } {
  // XDG base directory spec: a relative XDG_CACHE_HOME is invalid and ignored.
  const xdg = env.XDG_CACHE_HOME;
  return xdg && isAbsolute(xdg)
    ? { dir: join(xdg, 'run-docker'), source: 'env XDG_CACHE_HOME' }
    : { dir: join(resolve(homeDir, '.cache'), 'run-docker'), source: 'default' };
}

export function payloadCacheDir(cacheRoot: string, imageId: string): string {
  return join(cacheRoot, 'payloads', imageId.replace(/^sha256:/, ''));
}

/** A file of a cached payload, or undefined when it is not there. */
export async function readCachedFile(dir: string, name: string): Promise<Buffer | undefined> {
  try {
    return await readFile(join(dir, name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Installs `files` as the cache entry `dir`, replacing whatever is there (a tampered or
 * truncated entry). Concurrent writers of the same image each rename a complete folder,
 * so the last one wins and no reader ever sees a partial one.
 */
export async function writeCachedPayload(cacheRoot: string, dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  const staging = join(cacheRoot, 'staging');
  await mkdir(staging, { recursive: true, mode: PRIVATE_DIR_MODE });
  const unique = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const incoming = join(staging, `new-${unique}`);
  const outgoing = join(staging, `old-${unique}`);
  try {
    await mkdir(incoming, { mode: PRIVATE_DIR_MODE });
    for (const [name, bytes] of files) await writeFile(join(incoming, name), bytes, { mode: 0o600, flush: true });
    await mkdir(join(cacheRoot, 'payloads'), { recursive: true, mode: PRIVATE_DIR_MODE });
    try {
      await rename(incoming, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      // An entry is there already (stale, tampered, or a concurrent writer's): move it
      // aside, put ours in place, and delete the old one.
      await rename(dir, outgoing).catch(() => undefined);
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
