/**
 * Whether an image has the unprivileged `docker-user`, read from its /etc/passwd without
 * starting it, and remembered per image ID (an image never changes under its ID).
 * The remembered answer decides who the container runs as, so it is taken only from a
 * private cache folder, only when it could have come from an image, and never when it
 * would make the run privileged (uid or gid 0): then the image is read again.
 */
import { join, posix } from 'node:path';
import type { EngineClient, Logger } from '../../contract/contract';
import { COPY_BOUNDS, withExtractionContainer } from '../../common/copy-from-image';
import { ArchiveTooLarge, formatBytes } from '../../common/read-tar-files';
import { RunDockerError } from '../../common/run-docker-error';
import { checkPrivateDir, makeDirs } from '../../common/private-dir';
import { currentUser, readPrivateFile } from '../../common/read-private-file';
import { writeFileAtomically } from '../../common/write-file-atomically';
import { ignoreFailure } from '../../common/ignore-failure';

export const DOCKER_USER = 'docker-user';

/** An entry is a few dozen bytes. */
const CACHE_ENTRY_LIMIT_BYTES = 64 * 1024;

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

/** Pure: an absolute, normalized path (no `..`, no trailing `/`) without control characters, other than `/`. */
export function isPlainHome(home: string): boolean {
  // Control characters are refused: a home ends up in --mount, --workdir and HOME.
  return (
    home.length > 1 &&
    home.length < 4096 &&
    posix.normalize(home) === home &&
    posix.isAbsolute(home) &&
    !home.endsWith('/') &&
    // eslint-disable-next-line no-control-regex -- control characters are what it refuses
    !/[\u0000-\u001f\u007f]/.test(home)
  );
}

/**
 * Pure: a cache entry as written below, if it may be used. Anything else (truncated,
 * edited, planted) counts as absent, and so does any user that would run privileged.
 */
export function parseCachedUser(text: string | undefined): { user: ImageUser | null } | undefined {
  if (text === undefined) return undefined;
  try {
    const entry = JSON.parse(text) as { user?: Partial<ImageUser> | null };
    if (entry.user === null) return { user: null };
    const user = entry.user;
    if (
      user &&
      user.name === DOCKER_USER &&
      isUnprivilegedId(user.uid) &&
      isUnprivilegedId(user.gid) &&
      typeof user.home === 'string' &&
      isPlainHome(user.home)
    ) {
      return { user: { name: user.name, uid: user.uid, gid: user.gid, home: user.home } };
    }
  } catch {
    // Not JSON: read the image again.
  }
  return undefined;
}

/** uid or gid 0 is never taken from the cache: an image whose docker-user is root is read every time. */
function isUnprivilegedId(id: unknown): id is number {
  return Number.isInteger(id) && (id as number) > 0 && (id as number) < 2 ** 32 - 1;
}

/**
 * The image's `docker-user`, if it has one. A user database past the copy's bounds
 * (COPY_BOUNDS) is one line naming the image, never "no such user" (nor remembered as that):
 * the user may be in it, and who the container runs as is not guessed.
 */
export async function readImageUser(
  engine: EngineClient,
  image: { id: string; reference: string },
  cacheDir: string,
  log?: Logger,
): Promise<ImageUser | undefined> {
  const folder = join(cacheDir, 'image-users');
  const cacheFile = join(folder, `${image.id.replace(/^sha256:/, '')}.json`);
  // This payload may run under a shim that did not check its cache folder: check it here too.
  const usable = await isPrivateCache([cacheDir, folder], log);
  if (usable) {
    const cached = parseCachedUser(
      await readPrivateFile(cacheFile, { maxBytes: CACHE_ENTRY_LIMIT_BYTES }).then(
        (bytes) => bytes?.toString('utf8'),
        () => undefined,
      ),
    );
    if (cached) return cached.user ?? undefined;
  }

  const passwd = await readPasswd(engine, image);
  const user = findPasswdUser(passwd, DOCKER_USER);
  if (!usable) return user;
  // A reader sees the whole answer or none (writeFileAtomically). Failure only costs speed.
  await ignoreFailure(
    makeDirs(folder).then(() => writeFileAtomically(cacheFile, JSON.stringify({ user: user ?? null }))),
    'the cache only saves reading the image again',
    log,
  );
  return user;
}

const PASSWD = '/etc/passwd';

/** The text of the image's /etc/passwd, empty when it has none; copied out of a created container, which is removed. */
async function readPasswd(engine: EngineClient, image: { id: string; reference: string }): Promise<string> {
  try {
    const { files, oversized } = await withExtractionContainer(engine, image.id, (copy) => copy(PASSWD));
    if (oversized.has('passwd')) throw passwdTooLarge(image.reference, '', COPY_BOUNDS.maxFileBytes);
    return files.get('passwd')?.toString('utf8') ?? '';
  } catch (error) {
    if ((error as { statusCode?: number } | null)?.statusCode === 404) return '';
    if (error instanceof ArchiveTooLarge)
      throw passwdTooLarge(image.reference, ', as the engine copies it out,', error.limitBytes);
    throw error;
  }
}

function passwdTooLarge(reference: string, how: string, limitBytes: number): RunDockerError {
  return new RunDockerError(
    `the ${PASSWD} of the image "${reference}"${how} is larger than ${formatBytes(limitBytes)}, the most run-docker copies out of an image to find the user "${DOCKER_USER}"`,
    `Run it as root with --root, or fix the image: an ${PASSWD} is a few kB.`,
  );
}

/** Whether every folder that exists is ours alone (too open: made 0700 with a warning); on Windows, only that each is a real folder. */
async function isPrivateCache(dirs: string[], log: Logger | undefined): Promise<boolean> {
  const uid = currentUser()?.uid;
  for (const dir of dirs) {
    const check = await checkPrivateDir(dir, uid);
    if (check.state === 'unusable') {
      log?.warn(`the cache folder "${dir}" ${check.why}; reading image users from the images instead`);
      return false;
    }
    if (check.state === 'repaired')
      log?.warn(
        `the cache folder "${dir}" was writable by group or others (mode ${check.mode.toString(8)}); made it 0700`,
      );
  }
  return true;
}
