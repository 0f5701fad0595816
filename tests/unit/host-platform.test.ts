/**
 * Every branch where Linux, macOS and Windows differ, with the platform passed in as a value
 * (docs/install.md, "macOS and Windows with Docker Desktop": these are reasoned about, and
 * these tests are what pins the reasoning down; Linux is also run for real by the
 * integration tests).
 */
import { engineMapsFileOwnership, formatBindSource, joinHostPath, selectFileOwner } from '../../common/host-platform';
import { toEngineConnection } from '../../common/engine/create-engine-client';
import { normalizeHost, selectDefaultEndpoint } from '../../common/engine/select-engine-endpoint';
import { judgeDir } from '../../common/private-dir';
import { currentUser, findForeignWriter } from '../../common/read-private-file';
import { buildRunSpec, type RunSpecInput } from '../../payload/run/build-run-spec';
import type { HostFacts } from '../../payload/run/host-facts';
import { parseInvocation } from '../../payload/run/parse-invocation';
import { renderDockerRunArgs } from '../../payload/run/render-docker-run-args';
import { miniVersionRecordPath } from '../../shim/mini-version-record';
import { cacheRootDir } from '../../shim/payload-cache';
import { configFileLocation, configFileLocations } from '../../shim/read-config-file';
import {
  selectCacheDir,
  selectConfigDir,
  selectStateDir,
  selectSystemConfigDirs,
} from '../../shim/select-host-folders';
import { selectCertsDirs } from '../../payload/locator/registry/host/read-registry-certs';

const WINDOWS_HOME = 'C:\\Users\\me';
const WINDOWS_ENV = { APPDATA: 'C:\\Users\\me\\AppData\\Roaming', LOCALAPPDATA: 'C:\\Users\\me\\AppData\\Local' };

