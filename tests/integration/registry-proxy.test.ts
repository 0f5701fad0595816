/**
 * Registries behind a corporate HTTP proxy (issue 11): run-docker's own registry requests
 * (tag lists, tokens) honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY and config.json `proxies`
 * as the docker CLI does; loopback is never proxied; an unusable proxy is like an
 * unreachable registry. The registry is a real one by name: a hostname mapped to 127.0.0.1
 * in /etc/hosts for this file, serving TLS with a CA made here (the shim trusts it through
 * NODE_EXTRA_CA_CERTS; the engine is never asked to, since --dry-run pulls nothing). It
 * shares its storage with a plain-http registry on 127.0.0.1, where the engine pushes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCertificates } from '../helpers/certificates';
import { buildBusyboxImage, docker, pushImage, removeImages } from '../helpers/fixtures';
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy';
import { mapHostName } from '../helpers/hosts-file';
import { startRegistry, tagInRegistry, type TestRegistry } from '../helpers/registry';
import { freePort, listen } from '../helpers/listen';
import {
  explain,
  makeHost,
  PACKAGE_VERSION,
  publish,
  removeHosts,
  runShim,
  stderrLines,
  type HostEnv,
} from '../helpers/shim';

jest.setTimeout(120_000);

const RUN = `${process.pid}-${Date.now().toString(36)}`;
const HOSTNAME = `registry-${RUN}.run-docker.test`;
const GOOD_MINI = '20260101-000000';
const OLD = '20260101-000000';
const NEW = '20260301-000000';
const SPACE = `proxy-${RUN}`;

let registry: TestRegistry;
let tlsRegistry: ChildProcess | undefined;
let unmapHostName: (() => Promise<void>) | undefined;
/** `registry-….run-docker.test:PORT` */
let named: string;
let dir: string;
let host: HostEnv;
const images: string[] = [];
const proxies: ForwardProxy[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-docker-proxy-test-'));
  unmapHostName = await mapHostName(HOSTNAME, '127.0.0.1', `registry-proxy test ${RUN}`);
  registry = await startRegistry();
  const port = await freePort();
  named = `${HOSTNAME}:${port}`;
  await makeCertificates(dir, HOSTNAME);
  tlsRegistry = await startTlsRegistry(dir, `${registry.dir}/storage`, port);

  const prefix = `${registry.address}/${SPACE}`;
  const tiny = await publish('tiny', `${prefix}/tiny`);
  await publish('mini', `${prefix}/mini`, ['--version', GOOD_MINI]);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`, `${prefix}/mini:${GOOD_MINI}`);
  // The project: OLD on this host and in the registry, NEW only in the registry.
  await buildBusyboxImage(`${prefix}/app:${OLD}`);
  await pushImage(`${prefix}/app:${OLD}`);
  await tagInRegistry(registry.address, `${SPACE}/app`, OLD, [NEW]);
  images.push(`${prefix}/app:${OLD}`, `${named}/${SPACE}/app:${OLD}`);
  expect((await docker(['tag', `${prefix}/app:${OLD}`, `${named}/${SPACE}/app:${OLD}`])).code).toBe(0);
  host = await makeHost({
    RUN_DOCKER_TINY: tiny,
    RUN_DOCKER_MINI: `${prefix}/mini`,
    RUN_DOCKER_QUIET: '1',
    NODE_EXTRA_CA_CERTS: join(dir, 'ca.crt'),
  });
});

/**
 * Each test's calls run in a folder of their own: a call asks early for the repository the
 * last call in its folder looked up after mini (payload/locator/predict-next-lookup.ts), and
 * another test's project asked through this test's proxy is not what this test counts.
 */
let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(dir, 'calls-'));
});

/** runShim in this test's folder. */
function runCall(args: string[], env: Record<string, string>) {
  return runShim(args, env, '', [], folder);
}

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

afterAll(async () => {
  await unmapHostName?.();
  tlsRegistry?.kill();
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
  await rm(dir, { recursive: true, force: true });
});

async function proxy(options: Parameters<typeof startForwardProxy>[0] = {}): Promise<ForwardProxy> {
  const started = await startForwardProxy(options);
  proxies.push(started);
  return started;
}

/**
 * What the proxy carried: the named registry only, its tag list through a CONNECT tunnel. The
 * name resolves into 127.0.0.0/8, which the engine counts as insecure, so a lookup may first
 * try plain http (an absolute-URI GET, also through the proxy) before it settles on https.
 */
function expectOnlyNamedRegistry(log: readonly string[]): void {
  expect(log).toContain(`CONNECT ${named}`);
  for (const line of log) expect(line).toMatch(new RegExp(`^(CONNECT ${escape(named)}|GET http://${escape(named)}/)`));
}

function expectDryRunOf(outcome: Awaited<ReturnType<typeof runShim>>, reference: string): void {
  expect({ code: outcome.code, stderr: outcome.stderr, why: explain(outcome) }).toEqual({
    code: 0,
    stderr: '',
    why: explain(outcome),
  });
  expect(outcome.stdout).toMatch(new RegExp(`^docker run .* ${escape(reference)}\\n$`));
}

test('the tag list of a registry by name goes through HTTPS_PROXY (a CONNECT tunnel); the registry on loopback does not', async () => {
  const forward = await proxy();
  const outcome = await runCall(['--dry-run', `${named}/${SPACE}/app`], {
    ...host,
    HTTPS_PROXY: forward.url,
    HTTP_PROXY: forward.url,
  });
  // NEW is in the registry only: the tag list was read, through the proxy.
  expectDryRunOf(outcome, `${named}/${SPACE}/app:${NEW}`);
  expect(forward.log.length).toBeGreaterThanOrEqual(1);
  // Only the named registry: the tiny and mini lookups (127.0.0.1) went direct.
  expectOnlyNamedRegistry(forward.log);
});

test('lower-case https_proxy and proxy credentials: Proxy-Authorization goes to the proxy, the password is never printed', async () => {
  const forward = await proxy({ credentials: { username: 'team', password: 's3cret-pw' } });
  const proxyUrl = forward.url.replace('http://', 'http://team:s3cret-pw@');
  const outcome = await runCall(['--dry-run', `${named}/${SPACE}/app`], {
    ...host,
    https_proxy: proxyUrl,
    http_proxy: proxyUrl,
    RUN_DOCKER_DEBUG: '1',
  });
  expect({ code: outcome.code, why: explain(outcome) }).toEqual({ code: 0, why: explain(outcome) });
  expect(outcome.stdout).toMatch(new RegExp(` ${escape(`${named}/${SPACE}/app:${NEW}`)}\\n$`));
  expectOnlyNamedRegistry(forward.log);
  expect(new Set(forward.authorizations)).toEqual(
    new Set([`Basic ${Buffer.from('team:s3cret-pw').toString('base64')}`]),
  );
  // RUN_DOCKER_DEBUG says which way each registry went, with the password hidden.
  const shown = forward.url.replace('http://', 'http://team:xxxxx@');
  expect(stderrLines(outcome)).toEqual(
    expect.arrayContaining([
      expect.stringContaining(`registry requests to https://${named} go through the proxy "${shown}" (https_proxy)`),
      expect.stringContaining(`registry requests to http://${registry.address} go direct (loopback is never proxied)`),
    ]),
  );
  expect(outcome.stderr + outcome.stdout).not.toContain('s3cret-pw');
});

test('an https:// proxy: TLS to the proxy (its certificate checked), then the tunnel and TLS to the registry inside it', async () => {
  const forward = await proxy({
    tls: { cert: await readFile(join(dir, 'server.crt')), key: await readFile(join(dir, 'server.key')) },
  });
  // By the name its certificate is for; the shim trusts the test CA through NODE_EXTRA_CA_CERTS.
  const proxyUrl = forward.url.replace('127.0.0.1', HOSTNAME);
  const outcome = await runCall(['--dry-run', `${named}/${SPACE}/app`], { ...host, HTTPS_PROXY: proxyUrl });
  expectDryRunOf(outcome, `${named}/${SPACE}/app:${NEW}`);
  expectOnlyNamedRegistry(forward.log);
});

test('NO_PROXY naming the registry bypasses the proxy', async () => {
  const forward = await proxy();
  const outcome = await runCall(['--dry-run', `${named}/${SPACE}/app`], {
    ...host,
    HTTPS_PROXY: forward.url,
    NO_PROXY: `localhost,.run-docker.test`,
  });
  expectDryRunOf(outcome, `${named}/${SPACE}/app:${NEW}`);
  expect(forward.log).toEqual([]);
});

test('a registry on loopback is never proxied, whatever the settings say', async () => {
  const forward = await proxy();
  const outcome = await runCall(['--dry-run', `${registry.address}/${SPACE}/app`], {
    ...host,
    HTTPS_PROXY: forward.url,
    HTTP_PROXY: forward.url,
  });
  expectDryRunOf(outcome, `${registry.address}/${SPACE}/app:${NEW}`);
  expect(forward.log).toEqual([]);
});

test('proxies.default in ~/.docker/config.json is used when the environment sets no proxy', async () => {
  const forward = await proxy();
  const configured = await makeHost({
    ...pick(host, ['RUN_DOCKER_TINY', 'RUN_DOCKER_MINI', 'RUN_DOCKER_QUIET', 'NODE_EXTRA_CA_CERTS']),
  });
  await mkdir(join(configured.HOME, '.docker'), { recursive: true });
  await writeFile(
    join(configured.HOME, '.docker', 'config.json'),
    JSON.stringify({ proxies: { default: { httpsProxy: forward.url } } }),
  );
  const outcome = await runCall(['--dry-run', `${named}/${SPACE}/app`], configured);
  expectDryRunOf(outcome, `${named}/${SPACE}/app:${NEW}`);
  expectOnlyNamedRegistry(forward.log);
});

test('an unreachable proxy is like an unreachable registry: one warning naming the proxy (password hidden), and the local image', async () => {
  const outcome = await runCall(['--dry-run', `${named}/${SPACE}/app`], {
    ...host,
    HTTPS_PROXY: 'http://team:s3cret-pw@127.0.0.1:1',
  });
  expect({ code: outcome.code, why: explain(outcome) }).toEqual({ code: 0, why: explain(outcome) });
  expect(outcome.stdout).toMatch(new RegExp(` ${escape(`${named}/${SPACE}/app:${OLD}`)}\\n$`));
  expect(stderrLines(outcome)).toEqual([
    `run-docker: warning: cannot reach the registry "${named}" through the proxy "http://team:xxxxx@127.0.0.1:1" (ECONNREFUSED); using the images of "${named}/${SPACE}/app" on this host`,
  ]);
});

test('a proxy that accepts connections and never answers costs one deadline, and the warning names it', async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket.on('error', () => undefined)));
  const silentPort = await listen(silent);
  const silentUrl = `http://127.0.0.1:${silentPort}`;
  try {
    const started = Date.now();
    const outcome = await runCall(['--dry-run', `${named}/${SPACE}/app`], {
      ...host,
      HTTPS_PROXY: silentUrl,
      RUN_DOCKER_REGISTRY_DEADLINE_MS: '1500',
    });
    const ms = Date.now() - started;
    expect({ code: outcome.code, why: explain(outcome) }).toEqual({ code: 0, why: explain(outcome) });
    expect(outcome.stdout).toMatch(new RegExp(` ${escape(`${named}/${SPACE}/app:${OLD}`)}\\n$`));
    expect(stderrLines(outcome)).toEqual([
      `run-docker: warning: cannot reach the registry "${named}" through the proxy "${silentUrl}" (no answer within this call's 1500 ms for registry lookups); using the images of "${named}/${SPACE}/app" on this host`,
    ]);
    expect(sockets.size).toBe(1);
    // One deadline (1.5 s), plus the start-up of a loaded machine; not a 10 s request timeout.
    expect(ms).toBeLessThan(8000);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});

