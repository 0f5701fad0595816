import { mkdtemp, mkdir, rm, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DockerConfigSnapshot } from '../../contract/contract';
import { describeContainersSource, readCredentialSource } from '../../common/credentials/read-credential-source';
import { findContainersCredentials, readDockerCredentials } from '../../common/credentials/read-docker-credentials';
import { loadPodmanLoginFiles, podmanLoginPaths, readLoginFiles } from '../../common/credentials/read-login-files';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const DOCKER_FILE = '/home/me/.docker/config.json';

describe('podmanLoginPaths (containers-auth.json(5), Podman 4.3)', () => {
  it("reads $XDG_RUNTIME_DIR's auth.json, then ~/.config's, then docker's config.json", () => {
    expect(podmanLoginPaths({ XDG_RUNTIME_DIR: '/run/user/1000' }, '/home/me', 1000, DOCKER_FILE)).toEqual([
      '/run/user/1000/containers/auth.json',
      '/home/me/.config/containers/auth.json',
      DOCKER_FILE,
    ]);
  });

  it('without XDG_RUNTIME_DIR, /run/containers/UID/auth.json; XDG_CONFIG_HOME moves the second', () => {
    expect(podmanLoginPaths({ XDG_CONFIG_HOME: '/cfg' }, '/root', 0, DOCKER_FILE)).toEqual([
      '/run/containers/0/auth.json',
      '/cfg/containers/auth.json',
      DOCKER_FILE,
    ]);
  });

  it("REGISTRY_AUTH_FILE replaces the first; DOCKER_CONFIG makes docker's file the first (podman's default --authfile)", () => {
    expect(
      podmanLoginPaths({ REGISTRY_AUTH_FILE: '/a.json', XDG_RUNTIME_DIR: '/run/user/1' }, '/h', 1, DOCKER_FILE),
    ).toEqual(['/a.json', '/h/.config/containers/auth.json', DOCKER_FILE]);
    expect(
      podmanLoginPaths({ DOCKER_CONFIG: '/d', XDG_RUNTIME_DIR: '/run/user/1' }, '/h', 1, '/d/config.json'),
    ).toEqual(['/d/config.json', '/h/.config/containers/auth.json']);
  });
});

describe('findContainersCredentials', () => {
  const config = {
    auths: {
      'r.example/team/app': { auth: b64('app:1') },
      'r.example/team': { auth: b64('team:2') },
      'r.example': { auth: b64('all:3') },
    },
  };
  it('takes the repository, then each namespace above it, then the registry', () => {
    expect(findContainersCredentials(config, 'r.example', 'r.example/team/app')?.username).toBe('app');
    expect(findContainersCredentials(config, 'r.example', 'r.example/team/other')?.username).toBe('team');
    expect(findContainersCredentials(config, 'r.example', 'r.example/else/x')?.username).toBe('all');
    expect(findContainersCredentials(config, 'other.example', 'other.example/team/app')).toBeUndefined();
  });
  it('names the login it would use', () => {
    expect(describeContainersSource(config, 'r.example', 'r.example/team/x')).toBe('user:team');
    expect(describeContainersSource({ credHelpers: { 'r.example': 'pass' } }, 'r.example')).toBe('helper:pass');
  });
});

describe("Podman's login files before docker's", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'login-files-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const dockerSnapshot = (content: object | undefined): DockerConfigSnapshot => ({
    dir: path.join(dir, '.docker'),
    file: path.join(dir, '.docker', 'config.json'),
    content: content as Record<string, unknown> | undefined,
  });

  async function writeAuth(content: object): Promise<string> {
    await mkdir(path.join(dir, 'run', 'containers'), { recursive: true, mode: 0o700 });
    const file = path.join(dir, 'run', 'containers', 'auth.json');
    await writeFile(file, JSON.stringify(content), { mode: 0o600 });
    return file;
  }

  it("on Podman, podman login's entry wins over docker's; on Docker, docker's alone is read", async () => {
    await writeAuth({ auths: { 'r.example': { auth: b64('podman-user:p') } } });
    const docker = dockerSnapshot({ auths: { 'r.example': { auth: b64('docker-user:d') } } });
    const env = { HOME: dir, XDG_RUNTIME_DIR: path.join(dir, 'run') };
    const podmanEngine = { identify: () => Promise.resolve({ kind: 'podman' as const, version: '4.3.1' }) };
    const dockerEngine = { identify: () => Promise.resolve({ kind: 'docker' as const, version: '20.10' }) };
    const onPodman = await readLoginFiles(podmanEngine, env, docker);
    expect(onPodman.map((file) => file.format)).toEqual(['containers', 'docker']);
    const read = (loginFiles: typeof onPodman) =>
      readDockerCredentials('r.example', { dockerConfig: docker, loginFiles, env, repository: 'r.example/a' });
    expect((await read(onPodman))?.username).toBe('podman-user');
    expect(readCredentialSource('r.example', docker, onPodman, 'r.example/a')).toBe('user:podman-user');
    expect((await read(await readLoginFiles(dockerEngine, env, docker)))?.username).toBe('docker-user');
    // Nothing for a registry in Podman's file: docker's is asked next.
    const other = dockerSnapshot({ auths: { 'o.example': { auth: b64('docker-other:d') } } });
    const files = await loadPodmanLoginFiles(env, dir, other);
    expect((await readDockerCredentials('o.example', { dockerConfig: other, loginFiles: files, env }))?.username).toBe(
      'docker-other',
    );
  });

  it("a Podman login file another user could write is refused, as docker's config.json is", async () => {
    const file = await writeAuth({ auths: {} });
    await chmod(file, 0o666);
    await expect(
      loadPodmanLoginFiles({ HOME: dir, XDG_RUNTIME_DIR: path.join(dir, 'run') }, dir, dockerSnapshot(undefined)),
    ).rejects.toThrow(`the Podman login file "${file}" is not used`);
  });
});