describe('run-docker folders', () => {
  test('linux: the XDG base directories, /etc/run-docker for the system, as before', () => {
    expect(selectConfigDir('linux', {}, '/home/u')).toEqual({ dir: '/home/u/.config/run-docker', source: 'default' });
    expect(selectCacheDir('linux', {}, '/home/u')).toEqual({ dir: '/home/u/.cache/run-docker', source: 'default' });
    expect(selectStateDir('linux', {}, '/home/u')).toEqual({
      dir: '/home/u/.local/state/run-docker',
      source: 'default',
    });
    expect(selectSystemConfigDirs('linux', { XDG_CONFIG_DIRS: '/opt/conf:relative' })).toEqual([
      { dir: '/opt/conf/run-docker', source: 'env XDG_CONFIG_DIRS' },
      { dir: '/etc/run-docker', source: 'default' },
    ]);
    expect(configFileLocation({}, '/home/u', 'linux')).toEqual({
      path: '/home/u/.config/run-docker/config.json',
      source: 'default',
    });
    expect(cacheRootDir({ XDG_CACHE_HOME: '/c' }, '/home/u', 'linux')).toEqual({
      dir: '/c/run-docker',
      source: 'env XDG_CACHE_HOME',
    });
    expect(miniVersionRecordPath({}, '/home/u', 'linux')).toBe('/home/u/.local/state/run-docker/mini-versions.json');
  });

  test('darwin: config and state XDG-style as on Linux, the cache in ~/Library/Caches, /etc/run-docker for the system', () => {
    expect(configFileLocation({}, '/Users/me', 'darwin')).toEqual({
      path: '/Users/me/.config/run-docker/config.json',
      source: 'default',
    });
    expect(cacheRootDir({}, '/Users/me', 'darwin')).toEqual({
      dir: '/Users/me/Library/Caches/run-docker',
      source: 'default',
    });
    expect(miniVersionRecordPath({}, '/Users/me', 'darwin')).toBe(
      '/Users/me/.local/state/run-docker/mini-versions.json',
    );
    expect(configFileLocations({}, '/Users/me', 'darwin').map((location) => [location.path, location.scope])).toEqual([
      ['/Users/me/.config/run-docker/config.json', 'user'],
      ['/etc/run-docker/config.json', 'system'],
    ]);
    // XDG variables win on macOS too.
    expect(cacheRootDir({ XDG_CACHE_HOME: '/tmp/c' }, '/Users/me', 'darwin')).toEqual({
      dir: '/tmp/c/run-docker',
      source: 'env XDG_CACHE_HOME',
    });
  });

  test('win32: %APPDATA% for the config, %LOCALAPPDATA% for cache and state (apart), no system-wide file', () => {
    expect(configFileLocation(WINDOWS_ENV, WINDOWS_HOME, 'win32')).toEqual({
      path: 'C:\\Users\\me\\AppData\\Roaming\\run-docker\\config.json',
      source: 'env APPDATA',
    });
    expect(cacheRootDir(WINDOWS_ENV, WINDOWS_HOME, 'win32')).toEqual({
      dir: 'C:\\Users\\me\\AppData\\Local\\run-docker\\cache',
      source: 'env LOCALAPPDATA',
    });
    expect(miniVersionRecordPath(WINDOWS_ENV, WINDOWS_HOME, 'win32')).toBe(
      'C:\\Users\\me\\AppData\\Local\\run-docker\\state\\mini-versions.json',
    );
    expect(configFileLocations({ ...WINDOWS_ENV, XDG_CONFIG_DIRS: '/etc/xdg' }, WINDOWS_HOME, 'win32')).toEqual([
      { path: 'C:\\Users\\me\\AppData\\Roaming\\run-docker\\config.json', source: 'env APPDATA', scope: 'user' },
    ]);
    expect(selectSystemConfigDirs('win32', {})).toEqual([]);
  });

  test('win32: without (or with a relative) APPDATA / LOCALAPPDATA, the profile folders Windows uses; an absolute XDG variable wins', () => {
    expect(configFileLocation({ APPDATA: 'relative' }, WINDOWS_HOME, 'win32')).toEqual({
      path: 'C:\\Users\\me\\AppData\\Roaming\\run-docker\\config.json',
      source: 'default',
    });
    expect(cacheRootDir({}, WINDOWS_HOME, 'win32')).toEqual({
      dir: 'C:\\Users\\me\\AppData\\Local\\run-docker\\cache',
      source: 'default',
    });
    expect(selectStateDir('win32', {}, WINDOWS_HOME)).toEqual({
      dir: 'C:\\Users\\me\\AppData\\Local\\run-docker\\state',
      source: 'default',
    });
    expect(selectConfigDir('win32', { ...WINDOWS_ENV, XDG_CONFIG_HOME: 'D:\\conf' }, WINDOWS_HOME)).toEqual({
      dir: 'D:\\conf\\run-docker',
      source: 'env XDG_CONFIG_HOME',
    });
  });
});

describe('file owner checks', () => {
  test("linux: the user and their private group; darwin: group write is every user's (staff); win32: none", () => {
    expect(selectFileOwner('linux', { uid: 1000, gid: 1000 })).toEqual({ uid: 1000, gid: 1000 });
    expect(selectFileOwner('darwin', { uid: 501, gid: 20 })).toEqual({ uid: 501, gid: 20, sharedGroup: true });
    expect(selectFileOwner('win32', { uid: undefined, gid: undefined })).toBeUndefined();
    expect(currentUser('win32')).toBeUndefined();
    expect(currentUser('linux')).toEqual({ uid: process.getuid!(), gid: process.getgid!() });
  });

  test("findForeignWriter: a group-writable file of the user's own group passes on Linux, not on macOS", () => {
    const file = { uid: 501, gid: 20, mode: 0o100664 };
    expect(findForeignWriter(file, { uid: 501, gid: 20 })).toBeUndefined();
    expect(findForeignWriter(file, { uid: 501, gid: 20, sharedGroup: true })).toBe(
      'group 20, which every user is in (mode 0664)',
    );
    expect(findForeignWriter({ ...file, mode: 0o100644 }, { uid: 501, gid: 20, sharedGroup: true })).toBeUndefined();
  });

  test('judgeDir: without a uid (Windows) only a real folder is required; owner and mode are not judged', () => {
    const folder = (mode: number, uid = 0) => ({ isSymbolicLink: () => false, isDirectory: () => true, uid, mode });
    // What Node reports for an NTFS folder: owner 0, mode 0777.
    expect(judgeDir(folder(0o40777), undefined)).toEqual({ state: 'private' });
    expect(judgeDir({ ...folder(0o40777), isSymbolicLink: () => true }, undefined)).toEqual({
      state: 'unusable',
      why: 'is a symlink',
    });
    expect(judgeDir({ ...folder(0o100666), isDirectory: () => false }, undefined)).toEqual({
      state: 'unusable',
      why: 'is not a folder',
    });
    // With a uid, as on Linux and macOS.
    expect(judgeDir(folder(0o40777), 0)).toBe('too-open');
  });
});

