/**
 * The files a registry login is read from, in the order the engine's own CLI reads them.
 * Docker: docker's config.json alone. Podman: `podman login`'s files first, then docker's, as
 * Podman 4.3 (containers/image 5.23, `getAuthFilePaths`; containers/common's
 * `GetDefaultAuthFile`) reads them — containers-auth.json(5):
 *   1. `REGISTRY_AUTH_FILE`, else `$DOCKER_CONFIG/config.json` when DOCKER_CONFIG is set, else
 *      `$XDG_RUNTIME_DIR/containers/auth.json`, else `/run/containers/UID/auth.json`;
 *   2. `$XDG_CONFIG_HOME/containers/auth.json` (`~/.config/containers/auth.json`);
 *   3. docker's config.json (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`).
 * (`~/.dockercfg`, Docker's format before 1.7, is not read: run-docker never read it.)
 * Each is read under the rules of docker's config.json (load-docker-config.ts): bounded, and
 * refused when someone else than the user (or root) could have written it, since its
 * `credHelpers` name programs that are started.
 */
import { join } from 'node:path';
import type { DockerConfigSnapshot, EngineClient } from '../../contract/contract';
import type { FileOwner } from '../host-platform';
import { DOCKER_CONFIG_LIMIT_BYTES, parseDockerConfig } from '../load-docker-config';
import { readHomeDir } from '../read-home-dir';
import { currentUser, UnreadableFile } from '../read-private-file';
import { readTrustedFile } from '../read-trusted-file';
import { RunDockerError } from '../run-docker-error';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * One file of logins. `docker`: docker's config.json, read by Docker's rules (credHelpers,
 * credsStore, auths). `containers`: a containers-auth.json(5) file, read by Podman's rules
 * (credHelpers, then auths whose key may name a namespace or repository: `host/team/app`).
 */
export interface LoginFile {
  format: 'docker' | 'containers';
  snapshot: DockerConfigSnapshot;
}

/** Pure: the paths Podman reads logins from, in its order, docker's config.json included (`dockerFile`). */
export function podmanLoginPaths(env: Env, homeDir: string, uid: number | undefined, dockerFile: string): string[] {
  const primary =
    env.REGISTRY_AUTH_FILE ||
    (env.DOCKER_CONFIG
      ? join(env.DOCKER_CONFIG, 'config.json')
      : env.XDG_RUNTIME_DIR
        ? join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json')
        : uid === undefined
          ? undefined
          : `/run/containers/${uid}/auth.json`);
  const configHome = env.XDG_CONFIG_HOME || join(homeDir, '.config');
  const paths = [primary, join(configHome, 'containers', 'auth.json'), dockerFile];
  return [...new Set(paths.filter((path): path is string => path !== undefined))];
}

/** Per call: the snapshot of docker's config.json is made once per call, so it keys the call's files. */
const loadedByCall = new WeakMap<DockerConfigSnapshot, Promise<LoginFile[]>>();

/**
 * The login files for a registry request sent to `engine` (or a pull by it): on Podman,
 * Podman's files before docker's (read once per call); otherwise docker's config.json alone.
 * A Podman file another user could have written is a RunDockerError, as docker's is.
 */
export async function readLoginFiles(
  engine: Pick<EngineClient, 'identify'>,
  env: Env,
  dockerConfig: DockerConfigSnapshot,
): Promise<LoginFile[]> {
  const docker: LoginFile[] = [{ format: 'docker', snapshot: dockerConfig }];
  const identity = await engine.identify?.().catch(() => undefined);
  if (identity?.kind !== 'podman') return docker;
  let loaded = loadedByCall.get(dockerConfig);
  if (!loaded) {
    loaded = loadPodmanLoginFiles(env, readHomeDir(env), dockerConfig);
    loadedByCall.set(dockerConfig, loaded);
  }
  return loaded;
}

/** Podman's login files as podmanLoginPaths orders them; missing ones are left out. */
export async function loadPodmanLoginFiles(
  env: Env,
  homeDir: string,
  dockerConfig: DockerConfigSnapshot,
  user: FileOwner | undefined = currentUser(),
): Promise<LoginFile[]> {
  const files: LoginFile[] = [];
  for (const path of podmanLoginPaths(env, homeDir, user?.uid ?? process.getuid?.(), dockerConfig.file)) {
    if (path === dockerConfig.file) {
      files.push({ format: 'docker', snapshot: dockerConfig });
      continue;
    }
    const snapshot = await loadContainersAuthFile(path, user);
    if (snapshot) files.push({ format: 'containers', snapshot });
  }
  return files;
}

/** One containers-auth.json file: undefined when missing; `problem` when unusable (a warning where it is read). */
async function loadContainersAuthFile(
  file: string,
  user: FileOwner | undefined,
): Promise<DockerConfigSnapshot | undefined> {
  const dir = join(file, '..');
  let bytes: Buffer | undefined;
  try {
    bytes = await readTrustedFile(file, { user, maxBytes: DOCKER_CONFIG_LIMIT_BYTES });
  } catch (error) {
    if (error instanceof UnreadableFile && error.reason === 'writable-by-others')
      throw new RunDockerError(
        `the Podman login file "${file}" is not used: it names the registry logins and the credential helpers that are started, and it ${error.message}`,
        'Make it and its folder yours and writable by you alone (chown "$USER"; chmod go-w), or point REGISTRY_AUTH_FILE at a file of yours.',
      );
    const problem =
      error instanceof UnreadableFile
        ? error.message
        : `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    return { dir, file, content: undefined, problem };
  }
  if (bytes === undefined) return undefined;
  const parsed = parseDockerConfig(bytes);
  return typeof parsed === 'string'
    ? { dir, file, content: undefined, problem: parsed }
    : { dir, file, content: parsed };
}
