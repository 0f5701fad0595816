import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EngineClient } from '../../contract/contract';
import { RunDockerError } from '../../common/run-docker-error';
import { createFakeEngine } from '../helpers/fake-engine';
import { describeRegistryHost } from '../../payload/locator/registry/host/describe-registry-host';
import {
  ENGINE_CONFIG_CACHE_FILE,
  ENGINE_CONFIG_TTL_MS,
} from '../../payload/locator/registry/host/read-engine-registry-config';
import { readRegistryCerts } from '../../payload/locator/registry/host/read-registry-certs';
import { registryBaseUrl } from '../../payload/locator/registry/registry-host';

const INFO = {
  ID: 'ENGINE-A',
  RegistryConfig: {
    InsecureRegistryCIDRs: ['127.0.0.0/8', '10.1.0.0/16'],
    IndexConfigs: { 'docker.io': { Secure: true }, 'registry.lan:5000': { Secure: false } },
  },
};

let dir: string;
let certsDir: string;
let cacheDir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'run-docker-transport-'));
  certsDir = path.join(dir, 'certs.d');
  cacheDir = path.join(dir, 'cache');
  await mkdir(certsDir);
  await mkdir(cacheDir, { mode: 0o700 });
});

afterEach(() => rm(dir, { recursive: true, force: true }));

/** A client with `info` that counts its calls; `answer` is what /info returns. */
function engineWithInfo(answer: unknown = INFO) {
  const calls = { info: 0 };
  const engine = createFakeEngine({ info: answer });
  const readInfo = engine.readInfo.bind(engine);
  engine.readInfo = () => (calls.info++, readInfo());
  return { docker: engine, calls };
}

function options(engine: EngineClient | undefined, extra: Record<string, unknown> = {}) {
  return {
    engine,
    engineHost: 'unix:///var/run/docker.sock',
    cacheDir,
    certsDirs: [certsDir],
    resolve: async (hostname: string) => (hostname === 'git.corp' ? ['10.1.4.7'] : ['192.0.2.1']),
    ...extra,
  };
}