describe('host paths and bind mounts', () => {
  test('joinHostPath: POSIX joins with "/" as before; Windows with its own rules', () => {
    expect(joinHostPath('linux', '/home/u', 'work', 'data')).toBe('/home/u/work/data');
    expect(joinHostPath('darwin', '/Users/me/', 'work', 'data')).toBe('/Users/me/work/data');
    expect(joinHostPath('win32', WINDOWS_HOME, 'work', 'data')).toBe('C:\\Users\\me\\work\\data');
  });

  test('formatBindSource: a Windows path in the one form Docker Desktop maps (drive letter, backslashes); others unchanged', () => {
    expect(formatBindSource('C:\\Users\\me\\work\\data', 'win32')).toBe('C:\\Users\\me\\work\\data');
    expect(formatBindSource('C:/Users/me/work/data', 'win32')).toBe('C:\\Users\\me\\work\\data');
    expect(formatBindSource('/home/u/work/data', 'linux')).toBe('/home/u/work/data');
    expect(formatBindSource('/Users/me/work/data', 'darwin')).toBe('/Users/me/work/data');
  });

  test("engineMapsFileOwnership: Docker Desktop's VM on macOS and Windows; not Linux", () => {
    expect(engineMapsFileOwnership('darwin')).toBe(true);
    expect(engineMapsFileOwnership('win32')).toBe(true);
    expect(engineMapsFileOwnership('linux')).toBe(false);
  });
});

describe('the run specification per platform', () => {
  const parsed = parseInvocation(['img']);
  if (parsed.kind !== 'run') throw new Error('expected a run');
  const dockerUser = { name: 'docker-user', uid: 1000, gid: 1000, home: '/home/docker-user' };
  const image = { reference: 'reg:5000/team/app:1', repository: 'reg:5000/team/app', name: 'app', version: '1' };
  const base: Omit<HostFacts, 'platform' | 'home' | 'uid' | 'gid'> = {
    user: 'me',
    uname: 'x',
    timezone: undefined,
    stdinIsTerminal: false,
    stdoutIsTerminal: false,
    now: new Date('2026-11-30T12:00:00Z'),
    uniqueSuffix: 'a1b2',
  };
  const input = (host: HostFacts, sourceDir?: string): RunSpecInput => ({
    options: parsed.options,
    command: [],
    image,
    host,
    sourceDir,
    imageUser: dockerUser,
    notebookToken: 'tok',
  });
  const envOf = (spec: ReturnType<typeof buildRunSpec>) => Object.fromEntries(spec.env);

  test('win32: Windows bind sources, docker-user as the user, no HOSTUSER, no owner change', () => {
    const spec = buildRunSpec(
      input(
        { ...base, platform: 'win32', home: WINDOWS_HOME, uid: undefined, gid: undefined },
        'C:\\Users\\me\\work\\src\\app',
      ),
    );
    expect(spec.mounts).toEqual([
      { source: 'C:\\Users\\me\\work\\data', target: '/home/docker-user/data' },
      { source: 'C:\\Users\\me\\work\\log', target: '/home/docker-user/log' },
      { source: 'C:\\Users\\me\\work\\src\\app', target: '/home/docker-user/src' },
    ]);
    expect(spec.hostDirsToCreate.map((folder) => folder.path)).toEqual([
      'C:\\Users\\me\\work\\data',
      'C:\\Users\\me\\work\\log',
    ]);
    expect(spec).toMatchObject({ user: '1000:1000', groupAdd: [], createdDirsOwner: undefined });
    expect(envOf(spec)).not.toHaveProperty('HOSTUSER');
    expect(envOf(spec)).not.toHaveProperty('JUPYTER_RUNTIME_DIR');
    const args = renderDockerRunArgs(spec);
    expect(args).toContain('type=bind,source=C:\\Users\\me\\work\\data,target=/home/docker-user/data');
    expect(args.slice(args.indexOf('--user'), args.indexOf('--user') + 2)).toEqual(['--user', '1000:1000']);
  });

  test('darwin: docker-user as the user (Docker Desktop maps ownership), the Mac ids in HOSTUSER, no owner change', () => {
    const spec = buildRunSpec(input({ ...base, platform: 'darwin', home: '/Users/me', uid: 501, gid: 20 }));
    expect(spec.mounts).toEqual([
      { source: '/Users/me/work/data', target: '/home/docker-user/data' },
      { source: '/Users/me/work/log', target: '/home/docker-user/log' },
    ]);
    expect(spec).toMatchObject({ user: '1000:1000', groupAdd: [], createdDirsOwner: undefined });
    expect(envOf(spec)).toMatchObject({ HOSTUSER: '501:20', HOME: '/home/docker-user' });
    expect(envOf(spec)).not.toHaveProperty('JUPYTER_RUNTIME_DIR');
  });

  test("linux: unchanged, the host user's own uid with docker-user's group added", () => {
    const spec = buildRunSpec(input({ ...base, platform: 'linux', home: '/home/me', uid: 1234, gid: 1234 }));
    expect(spec).toMatchObject({ user: '1234:1234', groupAdd: ['1000'], createdDirsOwner: undefined });
    expect(envOf(spec)).toMatchObject({ HOSTUSER: '1234:1234', JUPYTER_RUNTIME_DIR: '/tmp/jupyter-runtime' });
  });
});

