/**
 * The image index (common/engine/image-index.ts, issue 24 item 1) on the real engine: a warm
 * call answers from it only while dockerd's events say no image changed, and a tag made,
 * removed or loaded by another tool since the last call is always seen, also when more
 * events passed than dockerd keeps (256). It is a cache, so it is only ever a debug line.
 */
import { chown, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import {
  BUSYBOX_BASE_IMAGE,
  buildBusyboxImage,
  docker,
  ensureBusyboxBaseImage,
  removeImages,
} from '../helpers/fixtures';
import { startUnixEngineProxy } from '../helpers/engine-proxy';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { makeHost as makeShimHost, publish, removeHosts, runShim, type HostEnv } from '../helpers/shim';
import { useTempDir } from '../helpers/temp-dir';

const repository = `run-docker-index-${process.pid}/app`;
const images = [`${repository}:1.0.0`, `${repository}:1.1.0`, `${repository}:1.2.0`];
const engine = new Dockerode();
const temp = useTempDir('run-docker-index-');
let registry: TestRegistry;
let hostSettings: Record<string, string>;

beforeAll(async () => {
  await ensureBusyboxBaseImage();
  await buildBusyboxImage(images[0]!);
  // A host as it is installed: a tiny pinned by digest and a signed mini, both on the engine.
  registry = await startRegistry();
  const prefix = `${registry.address}/index-${process.pid}`;
  const tinyRef = await publish('tiny', `${prefix}/tiny`);
  await publish('mini', `${prefix}/mini`, ['--version', '20260101-000000']);
  hostSettings = { RUN_DOCKER_TINY: tinyRef, RUN_DOCKER_MINI: `${prefix}/mini` };
});

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
});

const makeHost = () => makeShimHost(hostSettings);

const indexFile = (host: HostEnv) => join(host.XDG_CACHE_HOME, 'run-docker', 'engine-images.json');

/** The tag a `--local --dry-run` call would run, and what its debug log said of the index. */
async function call(host: HostEnv): Promise<{ tag: string; index: string }> {
  const outcome = await runShim(['--local', '--dry-run', repository, 'true'], { ...host, RUN_DOCKER_DEBUG: '1' });
  expect(outcome.code).toBe(0);
  const tag = new RegExp(`${repository}:(\\S+) true$`).exec(outcome.stdout.trim())?.[1] ?? outcome.stdout;
  const index = /image index: (.*)/.exec(outcome.stderr)?.[1] ?? 'no index line';
  return { tag, index };
}

/** The call ran `tag`, and its debug line on the index matched `index`. */
function expectCall(outcome: { tag: string; index: string }, tag: string, index: RegExp | string): void {
  expect(outcome.tag).toBe(tag);
  if (typeof index === 'string') expect(outcome.index).toBe(index);
  else expect(outcome.index).toMatch(index);
}

/** As many container events as `count`, none of them touching an image (create, then destroy). */
async function containerEvents(count: number): Promise<void> {
  for (let made = 0; made < count; made += 2) {
    const container = await engine.createContainer({
      Image: BUSYBOX_BASE_IMAGE,
      Cmd: ['true'],
      Labels: { 'org.run-docker.test': '1' },
    });
    await container.remove();
  }
}

test('a new host lists and writes the index; from the third call the index answers, and no call after lists every image', async () => {
  // Through a relay that records what each call asks of the engine.
  const proxy = await startUnixEngineProxy(join(temp.path, 'engine.sock'));
  try {
    const host = { ...(await makeHost()), DOCKER_HOST: proxy.host };
    // What each call asked of the engine about images: the full list, the event log (its
    // `since`), and the pinned tiny by its digest (always the engine's own word).
    const asked = async () => {
      const before = proxy.requests.length;
      const outcome = await call(host);
      const requests = proxy.requests.slice(before).flatMap((line) => {
        if (line === 'GET /images/json') return ['list'];
        const since = /^GET \/events\?since=([\d.]+)&until=[\d.]+$/.exec(line)?.[1];
        if (since !== undefined) return [since === '0.000000001' ? 'events since the first' : 'events since the mark'];
        return /^GET \/images\/[^?]*@sha256:[0-9a-f]{64}\/json$/.test(line) ? ['tiny by digest'] : [];
      });
      return { ...outcome, requests: requests.sort() };
    };
    expect(await asked()).toEqual({ tag: '1.0.0', index: 'no index line', requests: ['list', 'tiny by digest'] });
    const second = await asked();
    expectCall(second, '1.0.0', /^not used \(no mark yet\)/);
    expect(second.requests).toEqual(['events since the first', 'list', 'tiny by digest']);
    for (let warm = 0; warm < 2; warm++) {
      const outcome = await asked();
      expectCall(outcome, '1.0.0', 'used (no image changed in 0 events since it was written)');
      expect(outcome.requests).toEqual(['events since the mark', 'tiny by digest']);
    }
    const written = JSON.parse(await readFile(indexFile(host), 'utf8')) as {
      engines: Record<string, { repositories: object }>;
    };
    // One index, for the relay's socket, of the repositories a call asks the tags of (the
    // tiny is pinned by digest: that is asked of the engine itself, GET /images/…@sha256:…/json).
    expect(Object.keys(written.engines)).toEqual([proxy.host.replace('unix://', '')]);
    expect(Object.keys(Object.values(written.engines)[0]!.repositories).sort()).toEqual(
      [hostSettings.RUN_DOCKER_MINI, repository].sort(),
    );
  } finally {
    await proxy.close();
  }
});