async function writeCerts(host: string, files: Record<string, string>): Promise<void> {
  await mkdir(path.join(certsDir, host), { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(certsDir, host, name), text);
}

/** The origin the client asks `registry` at. */
async function baseUrlOf(registry: string, engine: EngineClient | undefined, extra: Record<string, unknown> = {}) {
  return registryBaseUrl(await describeRegistryHost(registry, options(engine, extra)));
}

describe('describeRegistryHost', () => {
  it('loopback registries, in any spelling: plain http, without asking the engine', async () => {
    const { docker, calls } = engineWithInfo();
    expect(await describeRegistryHost('127.0.0.1:5000', options(docker))).toEqual({
      registry: '127.0.0.1:5000',
      host: '127.0.0.1:5000',
      mode: 'plain',
    });
    const loopback = ['localhost:5000', 'localhost', '127.10.20.30:80', '[::1]:5000', '[::ffff:7f00:1]:5000'];
    for (const registry of loopback) expect(await baseUrlOf(registry, docker)).toBe(`http://${registry}`);
    expect(calls.info).toBe(0);
  });

  it('without an engine, everything else is https (the loopback rule), Docker Hub at its API host', async () => {
    for (const registry of ['ghcr.io', '10.0.0.5:5000', 'localhost.example.com', '127.0.0.1.nip.io:5000', '[::2]:5000'])
      expect(await baseUrlOf(registry, undefined)).toBe(`https://${registry}`);
    expect(await baseUrlOf('docker.io', undefined)).toBe('https://registry-1.docker.io');
  });

  it('a registry the engine lists as insecure, by name or by address range: http', async () => {
    const { docker } = engineWithInfo();
    expect(await baseUrlOf('registry.lan:5000', docker)).toBe('http://registry.lan:5000');
    expect(await baseUrlOf('git.corp:5050', docker)).toBe('http://git.corp:5050');
  });

  it('other registries: https; Docker Hub at its API host', async () => {
    const { docker } = engineWithInfo();
    expect(await describeRegistryHost('ghcr.io', options(docker))).toEqual({
      registry: 'ghcr.io',
      host: 'ghcr.io',
      mode: 'verified',
    });
    expect(await baseUrlOf('docker.io', docker)).toBe('https://registry-1.docker.io');
  });

  it('asks /info once a minute per engine endpoint, through the cache folder', async () => {
    const { docker, calls } = engineWithInfo();
    let now = 1_000_000;
    await describeRegistryHost('git.corp:5050', options(docker, { now: () => now }));
    await describeRegistryHost('registry.lan:5000', options(docker, { now: () => now }));
    expect(calls.info).toBe(1);
    // Another endpoint never uses this engine's answer.
    await describeRegistryHost('git.corp:5050', options(docker, { now: () => now, engineHost: 'tcp://other:2375' }));
    expect(calls.info).toBe(2);
    now += ENGINE_CONFIG_TTL_MS;
    await describeRegistryHost('git.corp:5050', options(docker, { now: () => now, engineHost: 'tcp://other:2375' }));
    expect(calls.info).toBe(3);
  });

  it('without the engine address (a shim that does not hand it over, and none could be found) asks /info every time', async () => {
    const { docker, calls } = engineWithInfo();
    await describeRegistryHost('git.corp:5050', options(docker, { engineHost: undefined }));
    await describeRegistryHost('git.corp:5050', options(docker, { engineHost: undefined }));
    expect(calls.info).toBe(2);
  });

  it('a broken cache file is asked again, not trusted', async () => {
    await writeFile(path.join(cacheDir, ENGINE_CONFIG_CACHE_FILE), '{"endpoint": 1');
    const { docker, calls } = engineWithInfo();
    expect(await baseUrlOf('git.corp:5050', docker)).toBe('http://git.corp:5050');
    expect(calls.info).toBe(1);
  });

  it('no engine, or an engine whose /info failed: the loopback rule from before', async () => {
    expect(await baseUrlOf('registry.lan:5000', undefined)).toBe('https://registry.lan:5000');
    const { docker } = engineWithInfo(new Error('engine gone'));
    expect(await baseUrlOf('registry.lan:5000', docker)).toBe('https://registry.lan:5000');
  });

  it('a certs.d folder makes even an insecure registry https, with its CAs and its client pair', async () => {
    await writeCerts('registry.lan:5000', { 'ca.crt': 'CA-PEM', 'client.cert': 'CERT-PEM', 'client.key': 'KEY-PEM' });
    const { docker } = engineWithInfo();
    expect(await describeRegistryHost('registry.lan:5000', options(docker))).toEqual({
      registry: 'registry.lan:5000',
      host: 'registry.lan:5000',
      mode: 'verified',
      ca: ['CA-PEM'],
      clientCertificate: { cert: 'CERT-PEM', key: 'KEY-PEM' },
    });
  });
});

describe('readRegistryCerts', () => {
  it('undefined without a folder; CAs from every *.crt of every certs.d folder, system first', async () => {
    expect(await readRegistryCerts('ghcr.io', [certsDir])).toBeUndefined();
    await writeCerts('r:1', { 'b.crt': 'B', 'a.crt': 'A', README: 'ignored' });
    const user = path.join(dir, 'user-certs.d');
    await mkdir(path.join(user, 'r:1'), { recursive: true });
    await writeFile(path.join(user, 'r:1', 'ca.crt'), 'U');
    expect(await readRegistryCerts('r:1', [certsDir, user])).toEqual({
      ca: ['A', 'B', 'U'],
      folders: [path.join(certsDir, 'r:1'), path.join(user, 'r:1')],
    });
  });

  it('a client certificate without its key is an error naming the missing file, as for the engine', async () => {
    await writeCerts('r:1', { 'client.cert': 'C' });
    const error = await readRegistryCerts('r:1', [certsDir]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunDockerError);
    expect((error as RunDockerError).message).toBe(
      `the client certificate "${path.join(certsDir, 'r:1', 'client.cert')}" has no "client.key" beside it`,
    );
  });

  it('an unreadable CA file is an error naming it, not silently skipped', async () => {
    await writeCerts('r:1', {});
    await mkdir(path.join(certsDir, 'r:1', 'ca.crt'));
    const error = await readRegistryCerts('r:1', [certsDir]).catch((e: unknown) => e);
    expect((error as RunDockerError).message).toMatch(
      /^cannot read the registry certificates in ".*ca\.crt": is not a regular file/,
    );
  });

  it('a CA another user could have planted is refused, naming it: it would be trusted for the registry', async () => {
    const user = path.join(dir, 'home-certs.d');
    await mkdir(path.join(user, 'r:1'), { recursive: true });
    await writeFile(path.join(user, 'r:1', 'ca.crt'), 'PLANTED');
    await chown(path.join(user, 'r:1', 'ca.crt'), 4321, 4321);
    const error = await readRegistryCerts('r:1', [certsDir, user]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunDockerError);
    expect((error as RunDockerError).message).toBe(
      `the registry certificate "${path.join(user, 'r:1', 'ca.crt')}" is not used: it would be trusted for "r:1", and it can be changed by uid 4321, its owner`,
    );
  });

  it('a registry name never leaves the folder', async () => {
    expect(await readRegistryCerts('../etc', [certsDir])).toBeUndefined();
  });
});

describe('describeRegistryHost on Podman (docs/engines.md#registries-on-podman)', () => {
  /** Podman's Docker-compatible /info: registries.conf as IndexConfigs, no CIDRs, loopback not among them. */
  function podmanWithInfo(indexConfigs: Record<string, { Secure: boolean }>) {
    const calls = { info: 0 };
    const engine = createFakeEngine({
      identity: { kind: 'podman', version: '4.3.1' },
      info: { ID: 'PODMAN', RegistryConfig: { InsecureRegistryCIDRs: [], IndexConfigs: indexConfigs } },
    });
    const readInfo = engine.readInfo.bind(engine);
    engine.readInfo = () => (calls.info++, readInfo());
    return { podman: engine, calls };
  }

  it('asks the engine about a loopback registry too, as Podman treats it as secure unless registries.conf says insecure', async () => {
    const unlisted = podmanWithInfo({});
    expect(await baseUrlOf('127.0.0.1:5000', unlisted.podman)).toBe('https://127.0.0.1:5000');
    expect(unlisted.calls.info).toBe(1);
    const listed = podmanWithInfo({ '127.0.0.1:5000': { Secure: false } });
    expect(await baseUrlOf('127.0.0.1:5000', listed.podman, { cacheDir: undefined })).toBe('http://127.0.0.1:5000');
  });
});
