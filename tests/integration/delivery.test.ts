/**
 * The self-updating delivery, end to end on the real engine and registry: a host with
 * only the shim follows the newest mini as it is published, survives a stopped
 * registry, refuses tampered and incompatible payloads, and leaves no containers.
 */
import { createServer, type Server } from 'node:net';
import Dockerode from 'dockerode';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage, docker, dockerBuild, pushImage, removeImages, runCommand } from '../helpers/fixtures';
import { listen } from '../helpers/listen';
import { startRegistry, tagInRegistry, type TestRegistry } from '../helpers/registry';
import {
  explain,
  makeHost,
  PACKAGE_VERSION,
  publish,
  removeHosts,
  runShim,
  startShim,
  stderrLines,
  type HostEnv,
} from '../helpers/shim';

const MINI_A = '20260101-000000';
const MINI_B = '20260102-000000';
const MINI_NEEDS_NEWER_SHIM = '20260103-000000';

let registry: TestRegistry;
let prefix: string;
let tinyRef: string;
let host: HostEnv;
const publishedImages: string[] = [];

async function publishMini(version: string, extra: string[] = [], repo = `${prefix}/mini`): Promise<void> {
  await publish('mini', repo, ['--version', version, ...extra]);
  publishedImages.push(`${repo}:${version}`);
  // The publisher's copy goes: the host under test must get it from the registry.
  await removeImages([`${repo}:${version}`]);
}

const engine = new Dockerode();

/** Through the Engine API, not the CLI: fast enough to catch a container that lives ~0.3 s. */
async function extractionContainers(): Promise<string[]> {
  const containers = await engine.listContainers({ all: true, filters: { label: ['org.run-docker.extraction'] } });
  return containers.map((container) => container.Id);
}

beforeAll(async () => {
  registry = await startRegistry();
  prefix = `${registry.address}/delivery-${process.pid}`;
  tinyRef = await publish('tiny', `${prefix}/tiny`);
  await removeImages([tinyRef, `${prefix}/tiny:${PACKAGE_VERSION}`]);
  await publishMini(MINI_A);
  host = await makeHost({ RUN_DOCKER_TINY: tinyRef, RUN_DOCKER_MINI: `${prefix}/mini` });
});

afterAll(async () => {
  await removeImages([...publishedImages, tinyRef]);
  await registry?.remove();
  await removeHosts();
});

test('a host with only the shim runs the newest mini, and the next call after a publish runs the newer one', async () => {
  expect(tinyRef).toMatch(/@sha256:[0-9a-f]{64}$/);
  const first = await runShim(['--version'], host);
  expect(first.code).toBe(0);
  expect(first.stdout).toContain(`mini ${prefix}/mini:${MINI_A} (${MINI_A}`);
  expect(first.stdout).toContain(`tiny ${tinyRef}`);
  expect(first.stdout).toMatch(/^run-docker shim \d+\.\d+\.\d+$/m);

  await publishMini(MINI_B);
  const second = await runShim(['--version'], host);
  expect(second.code).toBe(0);
  expect(second.stdout).toContain(`mini ${prefix}/mini:${MINI_B} (${MINI_B}`);
  expect(second.stderr).toBe('');
});

test('the shim installed from the tiny image is the same working command', async () => {
  const installed = join(host.HOME, 'bin', 'run-docker');
  const { stdout: id } = await docker(['create', tinyRef, '/not-started'], { check: true });
  try {
    await mkdir(join(host.HOME, 'bin'), { recursive: true });
    await docker(['cp', `${id.trim()}:/run-docker-shim/run-docker.js`, installed], { check: true });
  } finally {
    await docker(['rm', id.trim()]);
  }
  const outcome = await runCommand(installed, ['--version'], { env: host });
  expect(outcome.code).toBe(0);
  expect(outcome.stdout).toContain(`mini ${prefix}/mini:${MINI_B}`);
});

