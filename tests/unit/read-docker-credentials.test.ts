import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dockerConfigPath } from '../../common/docker-config-path';
import {
  findCredentialHelper,
  findCredentials,
  readDockerCredentials,
} from '../../common/credentials/read-docker-credentials';
import { loadDockerConfig } from '../../common/load-docker-config';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('findCredentials', () => {
  it('decodes auths[host].auth, splitting at the first colon', () => {
    const config = { auths: { 'ghcr.io': { auth: b64('me:pa:ss') } } };
    expect(findCredentials(config, 'ghcr.io')).toEqual({ username: 'me', password: 'pa:ss' });
  });

  it('reads username/password fields and identity tokens', () => {
    expect(findCredentials({ auths: { 'r.example': { username: 'u', password: 'p' } } }, 'r.example')).toEqual({
      username: 'u',
      password: 'p',
    });
    expect(
      findCredentials({ auths: { 'r.example': { auth: b64('<token>:'), identitytoken: 'refresh' } } }, 'r.example'),
    ).toEqual({
      username: '<token>',
      password: '',
      identityToken: 'refresh',
    });
  });

  it('matches keys written as URLs', () => {
    const config = {
      auths: { 'https://127.0.0.1:5000/v1/': { auth: b64('a:b') }, 'http://other:5000': { auth: b64('c:d') } },
    };
    expect(findCredentials(config, '127.0.0.1:5000')).toEqual({ username: 'a', password: 'b' });
    expect(findCredentials(config, 'other:5000')).toEqual({ username: 'c', password: 'd' });
    expect(findCredentials(config, '127.0.0.1:5001')).toBeUndefined();
    expect(findCredentials(config, '127.0.0.1')).toBeUndefined();
  });

  it('finds Docker Hub credentials under the v1 index URL', () => {
    const config = { auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') } } };
    expect(findCredentials(config, 'docker.io')).toEqual({ username: 'hub', password: 'pw' });
    expect(findCredentials(config, 'index.docker.io.example')).toBeUndefined();
  });

  it('prefers the exact key', () => {
    const config = { auths: { 'https://ghcr.io': { auth: b64('url:x') }, 'ghcr.io': { auth: b64('exact:y') } } };
    expect(findCredentials(config, 'ghcr.io')?.username).toBe('exact');
  });

  it('skips empty entries (left by credential stores) and malformed sections', () => {
    expect(findCredentials({ auths: { 'ghcr.io': {} } }, 'ghcr.io')).toBeUndefined();
    expect(findCredentials({ auths: { 'ghcr.io': null } }, 'ghcr.io')).toBeUndefined();
    expect(findCredentials({ auths: 'nonsense' } as never, 'ghcr.io')).toBeUndefined();
    expect(findCredentials({}, 'ghcr.io')).toBeUndefined();
  });
});

describe('findCredentialHelper', () => {
  it('prefers credHelpers[host] over credsStore', () => {
    const config = { credsStore: 'desktop', credHelpers: { 'gcr.io': 'gcloud' } };
    expect(findCredentialHelper(config, 'gcr.io')).toBe('gcloud');
    expect(findCredentialHelper(config, 'ghcr.io')).toBe('desktop');
    expect(findCredentialHelper({}, 'ghcr.io')).toBeUndefined();
  });
});

describe('readDockerCredentials', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'run-docker-creds-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** What a call hands the reader: docker's config as loaded from `env` and `homeDir`. */
  const loaded = async (env: Record<string, string>, homeDir = dir) => ({
    env,
    dockerConfig: await loadDockerConfig(env, homeDir),
  });

  it('reads $DOCKER_CONFIG/config.json before ~/.docker/config.json', async () => {
    await mkdir(path.join(dir, 'home', '.docker'), { recursive: true });
    await mkdir(path.join(dir, 'cfg'));
    await writeFile(
      path.join(dir, 'home', '.docker', 'config.json'),
      JSON.stringify({ auths: { 'ghcr.io': { auth: b64('home:1') } } }),
    );
    await writeFile(
      path.join(dir, 'cfg', 'config.json'),
      JSON.stringify({ auths: { 'ghcr.io': { auth: b64('cfg:2') } } }),
    );
    const home = path.join(dir, 'home');
    expect(await readDockerCredentials('ghcr.io', await loaded({}, home))).toEqual({
      username: 'home',
      password: '1',
    });
    expect(
      await readDockerCredentials('ghcr.io', await loaded({ DOCKER_CONFIG: path.join(dir, 'cfg') }, home)),
    ).toEqual({
      username: 'cfg',
      password: '2',
    });
    expect(dockerConfigPath({}, home)).toBe(path.join(home, '.docker', 'config.json'));
  });

  it('means no credentials when the file is missing', async () => {
    expect(await readDockerCredentials('ghcr.io', await loaded({}, path.join(dir, 'nobody')))).toBeUndefined();
  });

  it('warns about a broken file without quoting it', async () => {
    await writeFile(path.join(dir, 'config.json'), '{"auths": {"ghcr.io": {"auth": "c2VjcmV0OnNlY3JldA=="}} oops');
    const warnings: string[] = [];
    const log = { warn: (line: string) => warnings.push(line), debug: () => {} };
    expect(await readDockerCredentials('ghcr.io', { ...(await loaded({ DOCKER_CONFIG: dir })), log })).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('config.json');
    expect(warnings[0]).not.toContain('c2VjcmV0');
  });

  it('asks the credential helper before auths, and reads identity tokens from it', async () => {
    await writeFile(
      path.join(dir, 'config.json'),
      JSON.stringify({ credsStore: 'pass', auths: { 'ghcr.io': { auth: b64('a:b') } } }),
    );
    const asked: string[] = [];
    const options = {
      ...(await loaded({ DOCKER_CONFIG: dir })),
      askHelper: async (helper: string, serverUrl: string) => {
        asked.push(`${helper} ${serverUrl}`);
        return serverUrl === 'ghcr.io'
          ? { found: true as const, username: 'helper-user', secret: 's3cret' }
          : { found: true as const, username: '<token>', secret: 'refresh' };
      },
    };
    expect(await readDockerCredentials('ghcr.io', options)).toEqual({ username: 'helper-user', password: 's3cret' });
    expect(await readDockerCredentials('docker.io', options)).toEqual({
      username: '',
      password: '',
      identityToken: 'refresh',
    });
    expect(asked).toEqual(['pass ghcr.io', 'pass https://index.docker.io/v1/']);
  });

  it('means no credentials when the helper has none, even if auths has an entry', async () => {
    await writeFile(
      path.join(dir, 'config.json'),
      JSON.stringify({ credHelpers: { 'ghcr.io': 'gh' }, auths: { 'ghcr.io': { auth: b64('a:b') } } }),
    );
    const options = { ...(await loaded({ DOCKER_CONFIG: dir })), askHelper: async () => ({ found: false as const }) };
    expect(await readDockerCredentials('ghcr.io', options)).toBeUndefined();
  });

  it('warns once, without the secret, and falls back to auths when the helper cannot run', async () => {
    await writeFile(
      path.join(dir, 'config.json'),
      JSON.stringify({ credsStore: 'missing-helper-xyz', auths: { 'ghcr.io': { auth: b64('a:b') } } }),
    );
    const warnings: string[] = [];
    const log = { warn: (line: string) => warnings.push(line), debug: () => {} };
    const options = { ...(await loaded({ DOCKER_CONFIG: dir, PATH: dir })), log };
    expect(await readDockerCredentials('ghcr.io', options)).toEqual({ username: 'a', password: 'b' });
    expect(warnings).toEqual([
      expect.stringContaining('"docker-credential-missing-helper-xyz" could not be run (it is not on PATH)'),
    ]);
  });
});
