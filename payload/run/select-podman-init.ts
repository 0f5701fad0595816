/**
 * `--init` on Podman runs the binary containers.conf names as `init_path`, by default
 * `/usr/libexec/podman/catatonit` (containers-common's containers.conf). Debian's podman only
 * recommends `catatonit | tini | dumb-init`, so where docker.io already pulled in tini,
 * catatonit is never installed, and every `--init` run fails ("container-init binary not
 * found on the host", exit 127). On a Podman engine on this host, run-docker looks before it
 * runs: the podman CLI is given an init that is there (`--init-path`: containers.conf's
 * init_path, else catatonit elsewhere, else tini's static build, which docker.io uses as
 * docker-init); the docker CLI has no such option, so then one line says what to install.
 * https://docs.podman.io/en/v4.3/markdown/podman-run.1.html#init-path-path
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineCli } from '../../contract/contract';
import { readPrivateFile } from '../../common/read-private-file';
import { RunDockerError } from '../../common/run-docker-error';

export const DEFAULT_PODMAN_INIT_PATH = '/usr/libexec/podman/catatonit';

/** Static init binaries that do catatonit's work (signals, zombies), in order of preference.
 *  Dynamic ones (Debian's /usr/bin/tini) would fail in images without a C library. */
export const STATIC_INIT_CANDIDATES = ['/usr/bin/catatonit', '/usr/bin/tini-static', '/usr/bin/docker-init'];

/** Pure: `init_path` of containers.conf's [containers] table, when set. */
export function parseInitPath(text: string): string | undefined {
  let table = '';
  let found: string | undefined;
  for (const line of text.split('\n')) {
    const header = /^\s*\[([^\]]*)\]\s*(?:#.*)?$/.exec(line);
    if (header) {
      table = (header[1] ?? '').trim();
      continue;
    }
    if (table !== 'containers') continue;
    const value = /^\s*init_path\s*=\s*(?:"([^"]*)"|'([^']*)')\s*(?:#.*)?$/.exec(line);
    if (value) found = value[1] ?? value[2];
  }
  return found;
}

/**
 * The containers.conf files Podman reads on this host, in the order it reads them (later
 * wins): CONTAINERS_CONF alone when set, else the system files and their drop-in folders,
 * then, for a rootless user, the user's own (containers-common, pkg/config).
 */
export function containersConfFiles(
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
  rootless: boolean,
  list: (dir: string) => string[] = listConfFiles,
): string[] {
  if (env.CONTAINERS_CONF) return [env.CONTAINERS_CONF];
  const withDropIns = (file: string) => [file, ...list(`${file}.d`)];
  const userDir = join(env.XDG_CONFIG_HOME || join(homeDir, '.config'), 'containers');
  return [
    ...withDropIns('/usr/share/containers/containers.conf'),
    ...withDropIns('/etc/containers/containers.conf'),
    ...(rootless ? withDropIns(join(userDir, 'containers.conf')) : []),
  ];
}

export type InitChoice = { initPath?: string };

/**
 * Pure: what `--init` needs on this Podman, or the one line saying what to install. Through
 * its API (how both CLIs reach it here) Podman 4.3 starts the compiled-in default, whatever
 * containers.conf says, unless the request names an init path, which only the podman CLI can
 * (`--init-path`): so the default decides, and the podman CLI is given the configured
 * init_path, else a static init that is installed.
 */
export function selectPodmanInit(configured: string, cli: EngineCli, exists: (path: string) => boolean): InitChoice {
  if (exists(DEFAULT_PODMAN_INIT_PATH)) return {};
  const replacement =
    cli === 'podman'
      ? [...(configured === DEFAULT_PODMAN_INIT_PATH ? [] : [configured]), ...STATIC_INIT_CANDIDATES].find(exists)
      : undefined;
  if (replacement !== undefined) return { initPath: replacement };
  throw new RunDockerError(
    `Podman's init binary "${DEFAULT_PODMAN_INIT_PATH}" is not installed, and every run-docker container starts with --init`,
    cli === 'podman'
      ? 'Install it (Debian: apt-get install catatonit), or set init_path in containers.conf to a static init such as /usr/bin/tini-static.'
      : 'Install it (Debian: apt-get install catatonit), or let run-docker start containers with the podman CLI (unset RUN_DOCKER_CLI), which can be given /usr/bin/tini-static.',
  );
}

/** I/O: the init_path Podman would use on this host. */
export async function readPodmanInitPath(
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
  rootless: boolean,
): Promise<string> {
  let configured = DEFAULT_PODMAN_INIT_PATH;
  for (const file of containersConfFiles(env, homeDir, rootless)) {
    // Bounded and never blocking (a FIFO is refused); a file that cannot be read says nothing.
    const text = await readPrivateFile(file, { maxBytes: 1024 * 1024, followSymlink: true }).then(
      (bytes) => bytes?.toString('utf8'),
      () => undefined,
    );
    if (text !== undefined) configured = parseInitPath(text) ?? configured;
  }
  return configured;
}

export function podmanInitExists(path: string): boolean {
  return existsSync(path);
}

function listConfFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.conf'))
      .sort()
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}
