/**
 * Root running with another user's HOME (sudo keeping HOME, `sudo -E`, a service whose home
 * is another account's), on the real engine: what that user's files and links can no longer
 * make root do (docs/trust.md, "Privilege does not borrow trust"). The test process is root;
 * "alice" is uid 4321, owner of a HOME made for each test. The shim is driven as a black box.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmod,
  chown,
  lchown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { startUnixEngineProxy, type EngineProxy } from '../helpers/engine-proxy';
import { buildBusyboxImage, docker, removeImages } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { asUser, withRootHome } from '../helpers/root-home';
import {
  expectOneLineFailure,
  explain,
  makeHost,
  publish,
  removeHosts,
  runShim,
  stderrLines,
  type HostEnv,
  type Outcome,
} from '../helpers/shim';

const ALICE = 4321;
const MINI_TAG = '20260101-000000';
let registry: TestRegistry;
let prefix: string;
let tiny: string;
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
  prefix = `${registry.address}/privileged-home-${process.pid}`;
  tiny = await publish('tiny', `${prefix}/tiny`);
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

/**
 * Her HOME as root runs with it, with no XDG_CACHE_HOME or XDG_STATE_HOME (sudo keeping HOME,
 * a service unit's HOME): where run-docker keeps its own files is its choice. Root's own home
 * is a folder of this test's, mounted over root's home for the shim alone (root-home.ts).
 */
async function aliceHomeOnly(): Promise<{
  home: string;
  env: Record<string, string>;
  rootHome: string;
  asRoot: string[];
}> {
  const { home, env } = await aliceHome();
  const { XDG_CACHE_HOME: _cache, XDG_STATE_HOME: _state, ...rest } = env;
  const rootHome = await rootFolder('root-home');
  return { home, env: rest, rootHome, asRoot: withRootHome(rootHome) };
}

function expectRan(outcome: Outcome, reference: string): void {
  if (outcome.code !== 0 || !outcome.stdout.includes(`mini ${reference} `))
    throw new Error(`expected mini ${reference} to run\n${explain(outcome)}`);
}

async function imageIdHex(reference: string): Promise<string> {
  const { stdout } = await docker(['image', 'inspect', '--format', '{{.Id}}', reference]);
  return stdout.trim().replace(/^sha256:/, '');
}

