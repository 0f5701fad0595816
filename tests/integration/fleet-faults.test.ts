/**
 * A fleet's bad days, on the real engine and registry: a registry behind a proxy that
 * answers 5xx, a registry or an engine that accepts connections and never answers, and a
 * pull that stalls. Each degrades to the newest local image with one warning, or (pinned,
 * or the engine itself) to one line and exit 125, within a bounded time.
 */
import { execFileSync } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listen } from '../helpers/listen';
import { buildBusyboxImage, docker, dockerBuild, pushImage, removeImages } from '../helpers/fixtures';
import { listOwnContainers } from '../helpers/own-containers';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import {
  expectOneLineFailure,
  explain,
  makeHost,
  PACKAGE_VERSION,
  publish,
  removeHosts,
  runShim,
  startShim,
  stderrLines,
  type Outcome,
} from '../helpers/shim';

jest.setTimeout(120_000);

const GOOD_MINI = '20260101-000000';
const OLD = '20260101-000000';
const NEW = '20260201-000000';
let registry: TestRegistry;
/** `fleet-<pid>`: the path prefix every repository of this file shares. */
let space: string;
let host: Record<string, string>;
const images: string[] = [];
const closers: Array<() => unknown> = [];

beforeAll(async () => {
  registry = await startRegistry();
  space = `fleet-${process.pid}`;
  const prefix = `${registry.address}/${space}`;
  const tiny = await publish('tiny', `${prefix}/tiny`);
  await publish('mini', `${prefix}/mini`, ['--version', GOOD_MINI]);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`, `${prefix}/mini:${GOOD_MINI}`);
  host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${prefix}/mini`, RUN_DOCKER_QUIET: '1' });
  // The project: OLD on this host and in the registry; NEW (with a layer of its own) only in the registry.
  await buildBusyboxImage(`${prefix}/app:${OLD}`);
  await pushImage(`${prefix}/app:${OLD}`);
  const context = await mkdtemp(join(tmpdir(), 'run-docker-fleet-app-'));
  execFileSync('head', ['-c', String(4 * 1024 * 1024), '/dev/urandom'], {
    stdio: ['ignore', openSync(join(context, 'padding'), 'w'), 'inherit'],
  });
  await writeFile(
    join(context, 'Dockerfile'),
    `FROM ${prefix}/app:${OLD}\nCOPY padding /padding\nLABEL org.run-docker.test=1\n`,
  );
  expect((await dockerBuild(['-q', '-t', `${prefix}/app:${NEW}`, context])).code).toBe(0);
  await rm(context, { recursive: true, force: true });
  await pushImage(`${prefix}/app:${NEW}`);
  images.push(`${prefix}/app:${OLD}`, `${prefix}/app:${NEW}`);
  await removeImages([`${prefix}/app:${NEW}`]);
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
});

/** Tags an image already on this host under the name a proxy at `address` gives it, for the test's cleanup to remove. */
async function tagVia(address: string, repository: 'mini' | 'app', tag: string): Promise<string> {
  const name = `${address}/${space}/${repository}:${tag}`;
  expect((await docker(['tag', `${registry.address}/${space}/${repository}:${tag}`, name])).code).toBe(0);
  images.push(name);
  return name;
}

async function listenOnLoopback(server: Server | http.Server): Promise<string> {
  return `127.0.0.1:${await listen(server)}`;
}

/** A TCP listener that accepts every connection and never sends a byte: a hung registry or engine. */
async function startSilentListener(): Promise<{ address: string; connections: () => number }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createNetServer((socket) => {
    count += 1;
    sockets.add(socket.on('error', () => undefined));
  });
  const address = await listenOnLoopback(server);
  closers.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return { address, connections: () => count };
}