test('a plain run passes arguments through exactly and returns the container exit code', async () => {
  const image = `${prefix}/app`;
  await buildBusyboxImage(`${image}:1.0.0`);
  await pushImage(`${image}:1.0.0`);
  publishedImages.push(`${image}:1.0.0`);
  const quoted = await runShim([image, 'sh', '-c', 'echo "a  b"; printf "%s|" "$@"', 'x', "it's", ''], host);
  expect(quoted.stdout).toBe("a  b\nit's||");
  expect(quoted.code).toBe(0);
  const failed = await runShim([`${image}:1.0.0`, 'sh', '-c', 'exit 7'], host);
  expect(failed.code).toBe(7);
  const piped = await runShim([image, 'cat'], host, 'from stdin\n');
  expect(piped.stdout).toBe('from stdin\n');
});

describe('with the registry stopped', () => {
  let listener: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (listener ? listener.close(resolve) : resolve(undefined)));
    listener = undefined;
    await registry.restart();
  });

  test('one warning, and the newest local mini runs', async () => {
    await registry.stop();
    const outcome = await runShim(['--version'], host);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain(`mini ${prefix}/mini:${MINI_B}`);
    const lines = stderrLines(outcome);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^run-docker: warning: cannot reach the registry "127\.0\.0\.1:\d+" .* on this host/);
  });

  /** Stops the registry and listens where it was: how many connections were tried since. */
  async function listenWhereTheRegistryWas(): Promise<() => number> {
    await registry.stop();
    let connections = 0;
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await listen(listener, { port: Number(registry.address.split(':')[1]), host: '127.0.0.1' });
    return () => connections;
  }

  test('--local makes no network connection at all', async () => {
    const connections = await listenWhereTheRegistryWas();
    const outcome = await runShim(['--local', '--version'], host);
    expect({ code: outcome.code, stderr: outcome.stderr }).toEqual({ code: 0, stderr: '' });
    expect(outcome.stdout).toContain(`mini ${prefix}/mini:${MINI_B}`);
    const noFlag = await runShim(['--version'], { ...host, RUN_DOCKER_LOCAL: '1' });
    expect(noFlag.code).toBe(0);
    expect(connections()).toBe(0);
  });

  test("--local after IMAGE is the container's: the shim looks for a newer mini, the container gets the word", async () => {
    const connections = await listenWhereTheRegistryWas();
    const app = `${prefix}/app:1.0.0`;
    // Before IMAGE, even after a flag it does not know, the shim reads it: no connection.
    const before = await runShim(['--rm', '--local', app, 'echo', 'ok'], host);
    expect({ code: before.code, stdout: before.stdout, stderr: before.stderr, connections: connections() }).toEqual({
      code: 0,
      stdout: 'ok\n',
      stderr: '',
      connections: 0,
    });

    const after = await runShim([app, 'echo', '--local'], host);
    expect({ code: after.code, stdout: after.stdout, why: explain(after) }).toEqual({
      code: 0,
      stdout: '--local\n',
      why: explain(after),
    });
    expect(stderrLines(after)).toEqual([expect.stringMatching(/^run-docker: warning: cannot reach the registry /)]);
    expect(connections()).toBeGreaterThan(0);
  });
});

test('a tampered cached payload is extracted again, never executed', async () => {
  const payloads = join(host.XDG_CACHE_HOME, 'run-docker', 'payloads');
  const before = await runShim(['--version'], host);
  expect(before.code).toBe(0);
  const { stdout: idOut } = await docker(['image', 'inspect', '--format', '{{.Id}}', `${prefix}/mini:${MINI_B}`]);
  const entry = join(payloads, idOut.trim().replace('sha256:', ''), 'run.js');
  const original = await readFile(entry, 'utf8');
  await writeFile(entry, 'process.stdout.write("TAMPERED\\n"); exports.main = async () => 42;');

  const outcome = await runShim(['--version'], host);
  expect(outcome.stdout).not.toContain('TAMPERED');
  expect(outcome.code).toBe(0);
  expect(outcome.stdout).toContain(`mini ${prefix}/mini:${MINI_B}`);
  expect(stderrLines(outcome)).toEqual([
    expect.stringMatching(/^run-docker: warning: the cached payload .* was rejected .*extracting it again/),
  ]);
  expect(await readFile(entry, 'utf8')).toBe(original);
});

