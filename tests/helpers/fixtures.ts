// Fixture images for integration tests, built without pulling anything: nothing can be
// pulled from Docker Hub on these machines. Every image and container a test makes
// carries TEST_LABEL, so what a run left behind can be found.
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const TEST_LABEL = 'org.run-docker.test';
export const BUSYBOX_BASE_IMAGE = 'run-docker-test/busybox:base';
/** Debian's busybox-static (scripts/with-engine installs it). */
export const BUSYBOX_PATH = '/bin/busybox';
export const DOCKER_USER = { name: 'docker-user', uid: 1000, gid: 1000, home: '/home/docker-user' };

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** Exit code; 128 + n when the process died of signal n. */
  code: number;
}

export interface CommandOptions {
  /** Written to the command's stdin (closed when absent). */
  input?: string | Buffer;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Reject with a CommandError when the exit code is not 0. */
  check?: boolean;
  /** Kill the command (SIGKILL) after this long. */
  timeoutMs?: number;
}

export class CommandError extends Error {
  constructor(
    readonly file: string,
    readonly args: string[],
    readonly result: CommandResult,
  ) {
    super(
      `'${[file, ...args].join(' ')}' exited with code ${result.code}\n` +
        `--- stdout ---\n${result.stdout}--- stderr ---\n${result.stderr}`,
    );
    this.name = 'CommandError';
  }
}

/** Runs the docker CLI (no shell) and collects its output. */
export function docker(args: string[], options: CommandOptions = {}): Promise<CommandResult> {
  return runCommand('docker', args, options);
}

/**
 * What the legacy builder says when a cached step's image was removed while it built: as it
 * takes the step from the cache, or as it commits the next step on it.
 */
const LOST_CACHED_STEP = /unable to find image "sha256:|unknown parent image ID sha256:/;

/**
 * `docker build ARGS` with the legacy builder (DOCKER_BUILDKIT=0: the CI machine's CLI has no
 * buildx, and an inherited DOCKER_BUILDKIT=1 must not turn a build into an error). The legacy
 * builder picks a cached step's image and uses it a moment later; when another run on the
 * same engine removes images in between (another suite, a benchmark publishing beside the
 * tests), the build fails with one of LOST_CACHED_STEP's messages. Built again without the
 * cache, no step can be lost. `check`: throw on failure, as docker() does.
 */
export async function dockerBuild(args: string[], options: CommandOptions = {}): Promise<CommandResult> {
  const { check, ...rest } = options;
  const env = { ...options.env, DOCKER_BUILDKIT: '0' };
  const build = (cache: string[]) => docker(['build', ...cache, ...args], { ...rest, env });
  let result = await build([]);
  if (result.code !== 0 && LOST_CACHED_STEP.test(result.stderr)) result = await build(['--no-cache']);
  if (check && result.code !== 0) throw new CommandError('docker', ['build', ...args], result);
  return result;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGTERM: 15,
};

/** Runs FILE with ARGS (no shell) and collects its output. */
export function runCommand(file: string, args: string[], options: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer =
      options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: CommandResult = {
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        code: code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0),
      };
      if (options.check && result.code !== 0) reject(new CommandError(file, args, result));
      else resolve(result);
    });
    // The command may exit before reading its input (EPIPE); its exit code tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}

export interface BusyboxImageOptions {
  /** Added to TEST_LABEL, which every fixture image has. */
  labels?: Record<string, string>;
  /**
   * Extra files, absolute path in the image → content; owned by root, mode 0755 when
   * the content starts with `#!`, else 0644. Parent directories are created.
   */
  files?: Record<string, string>;
  /** Exec-form CMD; the base image's is ["sh"]. */
  cmd?: string[];
}

/**
 * Builds REFERENCE from the shared busybox base image: FROM scratch, Debian's static
 * busybox at /bin/busybox with its applets as symlinks, root and docker-user (uid 1000,
 * home /home/docker-user), /tmp with mode 1777, CMD ["sh"].
 */
export async function buildBusyboxImage(reference: string, options: BusyboxImageOptions = {}): Promise<void> {
  await ensureBusyboxBaseImage();
  const lines = [`FROM ${BUSYBOX_BASE_IMAGE}`];
  await withBuildContext(async (context) => {
    const files = Object.entries(options.files ?? {});
    if (files.length > 0) {
      for (const [imagePath, content] of files) {
        if (!path.posix.isAbsolute(imagePath)) throw new Error(`fixture file path '${imagePath}' is not absolute`);
        const hostPath = path.join(context, 'files', imagePath);
        await mkdir(path.dirname(hostPath), { recursive: true });
        await writeFile(hostPath, content);
        await chmod(hostPath, content.startsWith('#!') ? 0o755 : 0o644);
      }
      lines.push('COPY files/ /');
    }
    if (options.cmd) lines.push(`CMD ${JSON.stringify(options.cmd)}`);
    await writeFile(path.join(context, 'Dockerfile'), `${lines.join('\n')}\n`);
    await buildImage(context, reference, { [TEST_LABEL]: '1', ...options.labels });
  });
}

/**
 * REFERENCE for another platform (`linux/arm64`): FROM scratch with one file and TEST_LABEL,
 * nothing run, so no emulation is needed; such an image can be pushed, never run here. The
 * legacy builder gives an instruction before the first COPY the host's platform, so COPY
 * comes first, and --no-cache keeps a layer of this host's platform from being reused.
 */