type ProxyMode =
  /** Tag lists answer a reverse proxy's HTML maintenance page with HTTP 503; the rest passes. */
  | { kind: 'maintenance' }
  /** Tag lists answer an HTML sign-in page with HTTP 200, as a captive portal does; the rest passes. */
  | { kind: 'portal' }
  /** Tag lists pass; manifests answer 429, as a registry past its pull limit does. */
  | { kind: 'rate-limit-pulls' }
  /** Everything passes, but a blob download stops sending after `afterBytes`, connection left open. */
  | { kind: 'stall-blobs'; afterBytes: number };

/** An HTTP proxy on 127.0.0.1 in front of the real registry. */
async function startRegistryProxy(mode: ProxyMode): Promise<{ address: string; stalled: () => boolean }> {
  const upstreamPort = Number(registry.address.split(':')[1]);
  const open = new Set<http.ServerResponse>();
  let stalled = false;
  const server = http.createServer((req, res) => {
    if (mode.kind === 'maintenance' && /^\/v2\/.+\/tags\/list/.test(req.url ?? '')) {
      res.writeHead(503, { 'Content-Type': 'text/html' });
      res.end(
        '<html><head><title>503 Service Temporarily Unavailable</title></head><body><h1>Down for maintenance</h1></body></html>',
      );
      return;
    }
    if (mode.kind === 'portal' && /^\/v2\/.+\/tags\/list/.test(req.url ?? '')) {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html><head><title>Guest network</title></head><body><h1>Sign in to continue</h1></body></html>');
      return;
    }
    if (mode.kind === 'rate-limit-pulls' && /^\/v2\/.+\/manifests\//.test(req.url ?? '')) {
      res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '3600' });
      res.end(
        JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'You have reached your pull rate limit.' }] }),
      );
      return;
    }
    const upstream = http.request(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        const isBlob =
          mode.kind === 'stall-blobs' && /^\/v2\/.+\/blobs\/sha256:/.test(req.url ?? '') && req.method === 'GET';
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          if (isBlob && mode.kind === 'stall-blobs' && sent + chunk.length > mode.afterBytes) {
            // Keep the connection, send nothing more: a registry (or its disk) that hangs mid-blob.
            stalled = true;
            answer.pause();
            open.add(res);
            return;
          }
          sent += chunk.length;
          res.write(chunk);
        });
        answer.on('end', () => res.end());
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const address = await listenOnLoopback(server);
  closers.push(() => {
    for (const res of open) res.destroy();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { address, stalled: () => stalled };
}

/** The project's image on this host ran `echo local copy` and exited 0 (the output explains a failure). */
function expectLocalCopyRan(outcome: Outcome): void {
  expect({ code: outcome.code, stdout: outcome.stdout, why: explain(outcome) }).toEqual({
    code: 0,
    stdout: 'local copy\n',
    why: explain(outcome),
  });
}

async function timed(run: () => Promise<Outcome>): Promise<Outcome & { ms: number }> {
  const started = Date.now();
  const outcome = await run();
  return { ...outcome, ms: Date.now() - started };
}

/** Runs the shim, killing it after `killAfterMs` (so a hang fails the test instead of stalling it). */
async function runShimBounded(args: string[], env: Record<string, string>, killAfterMs: number): Promise<Outcome> {
  const { child, done } = startShim(args, env);
  child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
  }
}

describe('a registry behind a proxy that answers 503 with a maintenance page', () => {
  test('--version runs the newest local mini with one warning', async () => {
    const proxy = await startRegistryProxy({ kind: 'maintenance' });
    await tagVia(proxy.address, 'mini', GOOD_MINI);
    const outcome = await runShim(['--version'], { ...host, RUN_DOCKER_MINI: `${proxy.address}/${space}/mini` });
    expect({ code: outcome.code, why: explain(outcome) }).toEqual({ code: 0, why: explain(outcome) });
    expect(outcome.stdout).toContain(`mini ${proxy.address}/${space}/mini:${GOOD_MINI}`);
    expect(stderrLines(outcome)).toEqual([
      `run-docker: warning: the registry "${proxy.address}" is failing (HTTP 503 Service Unavailable); using the images of "${proxy.address}/${space}/mini" on this host`,
    ]);
  });

  test('a project image not pinned: its newest local tag runs, with one warning', async () => {
    const proxy = await startRegistryProxy({ kind: 'maintenance' });
    await tagVia(proxy.address, 'app', OLD);
    const outcome = await runShim([`${proxy.address}/${space}/app`, 'echo', 'local copy'], host);
    expectLocalCopyRan(outcome);
    expect(stderrLines(outcome)).toEqual([
      `run-docker: warning: the registry "${proxy.address}" is failing (HTTP 503 Service Unavailable); using the images of "${proxy.address}/${space}/app" on this host`,
    ]);
  });
});