describe('the engine address', () => {
  test("win32: the docker CLI's named pipe by default; npipe addresses accepted there only", () => {
    expect(selectDefaultEndpoint({}, 'C:\\Users\\me\\.docker', () => false, 'win32')).toEqual({
      host: 'npipe:////./pipe/docker_engine',
      source: 'default',
    });
    expect(selectDefaultEndpoint({}, '/cfg', () => false, 'darwin')).toEqual({
      host: 'unix:///var/run/docker.sock',
      source: 'default',
    });
    expect(normalizeHost('npipe:////./pipe/dockerDesktopLinuxEngine', false, 'DOCKER_HOST', 'win32')).toBe(
      'npipe:////./pipe/dockerDesktopLinuxEngine',
    );
    expect(normalizeHost('npipe:///./pipe/docker_engine', false, 'DOCKER_HOST', 'win32')).toBe(
      'npipe:////./pipe/docker_engine',
    );
    expect(() => normalizeHost('npipe:////./pipe/docker_engine', false, 'DOCKER_HOST', 'linux')).toThrow(
      'is not one run-docker can use',
    );
  });

  test("a named pipe is reached through node:net's path for it", () => {
    const read = () => Buffer.alloc(0);
    expect(toEngineConnection({ host: 'npipe:////./pipe/docker_engine', source: 'default' }, read)).toEqual({
      socketPath: '\\\\.\\pipe\\docker_engine',
    });
  });
});

describe('registry certificates (certs.d)', () => {
  test("linux and darwin: /etc/docker/certs.d first; win32: only the user's folders, never one at the drive's root", () => {
    expect(selectCertsDirs({}, '/home/u', 'linux')).toEqual([
      '/etc/docker/certs.d',
      '/home/u/.config/docker/certs.d',
      '/home/u/.docker/certs.d',
    ]);
    expect(selectCertsDirs({}, '/Users/me', 'darwin')[0]).toBe('/etc/docker/certs.d');
    expect(selectCertsDirs({}, '/Users/me', 'win32')).not.toContain('/etc/docker/certs.d');
    expect(selectCertsDirs({}, '/Users/me', 'win32')).toHaveLength(2);
  });
});