export async function buildFilesOnlyImage(reference: string, platform: string): Promise<void> {
  await withBuildContext(async (context) => {
    await writeFile(path.join(context, 'platform'), `${platform}\n`);
    await writeFile(path.join(context, 'Dockerfile'), `FROM scratch\nCOPY platform /platform\nLABEL ${TEST_LABEL}=1\n`);
    await docker(['build', '--quiet', '--no-cache', '--platform', platform, '--tag', reference, context], {
      check: true,
      env: { DOCKER_BUILDKIT: '0' },
    });
  });
}

/** Pushes REFERENCE (its registry must be reachable; 127.0.0.1 needs no TLS). */
export async function pushImage(reference: string): Promise<void> {
  await docker(['push', '--quiet', reference], { check: true });
}

/** Removes images by reference or ID; missing ones are ignored. */
export async function removeImages(references: string[]): Promise<void> {
  if (references.length === 0) return;
  const result = await docker(['image', 'rm', '--force', ...references]);
  const unexpected = result.stderr.split('\n').filter((line) => line.trim() !== '' && !/no such image/i.test(line));
  if (result.code !== 0 && unexpected.length > 0) {
    throw new CommandError('docker', ['image', 'rm', '--force', ...references], result);
  }
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== '');
}

/** Applets every fixture image must have; checked so a stripped busybox fails loudly. */
const REQUIRED_APPLETS = [
  'sh',
  'echo',
  'cat',
  'ls',
  'id',
  'env',
  'sleep',
  'true',
  'false',
  'pwd',
  'touch',
  'mkdir',
  'printf',
  'test',
  'wc',
];

let baseImageBuild: Promise<void> | undefined;

/**
 * Builds BUSYBOX_BASE_IMAGE once per process, so a changed helper takes effect on the
 * next run; the legacy builder caches COPY layers by content, so rebuilding an unchanged
 * context takes well under a second. Builds it again if it went missing meanwhile.
 */
export async function ensureBusyboxBaseImage(): Promise<void> {
  const build = (baseImageBuild ??= buildBusyboxBaseImage());
  try {
    await build;
  } catch (error) {
    if (baseImageBuild === build) baseImageBuild = undefined;
    throw error;
  }
  if ((await docker(['image', 'inspect', '--format', '{{.Id}}', BUSYBOX_BASE_IMAGE])).code === 0) return;
  if (baseImageBuild === build) baseImageBuild = buildBusyboxBaseImage();
  await baseImageBuild;
}

async function buildBusyboxBaseImage(): Promise<void> {
  try {
    await access(BUSYBOX_PATH, fsConstants.X_OK);
  } catch {
    throw new Error(`'${BUSYBOX_PATH}' is missing: install busybox-static (scripts/with-engine does)`);
  }
  const applets = words((await runCommand(BUSYBOX_PATH, ['--list'], { check: true })).stdout);
  const missing = REQUIRED_APPLETS.filter((applet) => !applets.includes(applet));
  if (missing.length > 0) throw new Error(`'${BUSYBOX_PATH}' lacks applets: ${missing.join(', ')}`);

  await withBuildContext(async (context) => {
    const rootfs = path.join(context, 'rootfs');
    for (const dir of ['bin', 'etc', 'tmp', 'root']) await mkdir(path.join(rootfs, dir), { recursive: true });
    await copyFile(BUSYBOX_PATH, path.join(rootfs, 'bin', 'busybox'));
    await chmod(path.join(rootfs, 'bin', 'busybox'), 0o755);
    for (const applet of applets) {
      if (applet !== 'busybox' && !applet.includes('/')) await symlink('busybox', path.join(rootfs, 'bin', applet));
    }
    const user = DOCKER_USER;
    await writeFile(
      path.join(rootfs, 'etc', 'passwd'),
      `root:x:0:0:root:/root:/bin/sh\n${user.name}:x:${user.uid}:${user.gid}::${user.home}:/bin/sh\n`,
    );
    await writeFile(path.join(rootfs, 'etc', 'group'), `root:x:0:\n${user.name}:x:${user.gid}:\n`);
    // mkdir honours the umask; the image needs the exact modes.
    await chmod(path.join(rootfs, 'tmp'), 0o1777);
    await chmod(path.join(rootfs, 'root'), 0o700);
    await mkdir(path.join(context, 'home'));
    await chmod(path.join(context, 'home'), 0o755);
    await writeFile(
      path.join(context, 'Dockerfile'),
      [
        'FROM scratch',
        'COPY rootfs/ /',
        // The legacy builder chowns the destination directory too.
        `COPY --chown=${user.uid}:${user.gid} home/ ${user.home}/`,
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'CMD ["sh"]',
        '',
      ].join('\n'),
    );
    await buildImage(context, BUSYBOX_BASE_IMAGE, { [TEST_LABEL]: '1' });
  });
}

async function buildImage(context: string, reference: string, labels: Record<string, string>): Promise<void> {
  const labelArgs = Object.entries(labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
  await dockerBuild(['--quiet', '--tag', reference, ...labelArgs, context], { check: true });
}

async function withBuildContext<T>(use: (context: string) => Promise<T>): Promise<T> {
  const context = await mkdtemp(path.join(tmpdir(), 'run-docker-fixture-'));
  try {
    return await use(context);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}