describe('a registry whose tag lists are an HTML page sent with 200 (a captive portal)', () => {
  test('--version runs the newest local mini with one warning, not the built-in payload', async () => {
    const proxy = await startRegistryProxy({ kind: 'portal' });
    await tagVia(proxy.address, 'mini', GOOD_MINI);
    const mini = `${proxy.address}/${space}/mini`;
    const outcome = await runShim(['--version'], { ...host, RUN_DOCKER_MINI: mini });
    expect({ code: outcome.code, why: explain(outcome) }).toEqual({ code: 0, why: explain(outcome) });
    expect(outcome.stdout).toContain(`mini ${mini}:${GOOD_MINI}`);
    expect(stderrLines(outcome)).toEqual([
      `run-docker: warning: the registry "${proxy.address}" sent a malformed tag list for "${mini}" (text/html, not JSON); using the images of "${mini}" on this host`,
    ]);
  });

  test('a project image not pinned: its newest local tag runs, with one warning', async () => {
    const proxy = await startRegistryProxy({ kind: 'portal' });
    await tagVia(proxy.address, 'app', OLD);
    const app = `${proxy.address}/${space}/app`;
    const outcome = await runShim([app, 'echo', 'local copy'], host);
    expectLocalCopyRan(outcome);
    expect(stderrLines(outcome)).toEqual([
      `run-docker: warning: the registry "${proxy.address}" sent a malformed tag list for "${app}" (text/html, not JSON); using the images of "${app}" on this host`,
    ]);
  });
});

test('a registry that accepts connections and never answers costs one deadline per call, not a timeout per repository', async () => {
  const hung = await startSilentListener();
  await tagVia(hung.address, 'mini', GOOD_MINI);
  await tagVia(hung.address, 'app', OLD);
  const env = { ...host, RUN_DOCKER_MINI: `${hung.address}/${space}/mini` };
  const outcome = await timed(() =>
    runShimBounded([`${hung.address}/${space}/app`, 'echo', 'local copy'], env, 60_000),
  );
  expectLocalCopyRan(outcome);
  const lines = stderrLines(outcome);
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(
    new RegExp(
      `^run-docker: warning: cannot reach the registry "${hung.address}" \\(no answer within this call's 5000 ms for registry lookups\\); using the images of "${hung.address}/${space}/mini" on this host$`,
    ),
  );
  // The project's lookup (the mini payload's own copy of the locator) finds the budget spent, and asks nothing.
  expect(lines[1]).toBe(
    `run-docker: warning: cannot reach the registry "${hung.address}" (the 5000 ms for registry lookups in this call are used up); using the images of "${hung.address}/${space}/app" on this host`,
  );
  expect(hung.connections()).toBe(1);
  // The default deadline for all registry lookups of one call is 5 s; a generous bound.
  expect(outcome.ms).toBeLessThan(10_000);
});

test('an engine endpoint that accepts and never answers: one line naming it, exit 125, within the engine timeout', async () => {
  const hung = await startSilentListener();
  const outcome = await timed(() =>
    runShimBounded(
      ['--version'],
      { ...host, DOCKER_HOST: `tcp://${hung.address}`, RUN_DOCKER_ENGINE_TIMEOUT_MS: '2000' },
      30_000,
    ),
  );
  const line = expectOneLineFailure(outcome);
  expect(line).toMatch(
    new RegExp(
      `^run-docker: the Docker engine at "tcp://${hung.address}" set by DOCKER_HOST did not answer within 2 s \\(GET /`,
    ),
  );
  expect(outcome.ms).toBeLessThan(6_000);
});

