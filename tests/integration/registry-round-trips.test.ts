/**
 * What a call asks a far, token-auth registry (scripts/far-registry.cjs in front of the real
 * one), counted request by request: a warm call answers each repository's first request with
 * the token the last call cached, so it asks once per repository instead of three times.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defined } from '../helpers/defined';
import { makeCertificates } from '../helpers/certificates';
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
  // Both at once (the next test): in either order, each on a connection of its own.
  expect(conversation().sort()).toEqual([`tags/list 200 ${mini}`, `tags/list 200 ${project}`].sort());
  expect(far.counts().connections).toBeLessThanOrEqual(2);
});

test("a warm call sends the project's request beside mini's when the last call in that folder looked it up: both on the wire at once", async () => {
  const rtt = 200;
  const env = { ...host, XDG_CACHE_HOME: join(host.HOME, 'overlap-cache') };
  const folder = await mkdtemp(join(tmpdir(), 'run-docker-round-trips-'));
  const elsewhere = await mkdtemp(join(tmpdir(), 'run-docker-round-trips-'));
  const mini = `/v2/${miniPath}/tags/list`;
  /** The call's two tag-list requests, as the registry saw them. */
  const tagLists = () => {
    const lists = far.requests().filter((request) => request.kind === 'tags/list');
    const of = (path: string) =>
      defined(
        lists.find((request) => request.path.startsWith(path)),
        `a request of ${path}`,
      );
    return { mini: of(mini), project: of(`/v2/${new URL(`http://${app}`).pathname.slice(1)}/tags/list`) };
  };
  try {
    expectSuccess(await runShim([app, 'true'], env, '', [], folder)); // tokens, and what follows mini here
    far.setRtt(rtt);
    far.reset();
    expectSuccess(await runShim([app, 'true'], env, '', [], folder));
    const warm = tagLists();
    // Sent before mini's answer was back, within a round trip of mini's request.
    expect(warm.project.arrivedAt).toBeLessThan(defined(warm.mini.finishedAt, "mini's answer"));
    expect(Math.abs(warm.project.arrivedAt - warm.mini.arrivedAt)).toBeLessThan(rtt);
    expect(far.requests()).toHaveLength(2);

    // In another folder nothing is known of what follows mini: one lookup after the other.
    far.reset();
    expectSuccess(await runShim([app, 'true'], env, '', [], elsewhere));
    const other = tagLists();
    expect(other.project.arrivedAt).toBeGreaterThanOrEqual(defined(other.mini.finishedAt, "mini's answer"));
    expect(far.requests()).toHaveLength(2);

    // A pinned image asks nothing after mini: the next call there no longer asks early for nobody.
    expectSuccess(await runShim([`${app}:1.0.0`, 'true'], env, '', [], folder));
    far.reset();
    expectSuccess(await runShim([`${app}:1.0.0`, 'true'], env, '', [], folder));
    expect(conversation()).toEqual([`tags/list 200 ${mini}`]);
  } finally {
    far.setRtt(10);
    await rm(folder, { recursive: true, force: true });
    await rm(elsewhere, { recursive: true, force: true });
  }
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
  // The two tag lists go out at once (the project's is asked early, beside mini's): in either order.
  const tagListsFirst = (asks: string[]) => [...asks.slice(0, 2).sort(), ...asks.slice(2)];
  const bothTagLists = [`tags/list 200 ${project}/tags/list`, `tags/list 200 /v2/${miniPath}/tags/list`].sort();
  expectSuccess(await runShim([app, 'true'], host));

  await buildBusyboxImage(`${registry.address}/${path}/app:2.0.0`);
  await pushImage(`${registry.address}/${path}/app:2.0.0`);
  images.push(`${registry.address}/${path}/app:2.0.0`, `${app}:2.0.0`);
  far.reset();
  expectSuccess(await runShim([app, 'true'], { ...host, RUN_DOCKER_QUIET: '1' }));
  // run-docker's: both tag lists and the new tag's manifest; then the engine's own pull (its 401, token, manifests, blobs).
  expect(tagListsFirst(conversation()).slice(0, 3)).toEqual([
    ...bothTagLists,
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
    expect(tagListsFirst(runDockerAsks())).toEqual([
      ...bothTagLists,
      `manifests 200 ${project}/manifests/3.0.0`,
      expect.stringMatching(new RegExp(`^blobs 200 ${project}/blobs/sha256:`)) as unknown as string,
    ]);
  }
});

describe('over TLS 1.2 with a private CA', () => {
  let tlsFar: FarRegistry;
  let work: string;
  let tlsHost: HostEnv;
  let tlsApp: string;
  /** Trusts the CA in `folder` for the far registry, where docker looks: certs.d in the host folder. */
  const trust = async (folder: string) => {
    const certsD = join(tlsHost.XDG_CONFIG_HOME, 'docker', 'certs.d', tlsFar.address);
    await mkdir(certsD, { recursive: true });
    await writeFile(join(certsD, 'ca.crt'), await readFile(join(folder, 'ca.crt')));
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'run-docker-round-trips-tls-'));
    await mkdir(join(work, 'right'));
    await mkdir(join(work, 'other'));
    await makeCertificates(join(work, 'right'), 'far-registry.test', '127.0.0.1');
    await makeCertificates(join(work, 'other'), 'far-registry.test', '127.0.0.1');
    tlsFar = await startFarRegistry({
      upstream: registry.address,
      rttMs: 10,
      tls: {
        cert: await readFile(join(work, 'right', 'server.crt'), 'utf8'),
        key: await readFile(join(work, 'right', 'server.key'), 'utf8'),
        maxVersion: 'TLSv1.2',
      },
    });
    const path = `round-trips-${process.pid}`;
    tlsApp = `${tlsFar.address}/${path}/app`;
    tlsHost = await makeHost({
      RUN_DOCKER_TINY: images
        .find((image) => image.startsWith(far.address) && image.includes('/tiny'))!
        .replace(far.address, tlsFar.address),
      RUN_DOCKER_MINI: `${tlsFar.address}/${miniPath}`,
    });
    await trust(join(work, 'right'));
    // The engine pulls tiny, mini and the app over TLS (dockerd does not check a 127.0.0.0/8 registry's certificate).
    expectSuccess(await runShim([tlsApp, 'true'], tlsHost));
    // 2.0.0 as well: after the test above it is the newest usable tag, and the TLS calls pull it.
    images.push(
      `${tlsFar.address}/${miniPath}:${MINI_TAG}`,
      `${tlsApp}:1.0.0`,
      `${tlsApp}:2.0.0`,
      tlsHost.RUN_DOCKER_TINY ?? '',
    );
  });

  afterAll(async () => {
    await tlsFar?.close();
    await rm(work, { recursive: true, force: true });
  });

  test('a warm call resumes the TLS sessions the last call was given, and writes no new one', async () => {
    expectSuccess(await runShim([tlsApp, 'true'], tlsHost));
    const file = join(tlsHost.XDG_CACHE_HOME, 'run-docker', 'mini', 'tls-sessions.json');
    expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
    const written = (await stat(file)).mtimeMs;
    tlsFar.reset();
    expectSuccess(await runShim([tlsApp, 'true'], tlsHost));
    const { connections, resumed } = tlsFar.counts();
    expect(connections).toBeGreaterThanOrEqual(1);
    expect(resumed).toBe(connections);
    expect((await stat(file)).mtimeMs).toBe(written);
  });

  test('a session made under a CA is not offered once another CA is trusted: the certificate is checked again', async () => {
    await trust(join(work, 'other'));
    try {
      tlsFar.reset();
      const outcome = await runShim([tlsApp, 'true'], tlsHost);
      expectSuccess(outcome);
      expect(tlsFar.counts().resumed).toBe(0);
      expect(outcome.stderr).toContain(
        `the registry "${tlsFar.address}" presented a certificate this host does not trust`,
      );
    } finally {
      await trust(join(work, 'right'));
    }
  });
});
