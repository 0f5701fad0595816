/**
 * run-docker on Podman (docs/engines.md, issue 20): Debian's podman 4.3.1 next to docker.io,
 * rootful through its API socket with its own CLI and the docker CLI, and rootless as a second
 * user with subordinate ids. Each numbered problem of the issue has its test here:
 * 1 exit codes and clean-up, 2 --init, 3 files written as the host user, 4 one engine per call
 * (a docker that is Podman, no Docker socket), 5 loopback registries, 6 localhost/ names,
 * 7 messages; and later, 8 logins made with `podman login`, 9 build-docker with podman. The
 * test bed (scripts/podman-test-bed) installs Podman and the rootless user; the services this
 * file talks to are started and stopped here.
 */
import { spawn } from 'node:child_process';
import { chmod, chown, copyFile, cp, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildBusyboxImage, docker, pushImage, removeImages, runCommand } from '../helpers/fixtures';
import { PROJECT_TEMPLATE } from '../helpers/python-project';
import {
  asUser,
  CATATONIT,
  copyImageToPodman,
  podman,
  podmanContainersLabelled,
  removePodmanImages,
  requirePodmanTestBed,
  startPodmanService,
  stopRootlessPause,
  type PodmanService,
  type PodmanUser,
} from '../helpers/podman';
import { processesMentioning } from '../helpers/processes';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import {
  explain,
  expectOneLineFailure,
  makeHost,
  PACKAGE_VERSION,
  publish,
  removeHosts,
  ROOT,
  runShim,
  SHIM_BUNDLE,
  stderrLines,
  type HostEnv,
  type Outcome,
} from '../helpers/shim';

/** Built with docker, `podman load`ed: Podman names it `localhost/run-docker-test/podman-PID`. */
const project = `run-docker-test/podman-${process.pid}`;
const projectName = `podman-${process.pid}`;
const dockerImages: string[] = [];
const podmanImages: string[] = [];
const rootlessImages: string[] = [];
let user: PodmanUser;
let registry: TestRegistry;
/** Rootful Podman as Debian installs it next to docker.io: catatonit is not there. */
let rootful: PodmanService;
let labelCount = 0;

function expectSuccess(outcome: Outcome): void {
  if (outcome.code !== 0) throw new Error(`expected exit 0\n${explain(outcome)}`);
}

/** A label for one run's container, and the docker run option that sets it. */
function ownLabel(): { label: string; args: string[] } {
  const label = `org.run-docker.test.podman=${process.pid}-${++labelCount}`;
  return { label, args: ['--label', label] };
}

beforeAll(async () => {
  user = await requirePodmanTestBed();
  registry = await startRegistry();
  await buildBusyboxImage(`${project}:1.0.0`);
  dockerImages.push(`${project}:1.0.0`);
  podmanImages.push(await copyImageToPodman(`${project}:1.0.0`));
  rootlessImages.push(await copyImageToPodman(`${project}:1.0.0`, user));
  rootful = await startPodmanService();
});

afterAll(async () => {
  await rootful?.stop();
  await removePodmanImages(podmanImages);
  if (user) {
    await removePodmanImages(rootlessImages, user);
    // Rootless Podman's pause process outlives every call; the test bed leaves none behind.
    await stopRootlessPause(user);
  }
  await removeImages(dockerImages);
  await registry?.remove();
  await removeHosts();
});

