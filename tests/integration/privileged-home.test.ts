/**
 * Root running with another user's HOME (sudo keeping HOME, `sudo -E`, a service whose home
 * is another account's), on the real engine: what that user's files and links can no longer
 * make root do (docs/trust.md, "Privilege does not borrow trust"). The test process is root;
 * "alice" is uid 4321, owner of a HOME made for each test. The shim is driven as a black box.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lchown, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUnixEngineProxy, type EngineProxy } from '../helpers/engine-proxy';
import { buildBusyboxImage, removeImages } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import {
  expectOneLineFailure,
  explain,
  makeHost,
  publish,
  removeHosts,
  runShim,
  type HostEnv,
  type Outcome,
} from '../helpers/shim';

const ALICE = 4321;
const MINI_TAG = '20260101-000000';
let registry: TestRegistry;
let app: string;
let host: HostEnv;
const images: string[] = [];
const folders: string[] = [];
const proxies: EngineProxy[] = [];

function expectSuccess(outcome: Outcome): void {
  if (outcome.code !== 0) throw new Error(`expected exit 0\n${explain(outcome)}`);
}

/** A folder of root's for this test file, removed at the end. */
async function rootFolder(name: string): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), `run-docker-${name}-`));
  folders.push(folder);
  return folder;
}

/** Alice's HOME, as root runs with it: run-docker's own config, cache and state stay root's (host's XDG folders). */
async function aliceHome(): Promise<{ home: string; env: HostEnv }> {
  const home = await rootFolder('alice');
  execFileSync('chown', [`${ALICE}:${ALICE}`, home]);
  return { home, env: { ...host, HOME: home } };
}

beforeAll(async () => {
  registry = await startRegistry();
  const prefix = `${registry.address}/privileged-home-${process.pid}`;
  const tiny = await publish('tiny', `${prefix}/tiny`);
  await publish('mini', `${prefix}/mini`, ['--version', MINI_TAG]);
  images.push(tiny, `${prefix}/mini:${MINI_TAG}`);
  app = `${prefix}/proj:1.0.0`;
  await buildBusyboxImage(app);
  images.push(app);
  const base = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${prefix}/mini`, RUN_DOCKER_LOCAL: '1' });
  host = { ...base, XDG_STATE_HOME: join(base.HOME, '.local', 'state') };
}, 120_000);

afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

test('her ~/work link makes root create nothing where it points: one line, exit 125; her folders unmapped, the run goes on', async () => {
  const { home, env } = await aliceHome();
  const target = await rootFolder('target');
  await symlink(target, join(home, 'work'));
  await lchown(join(home, 'work'), ALICE, ALICE);

  const outcome = await runShim([app, 'true'], env);
  expect(expectOneLineFailure(outcome)).toBe(
    `run-docker: the data folder "${join(home, 'work', 'data')}" is not used: run-docker runs as root, and "${home}" on its way belongs to uid ${ALICE}, who could point it anywhere. Run with "sudo -H" (HOME of root), or choose a folder only root can change with --hostdatadir (or "no" to map none).`,
  );
  expect(await readdir(target)).toEqual([]);

  expectSuccess(await runShim(['--hostdatadir', 'no', '--hostlogdir', 'no', app, 'true'], env));
  expect(await readdir(target)).toEqual([]);
});

test('a data folder that is a file: "exists and is not a folder"', async () => {
  const home = await rootFolder('home');
  await mkdir(join(home, 'work'));
  await writeFile(join(home, 'work', 'data'), '');
  expect(expectOneLineFailure(await runShim([app, 'true'], { ...host, HOME: home }))).toBe(
    `run-docker: the data folder "${join(home, 'work', 'data')}" exists and is not a folder. Move it away, or choose another folder with --hostdatadir (or "no" to map none).`,
  );
});

/** A docker context `name` in `configDir`, made as `docker context create` stores it, and made current. */
async function writeCurrentContext(configDir: string, name: string, host: string): Promise<void> {
  const meta = join(configDir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
  await mkdir(meta, { recursive: true });
  await writeFile(
    join(meta, 'meta.json'),
    JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }),
  );
  await writeFile(join(configDir, 'config.json'), JSON.stringify({ currentContext: name }));
}

test("her docker context is not taken: one line, exit 125, and her engine is never asked; with root's own docker config the call runs", async () => {
  const { home, env } = await aliceHome();
  // Her engine: here a relay to the real one that records what it is asked.
  const hers = await startUnixEngineProxy(join(await rootFolder('alice-engine'), 'docker.sock'));
  proxies.push(hers);
  await writeCurrentContext(join(home, '.docker'), 'alice', hers.host);
  execFileSync('chown', ['-R', `${ALICE}:${ALICE}`, join(home, '.docker')]);

  const outcome = await runShim(['--version'], env);
  expect(expectOneLineFailure(outcome)).toBe(
    `run-docker: the docker file "${join(home, '.docker', 'config.json')}" is not used: it chooses the Docker engine whose images run and the credential helpers that are started, and it sits in the folder "${home}", which can be changed by uid ${ALICE}, its owner. As root, use root's own docker configuration: run with "sudo -H" (HOME of root), or set DOCKER_CONFIG to a folder only root can write.`,
  );
  expect(hers.requests).toEqual([]);

  expectSuccess(await runShim(['--version'], { ...env, DOCKER_CONFIG: await rootFolder('docker-config') }));
  expect(hers.requests).toEqual([]);
});

test('an engine socket of hers is not used, though DOCKER_HOST names it (sudo -E keeps her environment)', async () => {
  const { home, env } = await aliceHome();
  const hint =
    'As root, use an engine socket root owns: drop the DOCKER_HOST or docker context another user chose (sudo -E keeps them), or run with "sudo -H".';
  // In her HOME, and in a folder of root's but hers (she made it listen).
  const inHome = await startUnixEngineProxy(join(home, 'docker.sock'));
  const owned = await startUnixEngineProxy(join(await rootFolder('alice-engine'), 'docker.sock'));
  proxies.push(inHome, owned);
  execFileSync('chown', [`${ALICE}:${ALICE}`, join(home, 'docker.sock'), owned.host.replace('unix://', '')]);
  for (const [engine, why] of [
    [inHome, `the socket sits in the folder "${home}", which can be changed by uid ${ALICE}, its owner`],
    [owned, `the socket belongs to uid ${ALICE}`],
  ] as const) {
    const outcome = await runShim(['--version'], { ...env, DOCKER_HOST: engine.host });
    expect(expectOneLineFailure(outcome)).toBe(
      `run-docker: the Docker engine at "${engine.host}" (from DOCKER_HOST) is not used: whoever listens there chooses the images that run, and ${why}. ${hint}`,
    );
    expect(engine.requests).toEqual([]);
  }
  // The same relay, root's, in a folder of root's: root's choice, used.
  const rootsOwn = await startUnixEngineProxy(join(await rootFolder('root-engine'), 'docker.sock'));
  proxies.push(rootsOwn);
  expectSuccess(await runShim(['--version'], { ...env, DOCKER_HOST: rootsOwn.host }));
  expect(rootsOwn.requests.length).toBeGreaterThan(0);
});
