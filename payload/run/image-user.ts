/**
 * Whether an image has the unprivileged `docker-user`, read from its /etc/passwd without
 * starting it, and remembered per image ID (an image never changes under its ID).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { copyFromImage } from '../../common/copy-from-image';

export const DOCKER_USER = 'docker-user';

export interface ImageUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** Pure: the passwd entry of `name`, if any. */
export function findPasswdUser(passwd: string, name: string): ImageUser | undefined {
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid, , home] = line.split(':');
    if (user === name && /^\d+$/.test(uid ?? '') && /^\d+$/.test(gid ?? '')) {
      return { name, uid: Number(uid), gid: Number(gid), home: home || `/home/${name}` };
    }
  }
  return undefined;
}

/** A cache entry as written below; anything else (truncated, edited) counts as absent. */
function parseCachedUser(text: string | undefined): { user: ImageUser | null } | undefined {
  if (text === undefined) return undefined;
  try {
    const entry = JSON.parse(text) as { user?: Partial<ImageUser> | null };
    if (entry.user === null) return { user: null };
    const user = entry.user;
    if (user && user.name === DOCKER_USER && Number.isInteger(user.uid) && Number.isInteger(user.gid) && typeof user.home === 'string') {
      return { user: user as ImageUser };
    }
  } catch {
    // Not JSON: read the image again.
  }
  return undefined;
}

export async function readImageUser(docker: Dockerode, imageId: string, cacheDir: string): Promise<ImageUser | undefined> {
  const cacheFile = join(cacheDir, 'image-users', `${imageId.replace(/^sha256:/, '')}.json`);
  const cached = parseCachedUser(await readFile(cacheFile, 'utf8').catch(() => undefined));
  if (cached) return cached.user ?? undefined;

  const files = await copyFromImage(docker, imageId, '/etc/passwd').catch((error: { statusCode?: number }) => {
    if (error.statusCode === 404) return new Map<string, Buffer>();
    throw error;
  });
  const user = findPasswdUser(files.get('passwd')?.toString('utf8') ?? '', DOCKER_USER);
  // Written beside and renamed: a reader sees the whole answer or none. Failure only costs speed.
  const partial = `${cacheFile}.${process.pid}.tmp`;
  await mkdir(join(cacheDir, 'image-users'), { recursive: true, mode: 0o700 })
    .then(() => writeFile(partial, JSON.stringify({ user: user ?? null })))
    .then(() => rename(partial, cacheFile))
    .catch(() => undefined);
  return user;
}