describe('rootful Podman, through its API socket', () => {
  let host: HostEnv;
  beforeAll(async () => {
    host = await makeHost({ DOCKER_HOST: rootful.host });
  });

  test('6: an image Podman loaded without a registry is found as localhost/NAME and run by that name', async () => {
    expect(podmanImages[0]).toBe(`localhost/${project}:1.0.0`);
    const dryRun = await runShim(['--local', '--dry-run', project, 'true'], host);
    expectSuccess(dryRun);
    expect(dryRun.stdout).toMatch(new RegExp(` localhost/${project}:1\\.0\\.0 true\\n$`));
    // Its own CLI, pointed at exactly the engine that found the image.
    expect(dryRun.stdout).toMatch(new RegExp(`^podman --remote --url ${rootful.host} run --init `));
  });

  test("1: the exit code is the container's, a start that fails is 127 as with docker run, and nothing is left", async () => {
    const { label, args } = ownLabel();
    const exited = await runShim(['--local', ...args, project, 'sh', '-c', 'exit 42'], host);
    expect({ code: exited.code, why: explain(exited) }).toEqual({ code: 42, why: explain(exited) });
    const failed = await runShim(['--local', ...args, project, '/nonexistent'], host);
    expect({ code: failed.code, why: explain(failed) }).toEqual({ code: 127, why: explain(failed) });
    expect(await podmanContainersLabelled(label)).toEqual([]);
  });

  test("2: --init works on Debian's Podman without catatonit: the podman CLI is given tini-static", async () => {
    expect(await stat(CATATONIT).catch(() => undefined)).toBeUndefined();
    const outcome = await runShim(['--local', project, 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline'], host);
    expectSuccess(outcome);
    expect(outcome.stdout).toMatch(/^\/run\/podman-init -- sh -c /);
  });

  test('2: the docker CLI, which cannot name an init, gets one line saying what to install, and nothing runs', async () => {
    const { label, args } = ownLabel();
    const outcome = await runShim(['--local', ...args, project, 'true'], { ...host, RUN_DOCKER_CLI: 'docker' });
    expect(expectOneLineFailure(outcome)).toMatch(
      /^run-docker: Podman's init binary "\/usr\/libexec\/podman\/catatonit" is not installed, .*Install it \(Debian: apt-get install catatonit\)/,
    );
    expect(await podmanContainersLabelled(label)).toEqual([]);
  });

  describe('5: a registry on 127.0.0.1, which Podman treats as secure unless registries.conf says otherwise', () => {
    let app: string;
    beforeAll(async () => {
      app = `${registry.address}/podman-${process.pid}/app`;
      for (const version of ['1.0.0', '2.0.0']) {
        await buildBusyboxImage(`${app}:${version}`);
        await pushImage(`${app}:${version}`);
        dockerImages.push(`${app}:${version}`);
      }
      podmanImages.push(await copyImageToPodman(`${app}:1.0.0`));
    });

    test('is asked as Podman would ask it: one warning naming the registries.conf fix, and the image on the host runs', async () => {
      const outcome = await runShim([app, 'sh', '-c', 'echo $IMAGE_VERSION'], host);
      expectSuccess(outcome);
      expect(outcome.stdout).toBe('1.0.0\n');
      const lines = stderrLines(outcome);
      expect({ lines: lines.length, why: explain(outcome) }).toEqual({ lines: 1, why: explain(outcome) });
      expect(lines[0]).toMatch(
        new RegExp(
          `^run-docker: warning: the registry "${registry.address}" cannot be used over https \\(it answers plain HTTP, and the engine treats it as secure\\); using the images of "${app}" on this host$`,
        ),
      );
    });

    test("listed as insecure in the engine's registries.conf, its newest image is pulled and runs", async () => {
      const dir = await mkdtemp(join(tmpdir(), 'run-docker-registries-'));
      const conf = join(dir, 'registries.conf');
      await writeFile(conf, `[[registry]]\nlocation = "${registry.address}"\ninsecure = true\n`);
      const insecure = await startPodmanService({ env: { CONTAINERS_REGISTRIES_CONF: conf } });
      // Removed after the file whether or not the run below pulls it.
      podmanImages.push(`${app}:2.0.0`);
      try {
        const outcome = await runShim([app, 'sh', '-c', 'echo $IMAGE_VERSION'], {
          ...host,
          DOCKER_HOST: insecure.host,
        });
        expectSuccess(outcome);
        expect(outcome.stdout).toBe('2.0.0\n');
        expect(stderrLines(outcome).filter((line) => line.includes('warning'))).toEqual([]);
      } finally {
        await insecure.stop();
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  test('7: a Podman socket another user owns is named as such, never with the "docker" group', async () => {
    const outcome = await runShim(['--local', project, 'true'], await rootlessHost(), '', asUser(user));
    const line = expectOneLineFailure(outcome);
    expect(line).toBe(
      `run-docker: permission denied on the Podman socket "${rootful.host}" set by DOCKER_HOST. It belongs to the user who runs that Podman (rootful Podman's is root's): run as that user, or use your own rootless Podman: unset DOCKER_HOST, and run-docker finds $XDG_RUNTIME_DIR/podman/podman.sock or starts "podman system service" itself.`,
    );
    async function rootlessHost(): Promise<HostEnv> {
      const env = await makeHost({ DOCKER_HOST: rootful.host, XDG_RUNTIME_DIR: user.runtimeDir });
      await chown(env.HOME, user.uid, user.gid);
      return env;
    }
  });
});

describe('4: one engine per call', () => {
  test('a "docker" on PATH that runs Podman, in front of the Docker engine that chose the image, is refused in one line', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'run-docker-podman-docker-'));
    // Debian's podman-docker, word for word: /usr/bin/docker execs podman.
    await writeFile(
      join(bin, 'docker'),
      '#!/bin/sh\n[ -e /etc/containers/nodocker ] || \\\necho "Emulate Docker CLI using podman. Create /etc/containers/nodocker to quiet msg." >&2\nexec /usr/bin/podman "$@"\n',
    );
    await chmod(join(bin, 'docker'), 0o755);
    try {
      const { label, args } = ownLabel();
      const host = await makeHost({ PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` });
      const outcome = await runShim(['--local', ...args, project, 'true'], host);
      expect(expectOneLineFailure(outcome)).toMatch(
        new RegExp(
          `^run-docker: the "docker" command on PATH \\(${bin}/docker\\) runs Podman, but the engine at "unix:///var/run/docker.sock" \\(Docker [^)]+\\) chose the image: the container would run in another engine\\. `,
        ),
      );
      expect(await podmanContainersLabelled(label)).toEqual([]);
      expect((await docker(['ps', '--all', '--quiet', '--filter', `label=${label}`], { check: true })).stdout).toBe('');
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });
});

describe('rootless Podman, as a user with subordinate ids and no Docker socket it may use', () => {
  /** A host of the rootless user: its HOME (owned by it), its runtime folder, no DOCKER_HOST. */
  async function rootlessHost(extra: Record<string, string> = {}): Promise<HostEnv> {
    const env = await makeHost({ XDG_RUNTIME_DIR: user.runtimeDir, ...extra });
    // Podman's rootless storage stays the user's own (loaded once for the file).
    env.XDG_DATA_HOME = join(user.home, '.local', 'share');
    await chown(env.HOME, user.uid, user.gid);
    return env;
  }
  const run = (args: string[], env: HostEnv) => runShim(args, env, '', asUser(user));

  test('4: with no Podman socket either, run-docker starts "podman system service" for the call and stops it', async () => {
    const env = await rootlessHost();
    const { label, args } = ownLabel();
    const outcome = await run(['--local', '--network', 'host', ...args, project, 'sh', '-c', 'id -u; exit 3'], env);
    expect({ code: outcome.code, stdout: outcome.stdout, why: explain(outcome) }).toEqual({
      code: 3,
      stdout: `${user.uid}\n`,
      why: explain(outcome),
    });
    expect(await processesMentioning(`${user.runtimeDir}/run-docker-podman-`)).toEqual([]);
    expect(await podmanContainersLabelled(label, user)).toEqual([]);
  });

  describe('with its socket, $XDG_RUNTIME_DIR/podman/podman.sock', () => {
    let service: PodmanService;
    beforeAll(async () => {
      service = await startPodmanService({ user, socket: join(user.runtimeDir, 'podman', 'podman.sock') });
    });
    afterAll(() => service?.stop());

    test('4: is found, and runs with its own CLI and --userns=keep-id', async () => {
      const env = await rootlessHost();
      const config = await run(['--show-config'], env);
      expectSuccess(config);
      expect(config.stdout).toMatch(
        new RegExp(
          `^engine +unix://${user.runtimeDir}/podman/podman\\.sock +\\(Podman socket \\(not allowed to use Docker socket at /var/run/docker\\.sock\\)\\)$`,
          'm',
        ),
      );
      const outcome = await run(['--local', '--dry-run', project, 'true'], env);
      expectSuccess(outcome);
      expect(outcome.stdout).toMatch(
        new RegExp(
          `^podman --remote --url unix://${user.runtimeDir}/podman/podman.sock run --init --init-path /usr/bin/tini-static --rm --interactive --userns keep-id --name \\S+ --user ${user.uid}:${user.gid} `,
        ),
      );
    });

    test('3: files the container writes in ~/work/src, ~/work/data and ~/work/log belong to the host user', async () => {
      const env = await rootlessHost();
      const source = join(env.HOME, 'work', 'src', projectName);
      await mkdir(source, { recursive: true });
      for (const dir of [join(env.HOME, 'work'), join(env.HOME, 'work', 'src'), source])
        await chown(dir, user.uid, user.gid);
      const { label, args } = ownLabel();
      const script = 'id -u; touch by-container "$DATADIR/by-container" "$LOGDIR/by-container"';
      const outcome = await run(['--local', '--network', 'host', ...args, project, 'sh', '-c', script], env);
      expectSuccess(outcome);
      expect(outcome.stdout).toBe(`${user.uid}\n`);
      for (const file of [
        join(source, 'by-container'),
        join(env.HOME, 'work', 'data', 'by-container'),
        join(env.HOME, 'work', 'log', 'by-container'),
      ]) {
        const info = await stat(file);
        expect({ file, uid: info.uid, gid: info.gid }).toEqual({ file, uid: user.uid, gid: user.gid });
      }
      expect(await podmanContainersLabelled(label, user)).toEqual([]);
    });
  });
});

describe('8: a private registry, logged in to with "podman login" only (no docker login)', () => {
  const USER = 'podman-puller';
  const PASSWORD = 'pw with spaces & "quotes"';
  let secured: TestRegistry;
  let app: string;
  let service: PodmanService;
  let confDir: string;
  beforeAll(async () => {
    secured = await startRegistry({ auth: { username: USER, password: PASSWORD } });
    const publisher = await mkdtemp(join(tmpdir(), 'run-docker-publisher-'));
    await docker(['--config', publisher, 'login', '--username', USER, '--password-stdin', secured.address], {
      input: PASSWORD,
      check: true,
    });
    app = `${secured.address}/podman-${process.pid}/private`;
    for (const version of ['1.0.0', '2.0.0']) {
      await buildBusyboxImage(`${app}:${version}`);
      await docker(['--config', publisher, 'push', '--quiet', `${app}:${version}`], { check: true });
      dockerImages.push(`${app}:${version}`);
    }
    await rm(publisher, { recursive: true, force: true });
    // The engine may use the registry over plain HTTP (loopback is secure to Podman otherwise).
    confDir = await mkdtemp(join(tmpdir(), 'run-docker-registries-'));
    await chmod(confDir, 0o755);
    const conf = join(confDir, 'registries.conf');
    await writeFile(conf, `[[registry]]\nlocation = "${secured.address}"\ninsecure = true\n`);
    await chmod(conf, 0o644);
    service = await startPodmanService({
      user,
      socket: join(user.runtimeDir, `run-docker-test-login-${process.pid}`, 'podman.sock'),
      env: { CONTAINERS_REGISTRIES_CONF: conf },
    });
    rootlessImages.push(`${app}:1.0.0`, `${app}:2.0.0`);
    // The real CLI, as the user: it writes $XDG_RUNTIME_DIR/containers/auth.json.
    await podman(['login', '--tls-verify=false', '--username', USER, '--password-stdin', secured.address], user, {
      input: PASSWORD,
      check: true,
    });
  });
  afterAll(async () => {
    if (secured) await podman(['logout', secured.address], user);
    await service?.stop();
    if (service) await rm(dirname(service.socket), { recursive: true, force: true });
    if (confDir) await rm(confDir, { recursive: true, force: true });
    await secured?.remove();
  });

  test("the rootless user's newest tag is listed and pulled with Podman's login, and runs", async () => {
    expect((await stat(join(user.runtimeDir, 'containers', 'auth.json'))).uid).toBe(user.uid);
    const env = await makeHost({ DOCKER_HOST: service.host, XDG_RUNTIME_DIR: user.runtimeDir });
    env.XDG_DATA_HOME = join(user.home, '.local', 'share');
    await chown(env.HOME, user.uid, user.gid);
    const outcome = await runShim(['--network', 'host', app, 'sh', '-c', 'echo $IMAGE_VERSION'], env, '', asUser(user));
    expectSuccess(outcome);
    expect(outcome.stdout).toBe('2.0.0\n');
    expect(stderrLines(outcome).filter((line) => line.includes('warning'))).toEqual([]);
    for (const secret of [PASSWORD, Buffer.from(`${USER}:${PASSWORD}`).toString('base64')])
      expect(explain(outcome)).not.toContain(secret);
  }, 120_000);
});

describe('9: build-docker on a Podman-only host (no docker CLI), rootful Podman through its API socket', () => {
  const BASE = 'run-docker-test/python-minimal:bookworm-amd64';
  const GIT_ENV = {
    GIT_AUTHOR_NAME: 'Ann',
    GIT_AUTHOR_EMAIL: 'ann@example.com',
    GIT_COMMITTER_NAME: 'Ann',
    GIT_COMMITTER_EMAIL: 'ann@example.com',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  };
  let work: string;
  let service: PodmanService;
  let env: Record<string, string>;
  let repository: string;
  const git = (args: string[], cwd: string) => runCommand('git', args, { cwd, env: GIT_ENV, check: true });
  const buildDocker = (args: string[], cwd: string) =>
    runCommand(process.execPath, [join(work, 'build-docker'), ...args], { cwd, env: { ...env, ...GIT_ENV } });

  beforeAll(async () => {
    await runCommand(join(ROOT, 'scripts', 'build-platform-bases'), ['run-docker-test/python-minimal'], {
      check: true,
      timeoutMs: 600_000,
    });
    podmanImages.push(await copyImageToPodman(BASE));
    work = await mkdtemp(join(tmpdir(), 'run-docker-podman-build-'));
    const conf = join(work, 'registries.conf');
    await writeFile(conf, `[[registry]]\nlocation = "${registry.address}"\ninsecure = true\n`);
    service = await startPodmanService({ env: { CONTAINERS_REGISTRIES_CONF: conf } });
    // A host with Podman and no docker CLI: PATH holds podman, git and tar only.
    const bin = join(work, 'bin');
    await mkdir(bin);
    for (const tool of ['podman', 'git', 'tar']) {
      const found = (await runCommand('sh', ['-c', `command -v ${tool}`], { check: true })).stdout.trim();
      await symlink(found, join(bin, tool));
    }
    await symlink(SHIM_BUNDLE, join(work, 'build-docker'));
    env = { ...(await makeHost({ DOCKER_HOST: service.host })), PATH: bin };
    repository = `${registry.address}/podman-build-${process.pid}/hello`;
  }, 900_000);
  afterAll(async () => {
    if (service) {
      const built = await podman([
        'images',
        '--format',
        '{{.Repository}}:{{.Tag}}',
        '--filter',
        `reference=${registry.address}/podman-build-${process.pid}/*`,
      ]);
      await removePodmanImages(built.stdout.split('\n').filter(Boolean));
      await service.stop();
    }
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function projectFrom(base: string): Promise<string> {
    const project = await mkdtemp(join(work, 'hello-'));
    await cp(PROJECT_TEMPLATE, project, {
      recursive: true,
      filter: (source) => !/(__pycache__|\.pytest_cache)$/.test(source),
    });
    await writeFile(join(project, 'docker', 'Dockerfile'), `FROM ${base}\nCMD ["python3", "-m", "hello"]\n`);
    await git(['init', '--quiet', '--initial-branch=main'], project);
    await git(['add', '--all'], project);
    await git(['commit', '--quiet', '--message', 'The example project'], project);
    return project;
  }

  test('builds with podman in that engine, pushes to the registry, and prints the digests the registry holds', async () => {
    const project = await projectFrom(`localhost/${BASE}`);
    const dryRun = await buildDocker(['--dry-run', '--push', repository], project);
    expect({ code: dryRun.code, stderr: dryRun.stderr }).toEqual({ code: 0, stderr: '' });
    expect(dryRun.stdout).toContain(`\npodman --remote --url ${service.host} build --force-rm `);
    expect(dryRun.stdout).toContain(`\npodman --remote --url ${service.host} push ${repository}:`);

    const outcome = await buildDocker(['--push', repository], project);
    expect({ code: outcome.code, why: outcome.stderr.slice(-2000) }).toEqual({
      code: 0,
      why: outcome.stderr.slice(-2000),
    });
    const printed = outcome.stdout.trim().split('\n');
    expect(printed).toEqual([
      expect.stringMatching(new RegExp(`^${repository}@sha256:[0-9a-f]{64}$`)),
      expect.stringMatching(new RegExp(`^${repository}-main@sha256:[0-9a-f]{64}$`)),
    ]);
    const path = repository.slice(registry.address.length + 1);
    const tags = (await (await fetch(`http://${registry.address}/v2/${path}/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toEqual([expect.stringMatching(/^\d{8}-\d{6}$/)]);
    for (const [name, line] of [
      [path, printed[0]!],
      [`${path}-main`, printed[1]!],
    ] as const) {
      const answer = await fetch(`http://${registry.address}/v2/${name}/manifests/${tags.tags[0]}`, {
        method: 'HEAD',
        headers: {
          Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
        },
      });
      expect(`sha256:${line.split('@sha256:')[1]}`).toBe(answer.headers.get('docker-content-digest'));
    }
    // Built in Podman's storage, not Docker's.
    expect((await podman(['image', 'exists', `${repository}-main:${tags.tags[0]}`])).code).toBe(0);
    expect((await docker(['image', 'inspect', `${repository}-main:${tags.tags[0]}`])).code).not.toBe(0);
  }, 600_000);

  test('a build for several platforms is refused in one line before anything is built', async () => {
    const project = await projectFrom(`localhost/${BASE}`);
    const outcome = await buildDocker(
      ['--push', '--platform', 'linux/amd64,linux/arm64', `${repository}-multi`],
      project,
    );
    expect(outcome.code).toBe(125);
    expect(outcome.stderr).toMatch(
      /^run-docker: a build for several platforms \(--platform linux\/amd64,linux\/arm64\) is not supported on Podman: [^\n]*\n$/,
    );
  });
});

describe('on a Podman host where catatonit is installed (a mount namespace: tini-static at its path)', () => {
  let namespace: { launcher: string[]; stop: () => Promise<void> };
  let service: PodmanService;
  beforeAll(async () => {
    namespace = await startHostWithCatatonit();
    service = await startPodmanService({ launcher: namespace.launcher });
  });
  afterAll(async () => {
    await service?.stop();
    await namespace?.stop();
  });

  test('3: rootless Podman through the docker CLI (no --userns=keep-id there) runs as uid 0, which is the host user', async () => {
    const socket = join(user.runtimeDir, `run-docker-test-${process.pid}`, 'podman.sock');
    // Rootless Podman joins the namespaces of its pause process: one made outside this mount
    // namespace would not see catatonit. Stopped, the next Podman makes one inside it.
    await stopRootlessPause(user);
    const rootless = await startPodmanService({ user, socket, launcher: namespace.launcher });
    try {
      const env = await makeHost({
        DOCKER_HOST: `unix://${socket}`,
        RUN_DOCKER_CLI: 'docker',
        XDG_RUNTIME_DIR: user.runtimeDir,
      });
      env.XDG_DATA_HOME = join(user.home, '.local', 'share');
      await chown(env.HOME, user.uid, user.gid);
      const { label, args } = ownLabel();
      const script = 'id -u; touch "$DATADIR/by-container" "$LOGDIR/by-container"';
      const outcome = await runShim(['--local', '--network', 'host', ...args, project, 'sh', '-c', script], env, '', [
        ...namespace.launcher,
        ...asUser(user),
      ]);
      expectSuccess(outcome);
      expect(outcome.stdout).toBe('0\n');
      for (const file of [
        join(env.HOME, 'work', 'data', 'by-container'),
        join(env.HOME, 'work', 'log', 'by-container'),
      ]) {
        const info = await stat(file);
        expect({ file, uid: info.uid, gid: info.gid }).toEqual({ file, uid: user.uid, gid: user.gid });
      }
      expect(await podmanContainersLabelled(label, user)).toEqual([]);
    } finally {
      await rootless.stop();
      // The next rootless Podman must not join a pause process inside this namespace.
      await stopRootlessPause(user);
      await rm(dirname(socket), { recursive: true, force: true });
    }
  });

  test('1: the docker CLI gets the exit code (no --rm: removed after the exit), and a failed start leaves nothing', async () => {
    const host = await makeHost({ DOCKER_HOST: service.host, RUN_DOCKER_CLI: 'docker' });
    const { label, args } = ownLabel();
    const exited = await runShim(['--local', ...args, project, 'sh', '-c', 'exit 42'], host, '', namespace.launcher);
    expect({ code: exited.code, why: explain(exited) }).toEqual({ code: 42, why: explain(exited) });
    const failed = await runShim(['--local', ...args, project, '/nonexistent'], host, '', namespace.launcher);
    expect(failed.code).not.toBe(0);
    expect(await podmanContainersLabelled(label)).toEqual([]);
  });
});

describe('tiny and mini delivered through Podman', () => {
  test('the shim pulls tiny and the newest mini from a registry Podman lists as insecure, and runs it', async () => {
    const prefix = `${registry.address}/podman-${process.pid}`;
    const tiny = await publish('tiny', `${prefix}/tiny`);
    await publish('mini', `${prefix}/mini`, ['--version', '20260101-000000']);
    dockerImages.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`, `${prefix}/mini:20260101-000000`);
    const dir = await mkdtemp(join(tmpdir(), 'run-docker-registries-'));
    const conf = join(dir, 'registries.conf');
    await writeFile(conf, `[[registry]]\nlocation = "${registry.address}"\ninsecure = true\n`);
    const service = await startPodmanService({ env: { CONTAINERS_REGISTRIES_CONF: conf } });
    podmanImages.push(tiny, `${prefix}/mini:20260101-000000`);
    try {
      const host = await makeHost({
        DOCKER_HOST: service.host,
        RUN_DOCKER_TINY: tiny,
        RUN_DOCKER_MINI: `${prefix}/mini`,
      });
      const outcome = await runShim(['--version'], host);
      expectSuccess(outcome);
      expect(outcome.stdout).toContain(`mini ${prefix}/mini:20260101-000000 (20260101-000000, payload `);
    } finally {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A mount namespace in which /usr/libexec/podman/catatonit exists (tini-static, through an
 * overlay on /usr/libexec): a Podman host with catatonit installed, without changing this
 * machine for anyone else. `launcher` runs a command inside it.
 */
async function startHostWithCatatonit(): Promise<{ launcher: string[]; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'run-docker-catatonit-'));
  await mkdir(join(dir, 'upper', 'podman'), { recursive: true });
  await mkdir(join(dir, 'work'));
  await copyFile('/usr/bin/tini-static', join(dir, 'upper', 'podman', 'catatonit'));
  await chmod(join(dir, 'upper', 'podman', 'catatonit'), 0o755);
  const holder = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      `mount -t overlay overlay -o lowerdir=/usr/libexec,upperdir=${dir}/upper,workdir=${dir}/work /usr/libexec && echo ready && exec sleep infinity`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    holder.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    holder.once('exit', (code) => reject(new Error(`the mount namespace did not start (exit ${code})`)));
  });
  const check = await readFile(`/proc/${holder.pid}/mountinfo`, 'utf8');
  if (!check.includes('/usr/libexec')) throw new Error('the overlay on /usr/libexec is not in the namespace');
  return {
    launcher: ['nsenter', `--mount=/proc/${holder.pid}/ns/mnt`, '--'],
    stop: async () => {
      const gone = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGTERM');
      await gone;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
