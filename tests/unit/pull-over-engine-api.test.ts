/**
 * Pulls over the light client (common/engine/pull-over-engine-api.ts) against an engine
 * stand-in on a unix socket: the request dockerd gets, every JSON line handed on in order
 * (an error line inside an HTTP 200 stream too), a refusal with the engine's words, and a
 * cancel that ends the request before any answer. Real pulls: tests/integration (pull-progress,
 * faults, fleet-faults).
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { PullEvent } from '../../contract/engine-client';
import { createEngineRequest } from '../../common/engine/light-engine-client';
import { encodeRegistryAuth, pullOverEngineApi, splitJsonLines } from '../../common/engine/pull-over-engine-api';
import { pullImage } from '../../common/pull-image';
import { createLightEngineClient } from '../../common/engine/light-engine-client';

describe('encodeRegistryAuth', () => {
  it('is the login as JSON in base64url, as the docker CLI sends X-Registry-Auth', () => {
    const auth = { username: 'ann', password: '>>>???', serveraddress: 'registry.test' };
    const encoded = encodeRegistryAuth(auth);
    expect(encoded).not.toMatch(/[+/]/);
    expect(JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'))).toEqual(auth);
  });
});

describe('splitJsonLines', () => {
  it('splits complete lines (LF or CRLF), drops blank ones and keeps the unfinished rest', () => {
    expect(splitJsonLines('{"a"', ':1}\r\n\n{"b":2}\n{"c"')).toEqual({ lines: ['{"a":1}', '{"b":2}'], rest: '{"c"' });
    expect(splitJsonLines('', '')).toEqual({ lines: [], rest: '' });
  });
});

describe('pullOverEngineApi', () => {
  let dir: string;
  let server: http.Server;
  const seen: Array<{ url: string; auth: string | undefined }> = [];
  /** What the stand-in does for a pull of `fromImage`. */
  const answers: Record<string, (res: http.ServerResponse) => void> = {
    'team/app': (res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // Split across chunks, as a stream arrives.
      res.write('{"status":"Pulling from team/app","id":"1.0"}\r\n{"status":"Downlo');
      setTimeout(() => {
        res.write('ading","id":"abc","progressDetail":{"current":5,"total":10}}\n');
        res.end('{"status":"Digest: sha256:00"}\n');
      }, 20);
    },
    'team/broken': (res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":"Pulling"}\n{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n');
    },
    'team/refused': (res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"message":"pull access denied for team/refused"}');
    },
    'team/silent': () => undefined,
  };
  const socketPath = () => path.join(dir, 'engine.sock');

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'run-docker-pull-'));
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://engine');
      seen.push({ url: `${req.method} ${req.url}`, auth: req.headers['x-registry-auth'] as string | undefined });
      answers[url.searchParams.get('fromImage') ?? '']?.(res);
    });
    await new Promise<void>((resolve) => server.listen(socketPath(), resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('asks POST /images/create with the login, and hands on every line in order', async () => {
    const events: PullEvent[] = [];
    const auth = { username: 'ann', password: 'pw', serveraddress: 'registry.test' };
    await pullOverEngineApi(createEngineRequest({ socketPath: socketPath() }), 'team/app', '1.0', {
      auth,
      onEvent: (event) => events.push(event),
    });
    expect(seen.at(-1)).toEqual({
      url: 'POST /images/create?fromImage=team%2Fapp&tag=1.0',
      auth: encodeRegistryAuth(auth),
    });
    expect(events).toEqual([
      { status: 'Pulling from team/app', id: '1.0' },
      { status: 'Downloading', id: 'abc', progressDetail: { current: 5, total: 10 } },
      { status: 'Digest: sha256:00' },
    ]);
  });

  it('hands on an error line inside a 200 stream (pull-image.ts makes it the failure), and fails with the words of a refusal', async () => {
    const request = createEngineRequest({ socketPath: socketPath() });
    const events: PullEvent[] = [];
    await pullOverEngineApi(request, 'team/broken', '1.0', { onEvent: (event) => events.push(event) });
    expect(events.at(-1)).toEqual({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' });
    expect(seen.at(-1)?.auth).toBeUndefined();

    const engine = createLightEngineClient(request, (repository, tag, options) =>
      pullOverEngineApi(request, repository, tag, options),
    );
    await expect(pullImage(engine, { registry: 'docker.io', path: 'team/broken', tag: '1.0' })).rejects.toThrow(
      'the image "team/broken:1.0" is not in its registry (manifest unknown)',
    );
    await expect(pullImage(engine, { registry: 'docker.io', path: 'team/refused', tag: '1.0' })).rejects.toThrow(
      /refused to let this host pull "team\/refused:1\.0" \(pull access denied for team\/refused\)/,
    );
  });

  it('is cancelled by its signal before the engine answers anything, and the engine sees the request end', async () => {
    const abort = new AbortController();
    // Cancelled once the engine has the request (and has answered nothing).
    const closed = new Promise<void>((resolve) =>
      server.once('request', (req: http.IncomingMessage) => {
        req.socket.once('close', resolve);
        abort.abort();
      }),
    );
    const pulling = pullOverEngineApi(createEngineRequest({ socketPath: socketPath() }), 'team/silent', '1.0', {
      signal: abort.signal,
      onEvent: () => undefined,
    });
    await expect(pulling).rejects.toMatchObject({ code: 'ABORT_ERR' });
    await closed;
  });
});
