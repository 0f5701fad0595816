/**
 * V8 code caches (shim/code-cache.ts): the shim's bundle and both payloads are compiled from
 * their caches on the next call, a cache V8 cannot use or that someone else could have
 * planted is never trusted, and nothing about a call's outcome changes.
 */
import { chmod, chown, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildBusyboxImage, removeImages } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { makeHost, PACKAGE_VERSION, publish, removeHosts, runShim, type HostEnv } from '../helpers/shim';
import { SETTLED_AFTER_MS } from '../../shim/verified-record';

let registry: TestRegistry;
let prefix: string;
let tinyRef: string;
let app: string;
const images: string[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  prefix = `${registry.address}/code-cache-${process.pid}`;
  tinyRef = await publish('tiny', `${prefix}/tiny`);
  await publish('mini', `${prefix}/mini`, ['--version', '20260101-000000']);
  app = `${prefix}/app:1.0.0`;
  await buildBusyboxImage(app);
  images.push(tinyRef, `${prefix}/tiny:${PACKAGE_VERSION}`, `${prefix}/mini:20260101-000000`, app);
});

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
});

/** The dry-run's docker command, without the container name (which carries the time). */
const command = (stdout: string) => stdout.replace(/--name \S+/, '--name NAME');
const codeFolder = (host: HostEnv) => join(host.XDG_CACHE_HOME, 'run-docker', 'code');
const dryRun = (host: HostEnv) => runShim(['--local', '--dry-run', app, 'true'], { ...host, RUN_DOCKER_DEBUG: '1' });

test('the first call writes the caches (0600, in a 0700 folder); the next uses them, rewrites nothing, and decides the same', async () => {
  const host = await makeHost({ RUN_DOCKER_TINY: tinyRef, RUN_DOCKER_MINI: `${prefix}/mini` });
  const first = await dryRun(host);
  expect(first.code).toBe(0);
  expect(first.stderr).toContain('shim code cache not used');
  const names = (await readdir(codeFolder(host))).sort();
  expect(names.map((name) => name.split('-')[0])).toEqual(['mini', 'shim', 'tiny']);
  expect((await stat(codeFolder(host))).mode & 0o777).toBe(0o700);
  const before = new Map<string, number>();
  for (const name of names) {
    const info = await stat(join(codeFolder(host), name));
    expect(info.mode & 0o777).toBe(0o600);
    before.set(name, info.mtimeMs);
  }

  const second = await dryRun(host);
  expect(second.code).toBe(0);
  expect(second.stderr).toContain('shim code cache used');
  expect(command(second.stdout)).toBe(command(first.stdout));
  expect((await readdir(codeFolder(host))).sort()).toEqual(names);
  for (const name of names) expect((await stat(join(codeFolder(host), name))).mtimeMs).toBe(before.get(name));
});

test('a warm --local --dry-run loads no Node built-in that only other calls need (each costs start-up time)', async () => {
  // esbuild hoists a static import of a built-in to the start of its bundle, so one such
  // import anywhere in the shim or a payload loads it on every call (common/lazy-builtins.ts).
  const host = await makeHost({ RUN_DOCKER_TINY: tinyRef, RUN_DOCKER_MINI: `${prefix}/mini` });
  expect((await dryRun(host)).code).toBe(0);
  // Payload files younger than SETTLED_AFTER_MS are hashed again: once the first call's files
  // are that old, a call writes the verification records, and the one after it is the warm
  // call. What is waited for is the files' age, which no machine's speed can shorten.
  await sleep(SETTLED_AFTER_MS + 100);
  expect((await dryRun(host)).code).toBe(0);
  const recordFile = join(host.HOME, 'builtins.txt');
  const warm = await runShim(['--local', '--dry-run', app, 'true'], {
    ...host,
    NODE_OPTIONS: `--require ${JSON.stringify(join(__dirname, '..', 'helpers', 'record-builtins.cjs'))}`,
    RECORD_BUILTINS_FILE: recordFile,
  });
  expect(warm.code).toBe(0);
  const loaded = (await readFile(recordFile, 'utf8')).split('\n').filter(Boolean);
  // The engine is asked over a socket: node:net is the one I/O module the call needs.
  expect(loaded).toContain('net');
  const onlyForOtherCalls = ['crypto', 'child_process', 'http', 'https', 'tls', 'zlib', 'dgram', 'worker_threads'];
  expect(loaded.filter((name) => onlyForOtherCalls.includes(name))).toEqual([]);
});

test('caches V8 cannot use (damaged, or from another build) are replaced, and the call is unchanged', async () => {
  const host = await makeHost({ RUN_DOCKER_TINY: tinyRef, RUN_DOCKER_MINI: `${prefix}/mini` });
  const first = await dryRun(host);
  const names = await readdir(codeFolder(host));
  for (const name of names) await writeFile(join(codeFolder(host), name), 'not a code cache');
  const damaged = await dryRun(host);
  expect(damaged.code).toBe(0);
  expect(damaged.stderr).toContain('shim code cache not used');
  expect(command(damaged.stdout)).toBe(command(first.stdout));
  for (const name of names) expect((await readFile(join(codeFolder(host), name), 'utf8')).length).toBeGreaterThan(1000);
  expect((await dryRun(host)).stderr).toContain('shim code cache used');
});

test('a cache file someone else owns is never read, and an open cache folder is closed first', async () => {
  const host = await makeHost({ RUN_DOCKER_TINY: tinyRef, RUN_DOCKER_MINI: `${prefix}/mini` });
  await dryRun(host);
  const shimFile = (await readdir(codeFolder(host))).find((name) => name.startsWith('shim-'))!;
  await chown(join(codeFolder(host), shimFile), 65534, 65534);
  const foreign = await dryRun(host);
  expect(foreign.code).toBe(0);
  expect(foreign.stderr).toContain('shim code cache not used');

  await chmod(codeFolder(host), 0o777);
  const open = await dryRun(host);
  expect(open.code).toBe(0);
  expect(open.stderr).toContain('shim code cache not used');
  expect(open.stderr).toMatch(/was writable by group or others .*made it 0700/);
  expect((await stat(codeFolder(host))).mode & 0o777).toBe(0o700);
});

test('the built-in payload is cached as well', async () => {
  const host = await makeHost({});
  const first = await dryRun(host);
  expect(first.code).toBe(0);
  expect((await readdir(codeFolder(host))).map((name) => name.split('-')[0]).sort()).toEqual(['built', 'shim']);
  const second = await dryRun(host);
  expect(second.code).toBe(0);
  expect(command(second.stdout)).toBe(command(first.stdout));
  expect(second.stderr).toContain('shim code cache used');
}, 60_000);

test('a cache folder that cannot be made still runs, compiled from source', async () => {
  const host = await makeHost({ RUN_DOCKER_TINY: tinyRef, RUN_DOCKER_MINI: `${prefix}/mini` });
  const normal = await dryRun(host);
  await writeFile(join(host.HOME, 'a-file'), 'not a folder');
  const blocked = await dryRun({ ...host, XDG_CACHE_HOME: join(host.HOME, 'a-file', 'cache') });
  expect(blocked.code).toBe(0);
  expect(blocked.stderr).toContain('shim code cache not used');
  expect(command(blocked.stdout)).toBe(command(normal.stdout));
});