test('a tag made, removed or loaded by another tool since the last call is seen on the next', async () => {
  const host = await makeHost();
  await call(host);
  await call(host);
  expect((await call(host)).index).toMatch(/^used/);

  await docker(['tag', images[0]!, images[1]!]);
  expectCall(await call(host), '1.1.0', /image tag\)/);
  expectCall(await call(host), '1.1.0', /^used/);

  await buildBusyboxImage(images[2]!); // built with the docker CLI
  expect((await call(host)).tag).toBe('1.2.0');

  const saved = join(temp.path, 'saved.tar');
  await docker(['save', '-o', saved, images[2]!]);
  await docker(['rmi', images[2]!]);
  expectCall(await call(host), '1.1.0', /image untag\)/);
  await docker(['load', '-i', saved]);
  expectCall(await call(host), '1.2.0', /image (load|tag)\)/);
  expect((await call(host)).index).toMatch(/^used/);
});

test('over 256 events since the last call (dockerd keeps no more): the index is not trusted, and a new tag among them is seen', async () => {
  const host = await makeHost();
  await docker(['rmi', images[1]!, images[2]!]).catch(() => undefined);
  await call(host);
  await call(host);
  expectCall(await call(host), '1.0.0', /^used/);

  // Well within the buffer, with no image event: still used, and the mark moves on past 64 events.
  await containerEvents(80);
  expectCall(await call(host), '1.0.0', 'used (no image changed in 80 events since it was written)');
  expect((await call(host)).index).toBe('used (no image changed in 0 events since it was written)');

  // The tag comes first, then enough events to push it and the mark out of dockerd's buffer.
  await docker(['tag', images[0]!, images[1]!]);
  await containerEvents(300);
  expectCall(await call(host), '1.1.0', /^not used \(the engine no longer has the last event seen/);
});

test('an index that is damaged, or that another user could have written, is not used: a debug line, a full list, the same decision, and a good one after', async () => {
  const host = await makeHost();
  await call(host);
  const expected = await call(host);
  const file = indexFile(host);
  const before = await readFile(file, 'utf8');
  const quiet = async () => {
    const outcome = await runShim(['--local', '--dry-run', repository, 'true'], host);
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toBe(''); // a cache of the engine's answers: nothing to warn about
  };

  await writeFile(file, '{"version":1,"engines":');
  const damaged = await runShim(['--local', '--dry-run', repository, 'true'], { ...host, RUN_DOCKER_DEBUG: '1' });
  expect(damaged.stderr).toMatch(/image index ".*engine-images\.json" is damaged; the engine lists every image/);
  await writeFile(file, '{"version":1,"engines":');
  await quiet();

  await writeFile(file, before);
  await chown(file, 65534, 65534);
  const foreign = await call(host);
  expect(foreign).toEqual({ tag: expected.tag, index: 'no index line' }); // not read: no events asked
  // That call wrote a good index of its own over it (0600, this user's), as on a new host:
  // the next call gives it its mark, and the one after uses it.
  expect((await call(host)).index).toMatch(/^not used \(no mark yet\)/);
  expect((await call(host)).index).toMatch(/^used/);
});

test('a cache folder that cannot be used (another user owns it) is neither read nor written for the index', async () => {
  const host = await makeHost();
  const cacheRoot = join(host.XDG_CACHE_HOME, 'run-docker');
  await call(host);
  await call(host);
  await chown(cacheRoot, 65534, 65534);
  const before = await readFile(indexFile(host), 'utf8');
  try {
    const outcome = await runShim(['--local', '--dry-run', repository, 'true'], { ...host, RUN_DOCKER_DEBUG: '1' });
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toMatch(/warning: the cache folder ".*" .*; running without the cache/);
    expect(outcome.stderr).not.toContain('image index'); // not read, so no events asked
    expect(await readFile(indexFile(host), 'utf8')).toBe(before);
  } finally {
    await chown(cacheRoot, process.getuid!(), process.getgid!());
  }
});
