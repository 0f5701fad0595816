/**
 * With no DOCKER_HOST, no docker context, and no Docker socket this user can use, the engine
 * may well be Podman, which needs no Docker socket at all. It is looked for where Podman
 * puts its API socket (podman-system-service(1); the systemd units podman.socket):
 * rootless `$XDG_RUNTIME_DIR/podman/podman.sock`, rootful `/run/podman/podman.sock`. With
 * neither, and Podman installed, run-docker starts `podman system service` for the call
 * (start-podman-service.ts). The choice is pure (`choosePodmanFallback`); the probes are
 * two or three stat/access calls, and none at all when DOCKER_HOST or a context decides.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { FileOwner, HostPlatform } from '../host-platform';
import { currentUser, UnreadableFile } from '../read-private-file';
import { resolveTrustedPath } from '../read-trusted-file';
import { plainUnixSocketPath, type EngineEndpoint } from './select-engine-endpoint';

/** Where rootful Podman listens (podman.socket, `podman system service` as root). */
export const ROOTFUL_PODMAN_SOCKET = '/run/podman/podman.sock';

/** An endpoint the shim found for itself, which the docker CLI would not find. */
export type FoundEndpoint = EngineEndpoint & { found?: 'podman-socket' | 'podman-service' };

/** What a socket path is to this user: one to connect to, none, or one it may not use. */
export type SocketState = 'usable' | 'absent' | 'denied';

export interface PodmanFallbackFacts {
  platform: HostPlatform;
  /** This process's uid; undefined on Windows. */
  uid: number | undefined;
  env: Readonly<Record<string, string | undefined>>;
  probe: (path: string) => SocketState;
  /** The `podman` executable on PATH, if any; asked only when no socket is found. */
  findPodman: () => string | undefined;
}

export type PodmanFallback =
  | { kind: 'keep' }
  | { kind: 'socket'; endpoint: FoundEndpoint }
  /** Start `podman system service` for this call. */
  | { kind: 'service'; podmanPath: string; why: string };

/** Pure: what to use instead of `endpoint`, when it is the default socket and this user cannot use it. */
export function choosePodmanFallback(endpoint: EngineEndpoint, facts: PodmanFallbackFacts): PodmanFallback {
  // Only the default: DOCKER_HOST and contexts are choices the docker CLI follows too.
  if (endpoint.source !== 'default' || facts.platform !== 'linux') return { kind: 'keep' };
  const dockerSocket = plainUnixSocketPath(endpoint.host);
  if (dockerSocket === undefined) return { kind: 'keep' };
  const docker = facts.probe(dockerSocket);
  if (docker === 'usable') return { kind: 'keep' };
  const why = `${docker === 'denied' ? 'not allowed to use' : 'no'} Docker socket at ${dockerSocket}`;
  for (const path of podmanSocketCandidates(facts.uid, facts.env)) {
    if (facts.probe(path) === 'usable')
      return {
        kind: 'socket',
        endpoint: { host: `unix://${path}`, source: `Podman socket (${why})`, found: 'podman-socket' },
      };
  }
  const podmanPath = facts.findPodman();
  return podmanPath === undefined ? { kind: 'keep' } : { kind: 'service', podmanPath, why };
}

/** Pure: Podman's sockets, this user's own first (a user's rootless Podman is the one its `podman` uses). */
export function podmanSocketCandidates(
  uid: number | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const runtimeDir = env.XDG_RUNTIME_DIR;
  const own = uid !== 0 && runtimeDir && isAbsolute(runtimeDir) ? [join(runtimeDir, 'podman', 'podman.sock')] : [];
  return [...own, ROOTFUL_PODMAN_SOCKET];
}

/**
 * Whether `path` is a socket this user may connect to (read and write), and one nobody but
 * this user or root can have put there: whoever listens on an engine socket chooses the
 * images that run, so a socket, or a folder on its way, that another user could change is
 * not taken (the owner rule of read-engine-endpoint.ts; `user` undefined: not judged, Windows).
 */
export function probeSocket(path: string, user: FileOwner | undefined = currentUser()): SocketState {
  try {
    const real = user === undefined ? path : resolveTrustedPath(path, user);
    const info = statSync(real);
    if (!info.isSocket()) return 'absent';
    if (user !== undefined && info.uid !== user.uid && info.uid !== 0) return 'denied';
    accessSync(real, constants.R_OK | constants.W_OK);
    return 'usable';
  } catch (error) {
    if (error instanceof UnreadableFile) return 'denied';
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'denied' : 'absent';
  }
}

/**
 * The first executable `name` on PATH. Relative entries are skipped, as Go's exec.LookPath
 * refuses them: a program in the current folder must not stand in for the engine's CLI. On
 * Windows the names PATHEXT adds count too (`docker.exe`), as cmd.exe finds them.
 */
export function findOnPath(
  name: string,
  env: Readonly<Record<string, string | undefined>>,
  platform: HostPlatform = process.platform,
): string | undefined {
  const windows = platform === 'win32';
  const extensions = windows ? ['', ...(env.PATHEXT || '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean)] : [''];
  for (const dir of (env.PATH ?? env.Path ?? '').split(windows ? ';' : delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    for (const extension of extensions) {
      const file = join(dir, name + extension.toLowerCase());
      try {
        if (!statSync(file).isFile()) continue;
        // Windows has no execute bit: a file with one of PATHEXT's names is a program.
        if (!windows) accessSync(file, constants.X_OK);
        return file;
      } catch {
        // Not here: the next name, the next folder.
      }
    }
  }
  return undefined;
}