describe("run-docker's own cache and state, as root", () => {
  const ownHome = userInfo().homedir;

  test('her ~/.cache and ~/.local/state links make root create nothing where they point: root keeps both in its own home, and --show-config says so', async () => {
    const { home, env, rootHome, asRoot } = await aliceHomeOnly();
    const target = await rootFolder('target');
    await symlink(target, join(home, '.cache'));
    await lchown(join(home, '.cache'), ALICE, ALICE);
    await mkdir(join(home, '.local'));
    await chown(join(home, '.local'), ALICE, ALICE);
    await symlink(target, join(home, '.local', 'state'));
    await lchown(join(home, '.local', 'state'), ALICE, ALICE);
    const why = `sits in the folder "${home}", which can be changed by uid ${ALICE}, its owner`;

    const outcome = await runShim(
      ['--hostdatadir', 'no', '--hostlogdir', 'no', app, 'true'],
      { ...env, RUN_DOCKER_DEBUG: '1' },
      '',
      asRoot,
    );
    expectSuccess(outcome);
    expect(await readdir(target)).toEqual([]);
    expect(stderrLines(outcome)).toEqual(
      expect.arrayContaining([
        `run-docker: debug: as root, the cache is "${ownHome}/.cache/run-docker" (root's home in the user database): "${home}/.cache/run-docker" ${why}`,
        `run-docker: debug: as root, the state folder is "${ownHome}/.local/state/run-docker" (root's home in the user database): "${home}/.local/state/run-docker" ${why}`,
      ]),
    );
    expect(await readdir(join(rootHome, '.cache', 'run-docker'))).toEqual(expect.arrayContaining(['payloads', 'code']));
    expect(
      JSON.parse(await readFile(join(rootHome, '.local', 'state', 'run-docker', 'mini-versions.json'), 'utf8')),
    ).toEqual({
      minis: { [`${prefix}/mini`]: MINI_TAG },
    });
    for (const folder of ['.cache', join('.cache', 'run-docker'), '.local', join('.local', 'state', 'run-docker')]) {
      const info = await lstat(join(rootHome, folder));
      expect({ folder, owner: info.uid, mode: (info.mode & 0o777).toString(8) }).toEqual({
        folder,
        owner: 0,
        mode: '700',
      });
    }
    // The loader finds the shim's code cache where the call wrote it: both ask the same question.
    const again = await runShim(['--version'], { ...env, RUN_DOCKER_DEBUG: '1' }, '', asRoot);
    expect(stderrLines(again)).toContainEqual(
      expect.stringMatching(/^run-docker: debug: shim code cache used \(shim-/),
    );
    expect(await readdir(target)).toEqual([]);

    const shown = await runShim(['--show-config'], env, '', asRoot);
    expectSuccess(shown);
    expect(shown.stderr).toBe('');
    const row = (key: string) =>
      shown.stdout
        .split('\n')
        .find((line) => line.startsWith(`${key} `))
        ?.replace(/ +/g, ' ');
    expect(row('payload cache')).toBe(
      `payload cache ${ownHome}/.cache/run-docker (root's home in the user database; "${home}/.cache/run-docker" ${why})`,
    );
    expect(row('state')).toBe(
      `state ${ownHome}/.local/state/run-docker (root's home in the user database; "${home}/.local/state/run-docker" ${why})`,
    );
    // The record of key rotations and halts is root's too (docs/releasing.md), not read through her link.
    for (const key of ['key rotations', 'halted minis'])
      expect(row(key)).toBe(`${key} none seen (file ${ownHome}/.local/state/run-docker/releases.json)`);
  });

  test("she cannot hide root's record of the minis it ran: after she moves away whatever root left in her HOME, an older mini is still refused", async () => {
    const repo = `${prefix}/mini-rollback`;
    const [older, newer] = ['20260101-000000', '20260102-000000'];
    for (const version of [older, newer]) {
      await publish('mini', repo, ['--version', version]);
      images.push(`${repo}:${version}`);
    }
    const { home, env, asRoot } = await aliceHomeOnly();
    const hers = { ...env, RUN_DOCKER_MINI: repo };
    expectRan(await runShim(['--version'], hers, '', asRoot), `${repo}:${newer}`);

    // Her HOME is hers: renaming what is in it takes nothing more, whoever made it.
    for (const name of await readdir(home))
      execFileSync(asUser(ALICE)[0]!, [
        ...asUser(ALICE).slice(1),
        'mv',
        join(home, name),
        join(home, `${name}.hidden`),
      ]);
    await removeImages([`${repo}:${newer}`]);

    const after = await runShim(['--version'], hers, '', asRoot);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/^mini built into shim .* \(no usable mini of /m);
    expect(stderrLines(after)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^run-docker: warning: no usable mini of ".*/mini-rollback": the newest, ".*:${older}" cannot be used: it is older than ${newer}, which this host has already run; `,
        ),
      ),
    ]);
  });

  test("root's --allow-project is kept in root's own state folder: her ~/.local/state link gets nothing, and the allowance holds", async () => {
    const { home, env, rootHome, asRoot } = await aliceHomeOnly();
    const target = await rootFolder('target');
    await mkdir(join(home, '.local'));
    await chown(join(home, '.local'), ALICE, ALICE);
    await symlink(target, join(home, '.local', 'state'));
    await lchown(join(home, '.local', 'state'), ALICE, ALICE);
    const project = await rootFolder('project');
    await chmod(project, 0o755);
    await writeFile(
      join(project, 'pyproject.toml'),
      [
        '[tool.run-docker]',
        `image = ${JSON.stringify(app.replace(/:[^:/]+$/, ''))}`,
        'run-options = ["-p", "8000:8000"]',
        '',
      ].join('\n'),
    );

    const allowed = await runShim(['--allow-project', project], env, '', asRoot, project);
    expectSuccess(allowed);
    expect(await readdir(target)).toEqual([]);
    const record = JSON.parse(
      await readFile(join(rootHome, '.local', 'state', 'run-docker', 'allowed-projects.json'), 'utf8'),
    ) as { projects: Record<string, string> };
    expect(Object.keys(record.projects)).toEqual([project]);

    const dry = await runShim(
      ['--hostdatadir', 'no', '--hostlogdir', 'no', '--dry-run', '.', 'true'],
      env,
      '',
      asRoot,
      project,
    );
    expectSuccess(dry);
    expect(dry.stdout).toContain('--publish 8000:8000');
    expect(await readdir(target)).toEqual([]);
  });

  test('a payload she plants in a cache folder others could write (chmod -R a+rwX) never runs as root: her files are refused, the image is read again', async () => {
    // Root's, where others may look (a cache under /var/cache, a HOME at Debian's 0755).
    const env = { ...host, XDG_CACHE_HOME: await rootFolder('cache') };
    await chmod(env.XDG_CACHE_HOME, 0o755);
    const mini = `${prefix}/mini:${MINI_TAG}`;
    // Twice: the second call reads the cache, and writes what it verified (verified/).
    for (let call = 0; call < 2; call++) expectRan(await runShim(['--version'], env), mini);
    const cacheRoot = join(env.XDG_CACHE_HOME, 'run-docker');
    expect(await readdir(cacheRoot)).toContain('verified');
    const [miniId, tinyId] = [await imageIdHex(mini), await imageIdHex(tiny)];
    // Public: both manifests are in images anyone who can pull may read.
    const manifest = await readFile(join(cacheRoot, 'payloads', miniId, 'manifest.json'), 'utf8');
    const tinyManifest = JSON.parse(await readFile(join(cacheRoot, 'payloads', tinyId, 'manifest.json'), 'utf8')) as {
      trustedKeys: unknown[];
    };
    execFileSync('chmod', ['-R', 'a+rwX', cacheRoot]);
    const marker = join(await rootFolder('marker'), 'ran');

    // Her payload under the mini's ID, with a verification record that vouches for it: the
    // stamps of her own files, and the key the tiny trusts.
    const plant = `
      const fs = require('node:fs');
      const { join } = require('node:path');
      const [root, id, manifest, key, marker] = process.argv.slice(1);
      const dir = join(root, 'payloads', id);
      fs.renameSync(dir, dir + '.moved');
      fs.mkdirSync(dir);
      const entry = JSON.parse(manifest).entry;
      fs.writeFileSync(join(dir, 'manifest.json'), manifest);
      fs.writeFileSync(join(dir, entry), 'exports.main = async () => { require("node:fs").writeFileSync(' + JSON.stringify(marker) + ', "hers"); return 0; };');
      const stamp = (name) => {
        const info = fs.statSync(join(dir, name), { bigint: true });
        return [info.dev, info.ino, info.size, info.mtimeNs, info.ctimeNs].join(':');
      };
      fs.mkdirSync(join(root, 'verified'), { recursive: true });
      const record = join(root, 'verified', id + '.json');
      fs.writeFileSync(record + '.new', JSON.stringify({ files: { 'manifest.json': stamp('manifest.json'), [entry]: stamp(entry) }, signedBy: JSON.parse(key) }));
      fs.renameSync(record + '.new', record);`;
    const [launcher, ...launcherArgs] = asUser(ALICE);
    execFileSync(launcher!, [
      ...launcherArgs,
      process.execPath,
      '-e',
      plant,
      cacheRoot,
      miniId,
      manifest,
      JSON.stringify(tinyManifest.trustedKeys[0]),
      marker,
    ]);
    expect((await lstat(join(cacheRoot, 'payloads', miniId, 'manifest.json'))).uid).toBe(ALICE);

    const outcome = await runShim(['--version'], env);
    expect(await readdir(join(marker, '..'))).toEqual([]);
    expectRan(outcome, mini);
    expect(stderrLines(outcome)).toEqual([
      expect.stringMatching(
        /^run-docker: warning: the cache folder ".*" \(and \d+ of its folders\) was writable by group or others \(mode 777\); made it 0700$/,
      ),
      // Root's own files that chmod made writable by every user are not taken either.
      `run-docker: warning: the cached payload in "${join(cacheRoot, 'payloads', tinyId)}" was rejected (its manifest.json can be changed by every user (mode 0666)); extracting it again from its image`,
      `run-docker: warning: the cached payload in "${join(cacheRoot, 'payloads', miniId)}" was rejected (its manifest.json can be changed by uid ${ALICE}, its owner); extracting it again from its image`,
    ]);
    // And the next call finds the cache whole again, without a word.
    const next = await runShim(['--version'], env);
    expectRan(next, mini);
    expect(next.stderr).toBe('');
  });
});
