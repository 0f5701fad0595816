/**
 * Faults the delivery must survive, on the real engine and registry: concurrent cold
 * starts, a cache that cannot be written, and mini images with a broken payload.
 */
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { openSync } from 'node:fs';
import { connect, createServer as createNetServer } from 'node:net';
import { listen } from '../helpers/listen';
import { docker, dockerBuild, removeImages } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { makeHost, PACKAGE_VERSION, publish, removeHosts, runShim, stderrLines } from '../helpers/shim';

const GOOD = '20260101-000000';
let registry: TestRegistry;
let prefix: string;
let host: Record<string, string>;
const images: string[] = [];

/** A mini tagged `tag` built FROM the good one with `file` in its payload folder replaced. */
async function brokenMini(tag: string, file: string, content: string): Promise<void> {
  const context = await mkdtemp(join(tmpdir(), 'run-docker-broken-'));
  try {
    await writeFile(join(context, 'replacement'), content);
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM ${prefix}/mini:${GOOD}\nCOPY replacement /run-docker/${file}\nLABEL org.run-docker.test=1\n`,
    );
    const built = await dockerBuild(['-q', '-t', `${prefix}/mini:${tag}`, context]);
    expect(built.code).toBe(0);
    images.push(`${prefix}/mini:${tag}`);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  registry = await startRegistry();
  prefix = `${registry.address}/faults-${process.pid}`;
  const tiny = await publish('tiny', `${prefix}/tiny`);
  await publish('mini', `${prefix}/mini`, ['--version', GOOD]);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`, `${prefix}/mini:${GOOD}`);
  host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${prefix}/mini`, RUN_DOCKER_LOCAL: '1' });
});

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
});

test('shims started together on a cold cache all run, and leave one complete entry per payload', async () => {
  const coldHost = { ...host, XDG_CACHE_HOME: join((await makeHost({})).HOME, 'cache') };
  const outcomes = await Promise.all(Array.from({ length: 4 }, () => runShim(['--version'], coldHost)));
  for (const outcome of outcomes) {
    expect({ code: outcome.code, stderr: outcome.stderr }).toEqual({ code: 0, stderr: '' });
    expect(outcome.stdout).toContain(`mini ${prefix}/mini:${GOOD}`);
  }
  const cacheRoot = join(coldHost.XDG_CACHE_HOME, 'run-docker');
  expect(await readdir(join(cacheRoot, 'staging'))).toEqual([]);
  // Only the user may write (or read) the cache.
  for (const dir of [cacheRoot, join(cacheRoot, 'payloads'), join(cacheRoot, 'staging')]) {
    expect({ dir, mode: ((await stat(dir)).mode & 0o777).toString(8) }).toEqual({ dir, mode: '700' });
  }
  const entries = await readdir(join(cacheRoot, 'payloads'));
  expect(entries).toHaveLength(2);
  for (const entry of entries)
    expect((await readdir(join(cacheRoot, 'payloads', entry))).sort()).toEqual(
      expect.arrayContaining(['manifest.json']),
    );
});

test('a cache folder that cannot be written costs a warning line, and the verified payloads run', async () => {
  const home = (await makeHost({})).HOME;
  const readOnly = join(home, 'read-only-cache');
  await mkdir(join(readOnly, 'run-docker'), { recursive: true });
  await chmod(join(readOnly, 'run-docker'), 0o500);
  // Root ignores permissions; a file where the cache's folders must go stops root as well.
  await writeFile(join(readOnly, 'run-docker', 'payloads'), 'not a folder');
  const outcome = await runShim(['--version'], { ...host, XDG_CACHE_HOME: readOnly });
  expect(outcome.code).toBe(0);
  expect(outcome.stdout).toContain(`mini ${prefix}/mini:${GOOD}`);
  // A file where a cache folder must be is not a cache to trust or write: one warning for the run.
  expect(stderrLines(outcome)).toEqual([
    expect.stringMatching(
      /^run-docker: warning: the cache folder ".*read-only-cache\/run-docker\/payloads" is not a folder; running without the cache$/,
    ),
  ]);
});

test('a full cache file system costs a warning, leaves nothing half-written, and the verified payloads run', async () => {
  const mountPoint = await mkdtemp(join(tmpdir(), 'run-docker-full-cache-'));
  // 64 KiB: room for the folders, not for a payload (tiny's is ~30 kB, mini's ~90 kB).
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint]);
  try {
    const outcome = await runShim(['--version'], { ...host, XDG_CACHE_HOME: mountPoint });
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain(`mini ${prefix}/mini:${GOOD}`);
    for (const line of stderrLines(outcome))
      expect(line).toMatch(
        /^run-docker: warning: cannot write the payload cache in .* \(ENOSPC\); continuing without it$/,
      );
    expect(stderrLines(outcome).length).toBeGreaterThanOrEqual(1);
    const cacheRoot = join(mountPoint, 'run-docker');
    expect(await readdir(join(cacheRoot, 'staging'))).toEqual([]);
    // Whatever made it into payloads/ is whole: the next call verifies it or re-extracts it, silently or with the same warning.
    const next = await runShim(['--version'], { ...host, XDG_CACHE_HOME: mountPoint });
    expect(next.code).toBe(0);
    expect(next.stdout).toContain(`mini ${prefix}/mini:${GOOD}`);
    for (const line of stderrLines(next)) expect(line).toMatch(/ENOSPC\); continuing without it$/);
  } finally {
    execFileSync('umount', [mountPoint]);
    await rm(mountPoint, { recursive: true, force: true });
  }
});

test.each([
  ['a truncated payload', 'run.js', 'exports.main = async () => { process.stdout.write("TRUNCATED'],
  ['a manifest that is not JSON', 'manifest.json', '{"contract": 1, "kind": "mi'],
])('a newest mini with %s is refused in one line, and the previous mini runs', async (_name, file, content) => {
  const tag = file === 'run.js' ? '20260102-000000' : '20260103-000000';
  await brokenMini(tag, file, content);
  const outcome = await runShim(['--version'], host);
  expect(outcome.stdout).not.toContain('TRUNCATED');
  expect(outcome.code).toBe(0);
  expect(outcome.stdout).toContain(`mini ${prefix}/mini:${GOOD}`);
  const lines = stderrLines(outcome);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    new RegExp(
      `^run-docker: warning: the newest mini ".*/mini:${tag}" cannot be used: .*; running the newest usable mini on this host instead$`,
    ),
  );
  await removeImages([`${prefix}/mini:${tag}`]);
});

/**
 * A registry on a TCP proxy the test can pull the plug on: the first blob download that
 * has passed `cutAfterBytes` kills every connection and the listener, as a registry that
 * stops in the middle of a pull.
 */
async function startCuttableRegistry(upstreamPort: number, cutAfterBytes: number) {
  const sockets = new Set<import('node:net').Socket>();
  let armed = false;
  let cut = false;
  const server = createNetServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let isBlobDownload = false;
    let sent = 0;
    client.on('data', (chunk: Buffer) => {
      if (/^GET \/v2\/[^ ]+\/blobs\/sha256:/.test(chunk.toString('latin1'))) isBlobDownload = true;
    });
    upstream.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      if (armed && isBlobDownload && sent > cutAfterBytes && !cut) pullThePlug();
    });
    client.pipe(upstream).pipe(client);
    const forget = (socket: import('node:net').Socket) =>
      socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
    forget(client);
    forget(upstream);
  });
  function pullThePlug() {
    cut = true;
    server.close();
    for (const socket of sockets) socket.destroy();
  }
  const serverPort = await listen(server);
  return {
    address: `127.0.0.1:${serverPort}`,
    arm: () => (armed = true),
    wasCut: () => cut,
    close: () => (cut ? undefined : pullThePlug()),
  };
}

test('a newest mini with no payload at all is refused in one line, and the previous mini runs', async () => {
  // The good mini's labels (so it claims the good manifest) on an image with no /run-docker.
  const tag = '20260104-000000';
  const { stdout } = await docker([
    'image',
    'inspect',
    '--format',
    '{{json .Config.Labels}}',
    `${prefix}/mini:${GOOD}`,
  ]);
  const labels = Object.entries(JSON.parse(stdout) as Record<string, string>).flatMap(([key, value]) => [
    '--label',
    `${key}=${value}`,
  ]);
  const context = await mkdtemp(join(tmpdir(), 'run-docker-empty-mini-'));
  await writeFile(join(context, 'empty'), '');
  await writeFile(join(context, 'Dockerfile'), 'FROM scratch\nCOPY empty /empty\n');
  expect(
    (await dockerBuild(['-q', ...labels, '--label', 'org.run-docker.test=1', '-t', `${prefix}/mini:${tag}`, context]))
      .code,
  ).toBe(0);
  await rm(context, { recursive: true, force: true });
  images.push(`${prefix}/mini:${tag}`);
  const outcome = await runShim(['--version'], host);
  expect(outcome.code).toBe(0);
  expect(outcome.stdout).toContain(`mini ${prefix}/mini:${GOOD}`);
  expect(stderrLines(outcome)).toEqual([
    expect.stringMatching(
      new RegExp(
        `^run-docker: warning: the newest mini ".*/mini:${tag}" cannot be used: it has no manifest.json; running the newest usable mini on this host instead$`,
      ),
    ),
  ]);
  await removeImages([`${prefix}/mini:${tag}`]);
});

test('the registry stopping in the middle of a mini pull: one warning, no partial image, the previous mini runs', async () => {
  const proxy = await startCuttableRegistry(Number(registry.address.split(':')[1]), 1024 * 1024);
  try {
    const viaProxy = `${proxy.address}/${prefix.slice(registry.address.length + 1)}/mini`;
    const newest = `${viaProxy}:20260109-000000`;
    // The good mini plus 48 MB of random bytes: a pull that takes a while.
    const context = await mkdtemp(join(tmpdir(), 'run-docker-big-mini-'));
    execFileSync('head', ['-c', String(48 * 1024 * 1024), '/dev/urandom'], {
      stdio: ['ignore', openSync(join(context, 'padding'), 'w'), 'inherit'],
    });
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM ${prefix}/mini:${GOOD}\nCOPY padding /padding\nLABEL org.run-docker.test=1\n`,
    );
    expect((await dockerBuild(['-q', '-t', newest, context])).code).toBe(0);
    await rm(context, { recursive: true, force: true });
    images.push(newest, `${viaProxy}:${GOOD}`);
    expect((await docker(['push', '-q', newest])).code).toBe(0);
    await docker(['tag', `${prefix}/mini:${GOOD}`, `${viaProxy}:${GOOD}`]); // the previous mini, on this host
    await removeImages([newest]);

    proxy.arm();
    const started = Date.now();
    const outcome = await runShim(['--version'], { ...host, RUN_DOCKER_LOCAL: '', RUN_DOCKER_MINI: viaProxy });
    const ms = Date.now() - started;
    expect(proxy.wasCut()).toBe(true);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain(`mini ${viaProxy}:${GOOD}`);
    const lines = stderrLines(outcome);
    expect(lines).toHaveLength(1);
    // Which part of the pull the cut lands in decides the words: in a layer, dockerd's retries
    // (5, 10, 15, 20 s) are not progress and the default 20 s stall bound cancels the pull; in
    // the image configuration (fetched beside the layers), dockerd gives up after its own quick
    // retries. Either way: one warning, and the previous mini runs.
    expect(lines[0]).toMatch(
      /^run-docker: warning: the newest mini ".*:20260109-000000" cannot be pulled: (the pull of ".*:20260109-000000" made no progress for 20 s and was cancelled|cannot reach the registry to pull ".*:20260109-000000" \(.*connection refused\)); running the newest usable mini on this host instead$/,
    );
    expect(ms).toBeLessThan(45_000); // ~78 s before the stall bound, waiting out dockerd's retries
    expect((await docker(['image', 'inspect', newest])).code).not.toBe(0);
  } finally {
    proxy.close();
  }
}, 90_000);
