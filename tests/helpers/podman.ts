/**
 * Podman for the integration tests (docs/engines.md): Debian's podman and a rootless user with
 * subordinate ids, set up by scripts/podman-test-bed (scripts/with-engine runs it); the
 * services a test file talks to are started here and stopped by the same file. Nothing is
 * pulled: fixture images are built with docker (fixtures.ts) and `podman load`ed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getOverSocket } from '../../common/engine/socket-get';
import { docker, runCommand, type CommandOptions, type CommandResult } from './fixtures';
import { processesMentioning } from './processes';

export const ROOTLESS_USER = 'run-docker-rootless';
export const TEST_BED_DROP_IN = '/etc/containers/containers.conf.d/50-run-docker-test-bed.conf';
/** Podman's default init, which Debian's podman leaves uninstalled next to docker.io (tini). */
export const CATATONIT = '/usr/libexec/podman/catatonit';

export interface PodmanUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** /run/user/UID: rootless Podman keeps its run root here, the same for every call (its database says which). */
  runtimeDir: string;
}

/** Fails with what to run when the test bed is not there: a missing engine is never a silent skip. */
export async function requirePodmanTestBed(): Promise<PodmanUser> {
  const missing = [
    ...((await runCommand('podman', ['--version']).catch(() => ({ code: 127 }))).code === 0 ? [] : ['podman']),
    ...(existsSync(TEST_BED_DROP_IN) ? [] : [TEST_BED_DROP_IN]),
  ];
  const passwd = await runCommand('getent', ['passwd', ROOTLESS_USER]);
  if (passwd.code !== 0) missing.push(`the user ${ROOTLESS_USER}`);
  if (missing.length > 0)
    throw new Error(`the Podman test bed is incomplete (${missing.join(', ')}): run scripts/podman-test-bed as root`);
  const [, , uid = '', gid = '', , home = ''] = passwd.stdout.trim().split(':');
  const user = { name: ROOTLESS_USER, uid: Number(uid), gid: Number(gid), home, runtimeDir: `/run/user/${uid}` };
  if (!existsSync(user.runtimeDir))
    throw new Error(`${user.runtimeDir} is missing: run scripts/podman-test-bed as root`);
  return user;
}

/** Runs the rest of a command line as `user`, with its own groups only (not docker's). */
export function asUser(user: PodmanUser): string[] {
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups'];
}

/** What rootless Podman needs to find this user's storage and run root. */
export function rootlessEnv(user: PodmanUser): Record<string, string> {
  return {
    HOME: user.home,
    USER: user.name,
    XDG_RUNTIME_DIR: user.runtimeDir,
    XDG_DATA_HOME: join(user.home, '.local', 'share'),
    PATH: process.env.PATH ?? '/usr/bin:/bin',
  };
}

/** `podman ARGS`, as root, or as `user` with its rootless environment. */
export function podman(args: string[], user?: PodmanUser, options: CommandOptions = {}): Promise<CommandResult> {
  if (!user) return runCommand('podman', args, options);
  const [file = 'setpriv', ...rest] = [...asUser(user), 'podman', ...args];
  return runCommand(file, rest, { ...options, env: { ...rootlessEnv(user), ...options.env } });
}

export interface PodmanService {
  /** `unix:///…/podman.sock` */
  host: string;
  socket: string;
  /** Stops the service this file started and waits until it is gone. */
  stop(): Promise<void>;
}

/**
 * `podman system service` on `socket` (default: a new private folder), as root or as `user`,
 * with `env` added (CONTAINERS_REGISTRIES_CONF, …); resolves once GET /_ping answers.
 */
export async function startPodmanService(
  options: { socket?: string; user?: PodmanUser; env?: Record<string, string>; launcher?: string[] } = {},
): Promise<PodmanService> {
  const dir = options.socket ? undefined : await mkdtemp(join(tmpdir(), 'run-docker-podman-service-'));
  const socket = options.socket ?? join(dir!, 'podman.sock');
  if (options.socket) {
    // Podman makes no folder for a socket it is told to listen on.
    await mkdir(dirname(options.socket), { recursive: true, mode: 0o700 });
    if (options.user) await chown(dirname(options.socket), options.user.uid, options.user.gid);
  }
  const command = [
    ...(options.launcher ?? []),
    ...(options.user ? asUser(options.user) : []),
    'podman',
    'system',
    'service',
    '--time=0',
    `unix://${socket}`,
  ];
  const env = { ...process.env, ...(options.user ? rootlessEnv(options.user) : {}), ...options.env };
  const [file = 'podman', ...args] = command;
  const child: ChildProcess = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answered = await getOverSocket(socket, '/_ping', 1000, () => new Error('silent')).then(
      (answer) => answer.status === 200,
      () => false,
    );
    if (answered) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`podman system service did not start on ${socket}:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    host: `unix://${socket}`,
    socket,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      // Rootless Podman may re-execute itself into its user namespace, leaving the process
      // started here behind: the service is the process that names this file's socket.
      await killProcessesMentioning(`unix://${socket}`);
      child.stderr?.destroy();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** SIGTERM to the processes whose command line holds `text` (ones this file started), then waits until they are gone. */
async function killProcessesMentioning(text: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const pids = (await processesMentioning(text)).map((line) => Number(line.split(':')[0]));
    if (pids.length === 0) return;
    for (const pid of pids) process.kill(pid, Date.now() > deadline ? 'SIGKILL' : 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Stops `user`'s rootless pause process, whose namespaces every rootless Podman of that user
 * joins: the next Podman makes a new one, in the mount namespace it runs in.
 */
export async function stopRootlessPause(user: PodmanUser): Promise<void> {
  const pid = Number(
    (await readFile(join(user.runtimeDir, 'libpod', 'tmp', 'pause.pid'), 'utf8').catch(() => '')).trim(),
  );
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // gone already
  }
  // A zombie nobody reaps (no init reaps orphans here) counts as gone.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (state === '' || / Z /.test(state)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Copies an image from the Docker engine into Podman's storage (root's, or `user`'s), as a
 * user would `docker save | podman load`; resolves to the name Podman gave it (`localhost/…`
 * for a name without a registry).
 */
export async function copyImageToPodman(reference: string, user?: PodmanUser): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'run-docker-podman-load-'));
  try {
    const archive = join(dir, 'image.tar');
    await docker(['save', '--output', archive, reference], { check: true });
    await chmod(dir, 0o755);
    await chmod(archive, 0o644);
    const loaded = await podman(['load', '--input', archive], user, { check: true });
    const name = /Loaded image(?:\(s\))?: (\S+)/.exec(loaded.stdout)?.[1];
    if (!name) throw new Error(`podman load said no name:\n${loaded.stdout}${loaded.stderr}`);
    return name;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Removes images from Podman's storage (root's, or `user`'s); missing ones are ignored. */
export async function removePodmanImages(references: string[], user?: PodmanUser): Promise<void> {
  if (references.length > 0) await podman(['rmi', '--force', '--ignore', ...references], user);
}

/** Names of the containers (any state) with the label `key=value`. */
export async function podmanContainersLabelled(label: string, user?: PodmanUser): Promise<string[]> {
  const listed = await podman(['ps', '--all', '--filter', `label=${label}`, '--format', '{{.Names}}'], user, {
    check: true,
  });
  return listed.stdout.split('\n').filter((line) => line.trim() !== '');
}