test('a cached payload its verification record vouches for is refused once it is written, even to the same length', async () => {
  const { stdout: idOut } = await docker(['image', 'inspect', '--format', '{{.Id}}', `${prefix}/mini:${MINI_B}`]);
  const imageHex = idOut.trim().replace('sha256:', '');
  const entry = join(host.XDG_CACHE_HOME, 'run-docker', 'payloads', imageHex, 'run.js');
  const record = join(host.XDG_CACHE_HOME, 'run-docker', 'verified', `${imageHex}.json`);
  // Files changed within the last second are not recorded (shim/verified-record.ts): calls go on
  // until one has recorded both files, each call itself a real use of the cache.
  type Recorded = { files: Record<string, string>; signedBy?: { keyId: string } };
  const readRecord = async () => JSON.parse(await readFile(record, 'utf8').catch(() => '{"files":{}}')) as Recorded;
  let recorded = await readRecord();
  for (let calls = 0; Object.keys(recorded.files).length < 2 && calls < 20; calls++) {
    expect((await runShim(['--version'], host)).code).toBe(0);
    recorded = await readRecord();
  }
  expect(Object.keys(recorded.files).sort()).toEqual(['manifest.json', 'run.js']);
  expect(recorded.signedBy?.keyId).toMatch(/^[0-9a-f]{16}$/);

  // The next call trusts the record; a write in place, to the very same length, is still seen.
  const original = await readFile(entry, 'utf8');
  const planted = 'process.stdout.write("TAMPERED\\n"); exports.main = async () => 42;';
  await writeFile(entry, planted + ' '.repeat(original.length - planted.length));
  const outcome = await runShim(['--version'], host);
  expect(outcome.stdout).not.toContain('TAMPERED');
  expect(outcome.code).toBe(0);
  expect(outcome.stdout).toContain(`mini ${prefix}/mini:${MINI_B}`);
  expect(stderrLines(outcome)).toEqual([
    expect.stringMatching(/^run-docker: warning: the cached payload .* was rejected .*extracting it again/),
  ]);
  expect(await readFile(entry, 'utf8')).toBe(original);
});

test('a newest mini that needs a newer shim gives one line, and the previous compatible mini runs', async () => {
  await publishMini(MINI_NEEDS_NEWER_SHIM, ['--shim-range', '>=99.0.0']);
  const outcome = await runShim(['--version'], host);
  expect(outcome.code).toBe(0);
  expect(outcome.stdout).toContain(`mini ${prefix}/mini:${MINI_B}`);
  const lines = stderrLines(outcome);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`${prefix}/mini:${MINI_NEEDS_NEWER_SHIM}`);
  expect(lines[0]).toContain('needs shim >=99.0.0');
  expect(lines[0]).toContain('update the shim');
});

test('a pinned mini freezes behaviour even when a newer one is published', async () => {
  const outcome = await runShim(['--version'], { ...host, RUN_DOCKER_MINI: `${prefix}/mini:${MINI_A}` });
  expect(outcome.code).toBe(0);
  expect(outcome.stdout).toContain(`mini ${prefix}/mini:${MINI_A}`);
});

