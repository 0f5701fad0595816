/**
 * The one reader of docker's config.json (common/load-docker-config.ts), on real files: what
 * a call gets for a missing, broken, hostile or foreign file, and that the locator reads it
 * through this reader only (a FIFO once hung a lookup that needed a login).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTRACT_VERSION } from '../../contract/contract';
import { loadDockerConfig, readContextDockerConfig } from '../../common/load-docker-config';
import { RunDockerError } from '../../common/run-docker-error';
import { readEngineEndpoint } from '../../common/engine/read-engine-endpoint';
import { findNewestTag } from '../../payload/locator/find-newest-tag';
import { createFakeEngine } from '../helpers/fake-engine';
import { makeLocatorContext } from '../helpers/locator-context';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-docker-docker-config-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const ROOT = { uid: 0, gid: 0 };
const file = () => join(dir, 'config.json');

describe('loadDockerConfig', () => {
  it('reads $DOCKER_CONFIG/config.json, else ~/.docker/config.json', async () => {
    await mkdir(join(dir, 'home', '.docker'), { recursive: true });
    await writeFile(join(dir, 'home', '.docker', 'config.json'), '{"currentContext": "home"}');
    await writeFile(file(), '{"currentContext": "env"}');
    expect(await loadDockerConfig({}, join(dir, 'home'), ROOT)).toEqual({
      dir: join(dir, 'home', '.docker'),
      file: join(dir, 'home', '.docker', 'config.json'),
      content: { currentContext: 'home' },
    });
    expect((await loadDockerConfig({ DOCKER_CONFIG: dir }, join(dir, 'home'), ROOT)).content).toEqual({
      currentContext: 'env',
    });
  });

  it('has no content and no problem when the file is missing, or holds null', async () => {
    expect(await loadDockerConfig({ DOCKER_CONFIG: dir }, dir, ROOT)).toEqual({
      dir,
      file: file(),
      content: undefined,
    });
    await writeFile(file(), 'null');
    expect(await loadDockerConfig({ DOCKER_CONFIG: dir }, dir, ROOT)).toEqual({
      dir,
      file: file(),
      content: undefined,
    });
  });

  it.each([
    ['broken JSON, never quoted', '{"auths": {"r": {"auth": "c2VjcmV0"}} oops', 'is not valid JSON'],
    ['an array', '[1]', 'is not a JSON object'],
    [
      'a UTF-8 byte-order mark, named and never printed (the docker CLI refuses it too)',
      '\ufeff{"currentContext": "x"}',
      'is not valid JSON: it starts with a UTF-8 byte-order mark (U+FEFF), which the docker CLI does not accept either',
    ],
  ])('says why it cannot use %s', async (_name, text, problem) => {
    await writeFile(file(), text);
    expect(await loadDockerConfig({ DOCKER_CONFIG: dir }, dir, ROOT)).toEqual({
      dir,
      file: file(),
      content: undefined,
      problem,
    });
  });

  it('never blocks on a FIFO or reads /dev/zero without end', async () => {
    execFileSync('mkfifo', [file()]);
    expect((await loadDockerConfig({ DOCKER_CONFIG: dir }, dir, ROOT)).problem).toBe('is not a regular file (a FIFO)');
    await rm(file());
    await symlink('/dev/zero', file());
    expect((await loadDockerConfig({ DOCKER_CONFIG: dir }, dir, ROOT)).problem).toBe(
      'is not a regular file (a character device)',
    );
  });

  it('refuses, in one line, a file another user owns or every user may write, or a folder others may write; root is told to keep its own (sudo -H)', async () => {
    await writeFile(file(), '{"currentContext": "theirs"}');
    await chown(file(), 4321, 4321);
    const foreign = await loadDockerConfig({ DOCKER_CONFIG: dir }, dir, ROOT).catch((error: unknown) => error);
    expect(foreign).toBeInstanceOf(RunDockerError);
    expect((foreign as RunDockerError).message).toBe(
      `the docker file "${file()}" is not used: it chooses the Docker engine whose images run and the credential helpers that are started, and it can be changed by uid 4321, its owner`,
    );
    expect((foreign as RunDockerError).hint).toContain('"sudo -H"');

    await chown(file(), 0, 0);
    await chmod(file(), 0o666);
    await expect(loadDockerConfig({ DOCKER_CONFIG: dir }, dir, ROOT)).rejects.toThrow(
      'can be changed by every user (mode 0666)',
    );
    await chmod(file(), 0o600);
    await chmod(dir, 0o777);
    await expect(loadDockerConfig({ DOCKER_CONFIG: dir }, dir, ROOT)).rejects.toThrow(
      `sits in the folder "${dir}", which can be changed by every user (mode 0777)`,
    );
    // A user's own file passes for that user: the rule is "nobody but you or root".
    await chmod(dir, 0o700);
    await chown(file(), 4321, 4321);
    await chown(dir, 4321, 4321);
    expect((await loadDockerConfig({ DOCKER_CONFIG: dir }, dir, { uid: 4321, gid: 4321 })).content).toEqual({
      currentContext: 'theirs',
    });
  });
});

describe('readEngineEndpoint holds contexts and TLS files to the same rule', () => {
  async function writeContext(name: string, host: string): Promise<{ meta: string; tls: string }> {
    const id = createHash('sha256').update(name).digest('hex');
    const meta = join(dir, 'contexts', 'meta', id);
    const tls = join(dir, 'contexts', 'tls', id, 'docker');
    await mkdir(meta, { recursive: true });
    await mkdir(tls, { recursive: true });
    await writeFile(join(meta, 'meta.json'), JSON.stringify({ Endpoints: { docker: { Host: host } } }));
    await writeFile(file(), JSON.stringify({ currentContext: name }));
    return { meta: join(meta, 'meta.json'), tls };
  }

  it("refuses a context's meta.json or TLS file that another user could have written", async () => {
    const { meta, tls } = await writeContext('remote', 'tcp://127.0.0.1:2376');
    await writeFile(join(tls, 'ca.pem'), 'CA');
    const config = await loadDockerConfig({ DOCKER_CONFIG: dir }, dir, ROOT);
    expect(await readEngineEndpoint({}, config, ROOT)).toMatchObject({
      host: 'tcp://127.0.0.1:2376',
      tls: { verify: true },
    });
    await chown(join(tls, 'ca.pem'), 4321, 4321);
    await expect(readEngineEndpoint({}, config, ROOT)).rejects.toThrow(
      `the docker file "${join(tls, 'ca.pem')}" is not used: it chooses the Docker engine whose images run and the credential helpers that are started, and it can be changed by uid 4321, its owner`,
    );
    await chown(meta, 4321, 4321);
    await expect(readEngineEndpoint({}, config, ROOT)).rejects.toThrow(`the docker file "${meta}" is not used`);
  });

  it('refuses a DOCKER_CERT_PATH file (default: the docker config folder) that another user could have written', async () => {
    await writeFile(join(dir, 'ca.pem'), 'CA');
    await chown(join(dir, 'ca.pem'), 4321, 4321);
    const config = await loadDockerConfig({ DOCKER_CONFIG: dir }, dir, ROOT);
    const env = { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1' };
    await expect(readEngineEndpoint(env, config, ROOT)).rejects.toThrow(
      `the docker file "${join(dir, 'ca.pem')}" is not used`,
    );
    // Without TLS, no file is looked at.
    expect(await readEngineEndpoint({ DOCKER_HOST: 'tcp://127.0.0.1:2375' }, config, ROOT)).toEqual({
      host: 'tcp://127.0.0.1:2375',
      source: 'DOCKER_HOST',
    });
  });
});

describe('readContextDockerConfig', () => {
  it("takes the shim's snapshot (BaseContext.docker, version 1) without reading anything", async () => {
    const snapshot = { dir: '/nowhere', file: '/nowhere/config.json', content: { currentContext: 'shim' } };
    const ctx = {
      env: { DOCKER_CONFIG: dir },
      docker: { version: 1 as const, config: snapshot, engineHost: 'unix:///x' },
    };
    expect(await readContextDockerConfig(ctx)).toBe(snapshot);
  });

  it('under a shim that does not hand it over, loads it once per environment', async () => {
    await writeFile(file(), '{"currentContext": "first"}');
    const env = { DOCKER_CONFIG: dir, HOME: dir };
    expect((await readContextDockerConfig({ env })).content).toEqual({ currentContext: 'first' });
    await writeFile(file(), '{"currentContext": "second"}');
    expect((await readContextDockerConfig({ env })).content).toEqual({ currentContext: 'first' });
    expect((await readContextDockerConfig({ env: { ...env } })).content).toEqual({ currentContext: 'second' });
  });
});

describe("the locator reads docker's config through this reader only", () => {
  /** A registry with token auth: every lookup needs the login (and the login's name, for the token cache). */
  async function startTokenRegistry() {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://placeholder');
      res.setHeader('Content-Type', 'application/json');
      if (url.pathname === '/token') return res.end(JSON.stringify({ token: 'tok', expires_in: 300 }));
      if (req.headers.authorization !== 'Bearer tok') {
        res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/token",service="svc"` });
        return res.end('{}');
      }
      return res.end(JSON.stringify({ name: 'team/app', tags: ['1.0.0', '2.0.0'] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      registry: `127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  it('a FIFO as config.json costs one warning, never a hung lookup', async () => {
    const registry = await startTokenRegistry();
    try {
      execFileSync('mkfifo', [file()]);
      const { ctx, warnings } = makeLocatorContext(createFakeEngine(), {
        HOME: dir,
        DOCKER_CONFIG: dir,
        RUN_DOCKER_REGISTRY_DEADLINE_MS: '600000',
      });
      expect(ctx.contract).toBe(CONTRACT_VERSION);
      expect(await findNewestTag(ctx, `${registry.registry}/team/app`)).toEqual({
        tag: '2.0.0',
        presentLocally: false,
      });
      expect(warnings).toEqual([`ignoring "${file()}": it is not a regular file (a FIFO)`]);
    } finally {
      await registry.close();
    }
  }, 15_000);
});
