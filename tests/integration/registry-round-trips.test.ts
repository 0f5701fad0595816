/**
 * What a call asks a far, token-auth registry (scripts/far-registry.cjs in front of the real
 * one), counted request by request: a warm call answers each repository's first request with
 * the token the last call cached, so it asks once per repository instead of three times.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startFarRegistry, type FarRegistry } from '../../scripts/far-registry.cjs';
import { buildBusyboxImage, buildFilesOnlyImage, pushImage, removeImages } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import {
  explain,
  makeHost,
  PACKAGE_VERSION,
  publish,
  removeHosts,
  runShim,
  type Outcome,
  type HostEnv,
} from '../helpers/shim';

const MINI_TAG = '20260101-000000';
let registry: TestRegistry;
let far: FarRegistry;
let host: HostEnv;
let app: string;
let miniPath: string;
const images: string[] = [];

function expectSuccess(outcome: Outcome): void {
  if (outcome.code !== 0) throw new Error(`expected exit 0\n${explain(outcome)}`);
}

/** The requests since the last reset, as `kind status` with the repository: what the registry saw. */
const conversation = () =>
  far.requests().map((request) => `${request.kind} ${request.status} ${request.path.replace(/\?.*$/, '')}`);

beforeAll(async () => {
  registry = await startRegistry();
  far = await startFarRegistry({ upstream: registry.address, rttMs: 10 });
  const path = `round-trips-${process.pid}`;
  // Published to the registry itself; the host knows it only by the far address.
  const tiny = (await publish('tiny', `${registry.address}/${path}/tiny`)).replace(registry.address, far.address);
  await publish('mini', `${registry.address}/${path}/mini`, ['--version', MINI_TAG]);
  images.push(
    tiny,
    `${registry.address}/${path}/tiny:${PACKAGE_VERSION}`,
    `${registry.address}/${path}/mini:${MINI_TAG}`,
  );
  miniPath = `${path}/mini`;
  await buildBusyboxImage(`${registry.address}/${path}/app:1.0.0`);
  await pushImage(`${registry.address}/${path}/app:1.0.0`);
  images.push(`${registry.address}/${path}/app:1.0.0`);
  app = `${far.address}/${path}/app`;
  host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${far.address}/${miniPath}` });
  // The first call pulls tiny, mini and the app through the far registry.
  expectSuccess(await runShim([app, 'true'], host));
  images.push(`${far.address}/${miniPath}:${MINI_TAG}`, `${app}:1.0.0`, tiny);
});

afterAll(async () => {
  await removeImages(images);
  await far?.close();
  await registry?.remove();
  await removeHosts();
});

test('a call with no cached token asks three times per repository; the next call asks once, with the token', async () => {
  const cold = { ...host, XDG_CACHE_HOME: join(host.HOME, 'cold-cache') };
  far.reset();
  expectSuccess(await runShim([app, 'true'], cold));
  const mini = `/v2/${miniPath}/tags/list`;
  const project = `${new URL(`http://${app}`).pathname.replace(/^\//, '/v2/')}/tags/list`;
  expect(conversation()).toEqual([
    `401 401 ${mini}`,
    'token 200 /token',
    `tags/list 200 ${mini}`,
    `401 401 ${project}`,
    'token 200 /token',
    `tags/list 200 ${project}`,
  ]);

  far.reset();
  expectSuccess(await runShim([app, 'true'], cold));
  expect(conversation()).toEqual([`tags/list 200 ${mini}`, `tags/list 200 ${project}`]);
  expect(far.counts().connections).toBeLessThanOrEqual(1);
});

test('the cached tokens sit in a 0600 file in the private cache, and a token the registry no longer accepts is renewed', async () => {
  const dir = join(host.XDG_CACHE_HOME, 'run-docker', 'mini');
  const file = join(dir, 'registry-tokens.json');
  expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
  expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
    version: 1,
    challenges: { [`http://${far.address}`]: { realm: `http://${far.address}/token`, service: 'far-registry' } },
    tokens: expect.any(Object) as unknown,
  });

  far.revokeTokens(); // as after a restart of the registry's token service: every cached token is refused
  far.reset();
  const outcome = await runShim([app, 'true'], host);
  expectSuccess(outcome);
  expect(outcome.stderr).toBe('');
  expect(conversation().filter((line) => line.startsWith('token'))).toHaveLength(2);
  far.reset();
  expectSuccess(await runShim([app, 'true'], host));
  expect(far.counts()).toMatchObject({ token: 0, '401': 0, 'tags/list': 2 });
});

test('a tag not on this host costs one manifest request before its pull (with the cached token); an arm64-only newest, its manifest and config on each call while it stays the newest', async () => {
  const path = `round-trips-${process.pid}`;
  const project = `/v2/${path}/app`;
  const runDockerAsks = () => conversation().filter((line) => !line.includes(' /v2/ ') && !line.startsWith('token'));
  expectSuccess(await runShim([app, 'true'], host));

  await buildBusyboxImage(`${registry.address}/${path}/app:2.0.0`);
  await pushImage(`${registry.address}/${path}/app:2.0.0`);
  images.push(`${registry.address}/${path}/app:2.0.0`, `${app}:2.0.0`);
  far.reset();
  expectSuccess(await runShim([app, 'true'], { ...host, RUN_DOCKER_QUIET: '1' }));
  // run-docker's: both tag lists and the new tag's manifest; then the engine's own pull (its 401, token, manifests, blobs).
  expect(conversation().slice(0, 3)).toEqual([
    `tags/list 200 /v2/${miniPath}/tags/list`,
    `tags/list 200 ${project}/tags/list`,
    `manifests 200 ${project}/manifests/2.0.0`,
  ]);

  // A files-only arm64 image (never run: no emulation) as the newest tag, pushed by a teammate.
  await buildFilesOnlyImage(`${registry.address}/${path}/app:3.0.0`, 'linux/arm64');
  await pushImage(`${registry.address}/${path}/app:3.0.0`);
  await removeImages([`${registry.address}/${path}/app:3.0.0`]);
  for (let call = 0; call < 2; call++) {
    far.reset();
    const outcome = await runShim([app, 'true'], host);
    expectSuccess(outcome);
    expect(outcome.stderr).toContain('"3.0.0", has no image for linux/amd64 (it is for linux/arm64)');
    expect(runDockerAsks()).toEqual([
      `tags/list 200 /v2/${miniPath}/tags/list`,
      `tags/list 200 ${project}/tags/list`,
      `manifests 200 ${project}/manifests/3.0.0`,
      expect.stringMatching(new RegExp(`^blobs 200 ${project}/blobs/sha256:`)) as unknown as string,
    ]);
  }
});