test('a proxy that refuses the credentials (407) is named too, and the local image runs', async () => {
  const forward = await proxy({ credentials: { username: 'team', password: 'right' } });
  const proxyUrl = forward.url.replace('http://', 'http://team:wrong@');
  const outcome = await runCall(['--dry-run', `${named}/${SPACE}/app`], { ...host, HTTPS_PROXY: proxyUrl });
  expect({ code: outcome.code, why: explain(outcome) }).toEqual({ code: 0, why: explain(outcome) });
  expect(outcome.stdout).toMatch(new RegExp(` ${escape(`${named}/${SPACE}/app:${OLD}`)}\\n$`));
  expect(stderrLines(outcome)).toEqual([
    `run-docker: warning: cannot reach the registry "${named}" through the proxy "${forward.url.replace('http://', 'http://team:xxxxx@')}" (HTTP 407 Proxy Authentication Required to CONNECT ${named}); using the images of "${named}/${SPACE}/app" on this host`,
  ]);
});

test('a proxy run-docker cannot use (socks5) is named, password hidden, and the local image runs', async () => {
  const outcome = await runCall(['--dry-run', `${named}/${SPACE}/app`], {
    ...host,
    HTTPS_PROXY: 'socks5://team:s3cret-pw@127.0.0.1:1080',
  });
  expect({ code: outcome.code, why: explain(outcome) }).toEqual({ code: 0, why: explain(outcome) });
  expect(outcome.stdout).toMatch(new RegExp(` ${escape(`${named}/${SPACE}/app:${OLD}`)}\\n$`));
  expect(stderrLines(outcome)).toEqual([
    `run-docker: warning: cannot use the proxy for the registry "${named}" (the proxy "socks5://team:xxxxx@127.0.0.1:1080" uses socks5, and run-docker supports http and https proxies); using the images of "${named}/${SPACE}/app" on this host`,
  ]);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function pick(env: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])));
}

/** Debian's docker-registry serving `storage` over TLS on 127.0.0.1:`port`; resolves once /v2/ answers by name. */
async function startTlsRegistry(into: string, storage: string, port: number): Promise<ChildProcess> {
  const config = join(into, 'tls-registry.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  secret: run-docker-test-registry',
      '  tls:',
      `    certificate: ${join(into, 'server.crt')}`,
      `    key: ${join(into, 'server.key')}`,
      '',
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const ca = await readFile(join(into, 'ca.crt'));
  for (let attempt = 0; attempt < 100; attempt++) {
    const status = await new Promise<number>((resolve) => {
      https
        .get(`https://${HOSTNAME}:${port}/v2/`, { ca, timeout: 1000 }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', () => resolve(0));
    });
    if (status === 200) return child;
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new Error(`the TLS registry did not start: ${stderr}`);
}