// Debian's registry (distribution 2.8) answers tags/list in one page whatever `n` says;
// locator.test.ts proves the Link-header walk through a paginating proxy.
test('the newest mini is found among 250 tags in the registry', async () => {
  const repo = `${prefix}/mini-many`;
  await publish('mini', repo, ['--version', '20250101-000000']);
  publishedImages.push(`${repo}:20250101-000000`);
  const tags = Array.from(
    { length: 250 },
    (_, i) =>
      // Real moments (docs/tags.md): the i-th second of a day, on one of 12 × 28 days.
      `2025${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}-${[i / 3600, (i / 60) % 60, i % 60].map((part) => String(Math.floor(part)).padStart(2, '0')).join('')}`,
  );
  const newest = '20251231-235959';
  tags.splice(117, 0, newest); // neither first nor last in the registry's order
  await tagInRegistry(registry.address, repo.slice(registry.address.length + 1), '20250101-000000', tags);

  // Every tag is one old mini pushed again, so the newest is found, pulled, and refused for
  // its signed version (trust-chain.test.ts); the one tagged as signed runs instead.
  const outcome = await runShim(['--version'], {
    ...host,
    RUN_DOCKER_MINI: repo,
    RUN_DOCKER_REGISTRY_PAGE_SIZE: '100',
  });
  expect(outcome.code).toBe(0);
  expect(outcome.stdout).toContain(`mini ${repo}:20250101-000000 (20250101-000000`);
  expect(stderrLines(outcome)[0]).toMatch(
    new RegExp(
      `^run-docker: warning: the newest mini ".*:${newest}" cannot be used: it was signed as version 20250101-000000, not ${newest}`,
    ),
  );
  const { stdout: pulled } = await docker(['image', 'ls', '--format', '{{.Tag}}', repo]);
  publishedImages.push(
    ...pulled
      .split('\n')
      .filter((tag) => tag.trim() !== '')
      .map((tag) => `${repo}:${tag}`),
  );
});

describe('interrupting an extraction', () => {
  const padded = () => `${prefix}/mini-padded:${MINI_B}`;

  beforeAll(async () => {
    // A mini whose payload folder also holds 300 MB: too large to be read from its export,
    // so it is copied from a container, and that lasts long enough to interrupt.
    await runShim(['--version'], host); // makes sure mini B is on the host
    const context = await mkdtemp(join(tmpdir(), 'run-docker-padded-'));
    await truncate(join(context, 'padding.bin'), 300 * 1024 * 1024).catch(async () => {
      await writeFile(join(context, 'padding.bin'), '');
      await truncate(join(context, 'padding.bin'), 300 * 1024 * 1024);
    });
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM ${prefix}/mini:${MINI_B}\nCOPY padding.bin /run-docker/padding.bin\nLABEL org.run-docker.test=1\n`,
    );
    const built = await dockerBuild(['-q', '-t', padded(), context]);
    await rm(context, { recursive: true, force: true });
    expect(built.code).toBe(0);
    publishedImages.push(padded());
  });

  async function startAndInterrupt(signal: NodeJS.Signals) {
    const freshHost = await makeHost({ RUN_DOCKER_TINY: tinyRef, RUN_DOCKER_MINI: padded(), RUN_DOCKER_LOCAL: '1' });
    const { child, done } = startShim(['--version'], freshHost);
    child.stdin!.end();
    const deadline = Date.now() + 30_000;
    while ((await extractionContainers()).length === 0) {
      if (Date.now() > deadline) throw new Error(`no extraction container appeared\n${explain(await done)}`);
    }
    child.kill(signal);
    return { outcome: await done, freshHost };
  }

  test('SIGTERM during extraction leaves no container behind', async () => {
    const { outcome } = await startAndInterrupt('SIGTERM');
    expect({ endedBySigterm: outcome.code === 143 || outcome.signal === 'SIGTERM', outcome: explain(outcome) }).toEqual(
      {
        endedBySigterm: true,
        outcome: explain(outcome),
      },
    );
    expect(await extractionContainers()).toEqual([]);
  });

  test('a container left by SIGKILL is removed by the next extraction', async () => {
    const { outcome, freshHost } = await startAndInterrupt('SIGKILL');
    expect(outcome.signal).toBe('SIGKILL');
    expect(await extractionContainers()).toHaveLength(1);
    const next = await runShim(['--version'], freshHost);
    expect(next.code).toBe(0);
    expect(await extractionContainers()).toEqual([]);
  });
});