test('an engine that answers HTTP 500: one line with its words, its address and the call, exit 125', async () => {
  const failing = http.createServer((_req, res) => {
    res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end('{"message":"error reading the image store: input/output error"}\n');
  });
  const address = await listenOnLoopback(failing);
  closers.push(() => new Promise((resolve) => failing.close(resolve)));
  const outcome = await runShimBounded(['--version'], { ...host, DOCKER_HOST: `tcp://${address}` }, 30_000);
  const line = expectOneLineFailure(outcome);
  expect(line).toMatch(
    new RegExp(
      `^run-docker: the Docker engine at "tcp://${address}" set by DOCKER_HOST failed \\(HTTP 500 to GET /images/[^)]+\\): error reading the image store: input/output error\\. The engine says why`,
    ),
  );
  expect(line).not.toContain('unexpected error');
});

describe('a project pull that stalls', () => {
  afterEach(async () => {
    expect(await listOwnContainers()).toEqual([]);
  });

  test('not pinned: cancelled after the stall bound; the newest local tag runs, with one warning', async () => {
    const proxy = await startRegistryProxy({ kind: 'stall-blobs', afterBytes: 256 * 1024 });
    await tagVia(proxy.address, 'app', OLD);
    const repository = `${proxy.address}/${space}/app`;
    images.push(`${repository}:${NEW}`);
    const outcome = await timed(() =>
      runShimBounded([repository, 'echo', 'local copy'], { ...host, RUN_DOCKER_PULL_STALL_MS: '3000' }, 90_000),
    );
    expect(proxy.stalled()).toBe(true);
    expectLocalCopyRan(outcome);
    expect(stderrLines(outcome)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^run-docker: warning: the pull of "${repository}:${NEW}" made no progress for 3 s and was cancelled; running "${repository}:${OLD}", the newest on this host$`,
        ),
      ),
    ]);
    expect((await docker(['image', 'inspect', `${repository}:${NEW}`])).code).not.toBe(0);
    expect(outcome.ms).toBeLessThan(30_000);
  });

  test('pinned: one line and exit 125, nothing else runs', async () => {
    const proxy = await startRegistryProxy({ kind: 'stall-blobs', afterBytes: 256 * 1024 });
    await tagVia(proxy.address, 'app', OLD);
    const pinned = `${proxy.address}/${space}/app:${NEW}`;
    images.push(pinned);
    const outcome = await runShimBounded(
      [pinned, 'echo', 'must not run'],
      { ...host, RUN_DOCKER_PULL_STALL_MS: '3000' },
      90_000,
    );
    expect(proxy.stalled()).toBe(true);
    expect(outcome.stdout).toBe('');
    expect(expectOneLineFailure(outcome)).toMatch(
      new RegExp(
        `^run-docker: the pull of "${pinned}" made no progress for 3 s and was cancelled\\. .*RUN_DOCKER_PULL_STALL_MS`,
      ),
    );
    expect((await docker(['image', 'inspect', pinned])).code).not.toBe(0);
  });
});

test('a project pull refused by rate limiting, not pinned: the newest local tag runs, with one warning', async () => {
  const proxy = await startRegistryProxy({ kind: 'rate-limit-pulls' });
  await tagVia(proxy.address, 'app', OLD);
  const repository = `${proxy.address}/${space}/app`;
  images.push(`${repository}:${NEW}`);
  const outcome = await runShim([repository, 'echo', 'local copy'], host);
  expectLocalCopyRan(outcome);
  expect(stderrLines(outcome)).toEqual([
    expect.stringMatching(
      new RegExp(
        `^run-docker: warning: the registry is rate limiting this host and refused to pull "${repository}:${NEW}" \\(.*toomanyrequests.*\\); running "${repository}:${OLD}", the newest on this host$`,
      ),
    ),
  ]);
});
