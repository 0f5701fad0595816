/**
 * Where run-docker keeps its cache and its state (shim/locate-own-folder.ts): as root, never
 * where another user can change them; for everyone else, where HOME and XDG_* say. On real
 * folders, as root (the tests' user here); "another user" is uid 4321, made with chown.
 */
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePassedOver, locateCacheRoot, locateStateDir, prepareStateDir } from '../../shim/locate-own-folder';

const OTHER = 4321;
let dir: string;
let rootHome: string;
let aliceHome: string;
const asRoot = (create = false) => ({ uid: 0, platform: 'linux' as const, databaseHome: () => rootHome, create });

beforeAll(() => {
  expect(process.getuid?.()).toBe(0);
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-docker-own-folder-'));
  await chmod(dir, 0o755);
  rootHome = join(dir, 'root');
  aliceHome = join(dir, 'alice');
  await mkdir(rootHome, { mode: 0o700 });
  await mkdir(aliceHome, { mode: 0o755 });
  await chown(aliceHome, OTHER, OTHER);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const hersWhy = () => `sits in the folder "${aliceHome}", which can be changed by uid ${OTHER}, its owner`;

describe('for a user other than root', () => {
  it('is where HOME and XDG_* say, links and owners not asked: nothing more on their warm path', () => {
    const options = { uid: 1000, platform: 'linux' as const, databaseHome: () => rootHome };
    expect(locateCacheRoot({}, aliceHome, options)).toEqual({
      dir: join(aliceHome, '.cache', 'run-docker'),
      source: 'default',
    });
    expect(locateStateDir({ XDG_STATE_HOME: '/s' }, aliceHome, options)).toEqual({
      dir: '/s/run-docker',
      source: 'env XDG_STATE_HOME',
    });
  });
});

describe('as root', () => {
  it("with another user's HOME: root's own home from the user database, saying which folder was passed over and why", async () => {
    const cache = locateCacheRoot({}, aliceHome, asRoot());
    expect(cache).toEqual({
      dir: join(rootHome, '.cache', 'run-docker'),
      source: "root's home in the user database",
      passedOver: { dir: join(aliceHome, '.cache', 'run-docker'), why: hersWhy() },
    });
    expect(describePassedOver('cache', cache)).toBe(
      `as root, the cache is "${join(rootHome, '.cache', 'run-docker')}" (root's home in the user database): "${join(aliceHome, '.cache', 'run-docker')}" ${hersWhy()}`,
    );
    // XDG_STATE_HOME into her HOME (sudo -E keeps it): the same.
    expect(locateStateDir({ XDG_STATE_HOME: join(aliceHome, 'state') }, aliceHome, asRoot()).dir).toBe(
      join(rootHome, '.local', 'state', 'run-docker'),
    );
    // Nothing is made anywhere until asked.
    expect(await readdir(rootHome)).toEqual([]);
    expect(await readdir(aliceHome)).toEqual([]);
  });

  it("makes its own folders when asked, 0700 and root's, and nothing in her HOME", async () => {
    expect(locateStateDir({}, aliceHome, asRoot(true)).dir).toBe(join(rootHome, '.local', 'state', 'run-docker'));
    for (const folder of ['.local', join('.local', 'state'), join('.local', 'state', 'run-docker')]) {
      const info = await lstat(join(rootHome, folder));
      expect({ folder, uid: info.uid, mode: (info.mode & 0o777).toString(8) }).toEqual({ folder, uid: 0, mode: '700' });
    }
    expect(await readdir(aliceHome)).toEqual([]);
  });

  it('a folder only root can change is used where HOME or XDG_* say, links root placed followed', async () => {
    await mkdir(join(dir, 'var-cache'), { mode: 0o755 });
    await symlink(join(dir, 'var-cache'), join(dir, 'cache-link'));
    expect(locateCacheRoot({ XDG_CACHE_HOME: join(dir, 'cache-link') }, aliceHome, asRoot())).toEqual({
      dir: join(dir, 'var-cache', 'run-docker'),
      source: 'env XDG_CACHE_HOME',
    });
    // root's own HOME (sudo -H, a login): used as it is.
    expect(locateCacheRoot({}, rootHome, asRoot()).dir).toBe(join(rootHome, '.cache', 'run-docker'));
  });

  it('a folder she made first in a sticky folder (a cache under /tmp) is passed over, not made into', async () => {
    await mkdir(join(dir, 'tmp'));
    await chmod(join(dir, 'tmp'), 0o1777);
    await mkdir(join(dir, 'tmp', 'cache'));
    await chown(join(dir, 'tmp', 'cache'), OTHER, OTHER);
    expect(locateCacheRoot({ XDG_CACHE_HOME: join(dir, 'tmp', 'cache') }, aliceHome, asRoot(true)).dir).toBe(
      join(rootHome, '.cache', 'run-docker'),
    );
    expect(await readdir(join(dir, 'tmp', 'cache'))).toEqual([]);
  });

  it("none, and why, when root's own home cannot be used either", async () => {
    await chown(rootHome, OTHER, OTHER);
    expect(locateCacheRoot({}, aliceHome, asRoot())).toEqual({
      dir: undefined,
      source: 'default',
      why: `"${join(aliceHome, '.cache', 'run-docker')}" ${hersWhy()}, and root's own "${join(rootHome, '.cache', 'run-docker')}" sits in the folder "${rootHome}", which can be changed by uid ${OTHER}, its owner`,
    });
    expect(locateCacheRoot({}, aliceHome, { ...asRoot(), databaseHome: () => undefined })).toMatchObject({
      dir: undefined,
      why: `"${join(aliceHome, '.cache', 'run-docker')}" ${hersWhy()}, and the user database has no home for root`,
    });
  });
});

describe('prepareStateDir', () => {
  const lines: string[] = [];
  const log = {
    warn: (line: string) => lines.push(`warn: ${line}`),
    debug: (line: string) => lines.push(`debug: ${line}`),
  };
  beforeEach(() => {
    lines.length = 0;
  });

  it("says in a debug line where the state folder is when root passed HOME's over, and makes an open one 0700 with a warning", async () => {
    const state = join(rootHome, '.local', 'state', 'run-docker');
    await mkdir(state, { recursive: true, mode: 0o777 });
    await chmod(state, 0o777);
    expect(await prepareStateDir({}, aliceHome, log, asRoot())).toBe(state);
    expect(lines).toEqual([
      `debug: as root, the state folder is "${state}" (root's home in the user database): "${join(aliceHome, '.local', 'state', 'run-docker')}" ${hersWhy()}`,
      `warn: the state folder "${state}" was writable by group or others (mode 777); made it 0700`,
    ]);
    expect(((await lstat(state)).mode & 0o777).toString(8)).toBe('700');
  });

  it('is none, with one warning, when it belongs to another user or neither place can be used', async () => {
    const state = join(rootHome, '.local', 'state', 'run-docker');
    await mkdir(state, { recursive: true });
    await chown(state, OTHER, OTHER);
    expect(await prepareStateDir({}, rootHome, log, asRoot())).toBeUndefined();
    await chown(rootHome, OTHER, OTHER);
    expect(await prepareStateDir({}, aliceHome, log, asRoot())).toBeUndefined();
    expect(lines).toEqual([
      `warn: the state folder "${state}" belongs to uid ${OTHER}, not to you; older minis are not refused this time`,
      expect.stringMatching(
        /^warn: the state folder is not used: run-docker runs as root, and ".*" sits in the folder .*, and root's own ".*" sits in the folder .*; older minis are not refused this time$/,
      ),
    ]);
  });
});
