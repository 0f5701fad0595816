import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  createEngineRequest,
  createLightEngineClient,
  ENGINE_TIMEOUT_CODE,
  formatQuery,
  selectTagsOfRepository,
  type EngineCall,
} from '../../common/engine/light-engine-client';
import { ANSWER_TOO_LARGE_CODE, ENGINE_ANSWER_LIMIT_BYTES } from '../../common/engine/socket-get';

describe('formatQuery', () => {
  it('writes filters as JSON, like dockerode, and leaves out undefined values', () => {
    expect(formatQuery({ all: true, filters: { reference: ['127.0.0.1:5000/team/app'] }, name: undefined })).toBe(
      '?all=true&filters=%7B%22reference%22%3A%5B%22127.0.0.1%3A5000%2Fteam%2Fapp%22%5D%7D',
    );
    expect(formatQuery()).toBe('');
  });
});

describe('createLightEngineClient', () => {
  it('answers every call but a pull over its request function, and hands pulls on', async () => {
    const calls: EngineCall[] = [];
    const pulls: string[] = [];
    const engine = createLightEngineClient(
      async (call) => {
        calls.push(call);
        if (call.path === '/images/json') return [{ RepoTags: ['x:1', 'x:2', 'y:1'] }];
        if (call.path === '/containers/json?all=true&filters=%7B%22label%22%3A%5B%22l%22%5D%7D')
          return [{ Id: 'c0', Labels: { l: 'h:1' } }];
        if (call.path === '/images/x:1/json')
          return { Id: 'sha256:1', Config: { Labels: { a: 'b' } }, Size: 42, RepoDigests: ['x@sha256:d1'] };
        return call.method === 'POST' ? { Id: 'c1' } : {};
      },
      async (repository, tag) => {
        pulls.push(`${repository}:${tag}`);
      },
    );
    expect((await engine.listImageTags('x')).sort()).toEqual(['1', '2']);
    expect(await engine.inspectImage('x:1')).toEqual({
      id: 'sha256:1',
      labels: { a: 'b' },
      size: 42,
      repoDigests: ['x@sha256:d1'],
    });
    await engine.exportImage('sha256:1');
    expect(await engine.createContainer({ image: 'sha256:1', command: ['/never'], labels: { l: 'h:1' } })).toBe('c1');
    await engine.copyFromContainer('c1', '/etc/passwd');
    await engine.removeContainer('c1');
    expect(await engine.listContainers('l')).toEqual([{ id: 'c0', labels: { l: 'h:1' } }]);
    await engine.readInfo();
    await engine.pullImage('x', '3', { onEvent: () => {} });
    expect(pulls).toEqual(['x:3']);
    await engine.listImageTags('x');
    expect(calls).toEqual([
      { method: 'GET', path: '/images/json' }, // asked for at once, for the tag lookups
      { method: 'GET', path: '/images/x:1/json' },
      { method: 'GET', path: '/images/sha256:1/get', stream: true },
      {
        method: 'POST',
        path: '/containers/create',
        body: { Image: 'sha256:1', Cmd: ['/never'], Labels: { l: 'h:1' }, NetworkDisabled: true },
      },
      { method: 'GET', path: '/containers/c1/archive?path=%2Fetc%2Fpasswd', stream: true },
      { method: 'DELETE', path: '/containers/c1?force=true' },
      { method: 'GET', path: `/containers/json${formatQuery({ all: true, filters: { label: ['l'] } })}` },
      { method: 'GET', path: '/info' }, // the registry settings, without loading dockerode
      { method: 'GET', path: '/images/json' }, // after the pull, the list is asked for again
    ]);
  });

  it('says undefined for an image the engine does not have, and fails on anything else', async () => {
    const engine = createLightEngineClient(
      async (call) => {
        if (call.path === '/images/absent/json')
          throw Object.assign(new Error('(HTTP code 404) unexpected - No such image: absent '), { statusCode: 404 });
        if (call.path === '/images/broken/json')
          throw Object.assign(new Error('(HTTP code 500) unexpected - boom '), { statusCode: 500 });
        return [];
      },
      async () => {},
    );
    expect(await engine.inspectImage('absent')).toBeUndefined();
    await expect(engine.inspectImage('broken')).rejects.toMatchObject({ statusCode: 500 });
  });

  it('answers inspects of the images the list names, by exactly that name, and asks the engine for the rest', async () => {
    const asked: string[] = [];
    const listed = [
      { Id: 'sha256:tiny', RepoTags: [], RepoDigests: ['r:5000/tiny@sha256:d1'], Labels: { kind: 'tiny' }, Size: 7 },
      { Id: 'sha256:app', RepoTags: ['r:5000/app:1.0.0', 'r:5000/app:latest'], RepoDigests: [], Labels: null, Size: 9 },
    ];
    const engine = createLightEngineClient(
      async (call) => {
        asked.push(call.path);
        if (call.path === '/images/json') return listed;
        if (call.path === '/images/sha256:app/json')
          return { Id: 'sha256:app', Config: { Labels: { from: 'inspect' } }, Size: 9 };
        throw Object.assign(new Error('(HTTP code 404) unexpected - No such image'), { statusCode: 404 });
      },
      async () => {},
    );
    expect(await engine.inspectImage('r:5000/tiny@sha256:d1')).toEqual({
      id: 'sha256:tiny',
      labels: { kind: 'tiny' },
      size: 7,
      repoDigests: ['r:5000/tiny@sha256:d1'],
    });
    expect(await engine.inspectImage('r:5000/app:latest')).toEqual({
      id: 'sha256:app',
      labels: {},
      size: 9,
      repoDigests: [],
    });
    expect(asked).toEqual(['/images/json']);
    // A tag is never taken for a digest or the other way round, and other names go to the engine.
    expect(await engine.inspectImage('r:5000/tiny@sha256:d2')).toBeUndefined();
    expect(await engine.inspectImage('r:5000/app:2.0.0')).toBeUndefined();
    expect(await engine.inspectImage('sha256:app')).toEqual({
      id: 'sha256:app',
      labels: { from: 'inspect' },
      size: 9,
      repoDigests: [],
    });
    expect(asked).toEqual([
      '/images/json',
      '/images/r:5000/tiny@sha256:d2/json',
      '/images/r:5000/app:2.0.0/json',
      '/images/sha256:app/json',
    ]);
  });

  it('inspects as before when the list cannot be had', async () => {
    const engine = createLightEngineClient(
      async (call) => {
        if (call.path === '/images/json')
          throw Object.assign(new Error('(HTTP code 500) unexpected - boom'), { statusCode: 500 });
        return { Id: 'sha256:x', Config: { Labels: { a: 'b' } }, Size: 1 };
      },
      async () => {},
    );
    expect(await engine.inspectImage('x:1')).toEqual({ id: 'sha256:x', labels: { a: 'b' }, size: 1, repoDigests: [] });
  });
});

describe('image lists by repository', () => {
  const images = [
    { Id: 'a', RepoTags: ['127.0.0.1:5000/team/app:1.0.0', 'other:2', '127.0.0.1:5000/team/app:1.0.0'] },
    { Id: 'b', RepoTags: ['127.0.0.1:5000/team/app-main:1.0.0'] },
    { Id: 'c', RepoTags: ['<none>:<none>'] },
    { Id: 'd', RepoTags: null },
    { Id: 'e', RepoTags: ['team/app:latest', '127.0.0.1:5000/team/app:2.0.0'] },
  ];

  it('finds the tags of exactly the repository named, once each, with a registry port in the name', () => {
    expect(selectTagsOfRepository(images, '127.0.0.1:5000/team/app').sort()).toEqual(['1.0.0', '2.0.0']);
    expect(selectTagsOfRepository(images, 'team/app')).toEqual(['latest']);
    expect(selectTagsOfRepository(images, 'other')).toEqual(['2']);
    expect(selectTagsOfRepository(images, '127.0.0.1')).toEqual([]);
    expect(selectTagsOfRepository(images, 'nothing')).toEqual([]);
  });

  it('lists once for any number of repositories, and again after a pull', async () => {
    let lists = 0;
    const engine = createLightEngineClient(
      async (call) => {
        if (call.path === '/images/json') lists += 1;
        return lists === 1 ? images : [...images, { Id: 'f', RepoTags: ['127.0.0.1:5000/team/app:3.0.0'] }];
      },
      async () => {},
    );
    expect((await engine.listImageTags('127.0.0.1:5000/team/app')).sort()).toEqual(['1.0.0', '2.0.0']);
    expect(await engine.listImageTags('127.0.0.1:5000/team/app-main')).toEqual(['1.0.0']);
    expect(lists).toBe(1);
    await engine.pullImage('127.0.0.1:5000/team/app', '3.0.0', { onEvent: () => {} });
    expect((await engine.listImageTags('127.0.0.1:5000/team/app')).sort()).toEqual(['1.0.0', '2.0.0', '3.0.0']);
    expect(lists).toBe(2);
  });

  it('asks again after a failed list', async () => {
    let attempt = 0;
    const engine = createLightEngineClient(
      async () => {
        attempt += 1;
        if (attempt === 1) throw Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' });
        return images;
      },
      async () => {},
    );
    await expect(engine.listImageTags('team/app')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await engine.listImageTags('team/app')).toEqual(['latest']);
  });
});

describe('createEngineRequest', () => {
  let dir: string;
  let server: http.Server;
  const bodies: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'run-docker-engine-request-'));
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.headers['content-type'] ?? ''} ${body}`);
        if (req.url === '/images/present/json') {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end('{"Id":"sha256:abc"}');
        } else if (req.url === '/containers/create') {
          res.writeHead(201, { 'Content-Type': 'application/json' });
          res.end('{"Id":"c1"}');
        } else if (req.url === '/stream') {
          res.writeHead(200);
          res.end('raw bytes');
        } else {
          res.writeHead(404, { 'Content-Type': 'application/json' });
          res.end('{"message":"No such image: absent"}');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'engine.sock'), resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('speaks JSON over a unix socket, streams when asked, and fails like docker-modem on a non-2xx answer', async () => {
    const request = createEngineRequest({ socketPath: path.join(dir, 'engine.sock') });
    expect(await request({ method: 'GET', path: '/images/present/json' })).toEqual({ Id: 'sha256:abc' });
    expect(await request({ method: 'POST', path: '/containers/create', body: { Image: 'x' } })).toEqual({ Id: 'c1' });
    expect(bodies).toContain('POST application/json {"Image":"x"}');
    const stream = (await request({ method: 'GET', path: '/stream', stream: true })) as NodeJS.ReadableStream;
    let text = '';
    for await (const chunk of stream) text += String(chunk);
    expect(text).toBe('raw bytes');
    await expect(request({ method: 'GET', path: '/images/absent/json' })).rejects.toMatchObject({
      statusCode: 404,
      json: { message: 'No such image: absent' },
      message: '(HTTP code 404) unexpected - No such image: absent ',
    });
  });

  it('passes connection failures through with their code', async () => {
    const request = createEngineRequest({ socketPath: path.join(dir, 'nothing.sock') });
    await expect(request({ method: 'GET', path: '/_ping' })).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'connect',
    });
  });

  it('gives up on an engine that accepts and never answers, naming the call, within its timeout', async () => {
    const silent = net.createServer((socket) => socket.on('error', () => undefined));
    const socketPath = path.join(dir, 'silent.sock');
    await new Promise<void>((resolve) => silent.listen(socketPath, resolve));
    try {
      const request = createEngineRequest({ socketPath }, 300);
      const started = Date.now();
      await expect(request({ method: 'GET', path: '/images/json?filters=%7B%7D' })).rejects.toMatchObject({
        code: ENGINE_TIMEOUT_CODE,
        timeoutMs: 300,
        call: 'GET /images/json',
      });
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      silent.close();
    }
  });

  it('stops reading an answer without end at its bound, over node:http as over the plain GET, and names the call', async () => {
    const endless = http.createServer((req, res) => {
      res.on('error', () => undefined);
      // A refusal (its words are read whole too) or a JSON answer, without end.
      res.writeHead(req.method === 'DELETE' ? 500 : 200, { 'Content-Type': 'application/json' });
      const block = Buffer.alloc(64 * 1024, ' ');
      const pump = () => {
        while (!res.destroyed && res.write(block));
      };
      res.on('drain', pump);
      pump();
    });
    const socketPath = path.join(dir, 'endless.sock');
    await new Promise<void>((resolve) => endless.listen(socketPath, resolve));
    try {
      const request = createEngineRequest({ socketPath }, 5000, 2 * 1024 * 1024);
      for (const call of [
        { method: 'POST', path: '/containers/create', body: {} },
        { method: 'DELETE', path: '/containers/c1?force=true' },
        { method: 'GET', path: '/images/json' },
      ] as const) {
        await expect(request(call)).rejects.toMatchObject({
          code: ANSWER_TOO_LARGE_CODE,
          limitBytes: 2 * 1024 * 1024,
          call: `${call.method} ${call.path.split('?')[0]}`,
        });
      }
      // The default bound, on the path a warm call takes (a GET over the socket).
      await expect(createEngineRequest({ socketPath })({ method: 'GET', path: '/info' })).rejects.toMatchObject({
        code: ANSWER_TOO_LARGE_CODE,
        limitBytes: ENGINE_ANSWER_LIMIT_BYTES,
      });
    } finally {
      endless.closeAllConnections();
      endless.close();
    }
  });

  it('fails a stream that stops in the middle, where it is read', async () => {
    const stalling = http.createServer((_req, res) => {
      res.writeHead(200);
      res.write('first bytes'); // then nothing, connection left open
    });
    const socketPath = path.join(dir, 'stalling.sock');
    await new Promise<void>((resolve) => stalling.listen(socketPath, resolve));
    try {
      const request = createEngineRequest({ socketPath }, 300);
      const stream = (await request({ method: 'GET', path: '/images/x/get', stream: true })) as NodeJS.ReadableStream;
      let text = '';
      const read = (async () => {
        for await (const chunk of stream) text += String(chunk);
      })();
      await expect(read).rejects.toMatchObject({ code: ENGINE_TIMEOUT_CODE, call: 'GET /images/x/get' });
      expect(text).toBe('first bytes');
    } finally {
      stalling.closeAllConnections();
      stalling.close();
    }
  });
});

describe('createLightEngineClient with an image index', () => {
  const MARK_LINE =
    '{"Type":"container","Action":"destroy","Actor":{"ID":"c1"},"time":1796647718,"timeNano":1796647718000000001}';
  const TAG_LINE =
    '{"Type":"image","Action":"tag","Actor":{"ID":"sha256:9"},"time":1796647719,"timeNano":1796647719000000000}';
  const held = {
    mark: { timeNano: '1796647718000000001', line: MARK_LINE },
    repositories: {
      'r/app': [{ Id: 'sha256:1', RepoTags: ['r/app:1.0.0'], RepoDigests: [], Labels: { a: 'b' }, Size: 5 }],
    },
  };
  const list = [
    { Id: 'sha256:1', RepoTags: ['r/app:1.0.0'], RepoDigests: [], Labels: { a: 'b' }, Size: 5 },
    { Id: 'sha256:9', RepoTags: ['r/app:2.0.0'], RepoDigests: [], Labels: {}, Size: 9 },
    { Id: 'sha256:7', RepoTags: ['r/mini:1'], RepoDigests: [], Labels: {}, Size: 1 },
  ];

  /** A client over an engine whose events since the mark are `events`, and the store's saves. */
  function clientWith(index: typeof held | undefined, events: string[]) {
    const calls: string[] = [];
    const saved: unknown[] = [];
    const seen = { server: 'Docker/20.10.24+dfsg1 (linux)' };
    const engine = createLightEngineClient(
      async (call) => {
        calls.push(call.path.replace(/until=[\d.]+/, 'until=NOW'));
        if (call.path.startsWith('/events')) return events.join('\n');
        if (call.path === '/images/json') return list;
        throw Object.assign(new Error('(HTTP code 404) unexpected - No such image'), { statusCode: 404 });
      },
      async () => {},
      seen,
      { load: async () => index, save: (value) => saved.push(value), forget: () => saved.push('forget') },
    );
    return { engine, calls, saved };
  }

  it('answers from the index, without a list, while the engine says no image changed', async () => {
    const { engine, calls, saved } = clientWith(held, [MARK_LINE]);
    expect(await engine.listImageTags('r/app')).toEqual(['1.0.0']);
    expect(await engine.inspectImage('r/app:1.0.0')).toEqual({
      id: 'sha256:1',
      labels: { a: 'b' },
      size: 5,
      repoDigests: [],
    });
    expect(calls).toEqual(['/events?since=1796647718.000000001&until=NOW']);
    expect(saved).toEqual([]);
  });

  it('asks the engine itself for a name the index does not carry', async () => {
    const { engine, calls } = clientWith(held, [MARK_LINE]);
    expect(await engine.inspectImage('r/app:3.0.0')).toBeUndefined();
    expect(calls).toEqual(['/events?since=1796647718.000000001&until=NOW', '/images/r/app:3.0.0/json']);
  });

  it('lists every image after an image changed, and writes the index again with the newest event as its mark', async () => {
    const { engine, calls, saved } = clientWith(held, [MARK_LINE, TAG_LINE]);
    expect((await engine.listImageTags('r/app')).sort()).toEqual(['1.0.0', '2.0.0']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(['/events?since=1796647718.000000001&until=NOW', '/images/json']);
    expect(saved).toEqual([
      {
        mark: { timeNano: '1796647719000000000', line: TAG_LINE },
        repositories: { 'r/app': [list[0], list[1]] },
      },
    ]);
  });

  it('lists for a repository the index does not hold yet, and adds it', async () => {
    const { engine, calls, saved } = clientWith(held, [MARK_LINE]);
    expect(await engine.listImageTags('r/mini')).toEqual(['1']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(['/events?since=1796647718.000000001&until=NOW', '/images/json']);
    expect(Object.keys((saved[0] as typeof held).repositories)).toEqual(['r/mini', 'r/app']);
  });

  it('asks no events without an index (a new host), lists at once, and writes one without a mark', async () => {
    const { engine, calls, saved } = clientWith(undefined, []);
    expect(await engine.listImageTags('r/app')).toHaveLength(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(['/images/json']);
    expect(saved).toEqual([{ mark: undefined, repositories: { 'r/app': [list[0], list[1]] } }]);
  });

  it('stops answering from the index once the call pulled', async () => {
    const { engine, calls } = clientWith(held, [MARK_LINE]);
    await engine.listImageTags('r/app');
    await engine.pullImage('r/app', '2.0.0', { onEvent: () => {} });
    expect((await engine.listImageTags('r/app')).sort()).toEqual(['1.0.0', '2.0.0']);
    expect(calls).toEqual(['/events?since=1796647718.000000001&until=NOW', '/images/json']);
  });

  it.each([
    ['writes nothing for an engine that is not dockerd', undefined, []],
    ['drops the index when Podman answers where dockerd did', held, ['forget']],
  ])('%s', async (_, index, expected) => {
    const saved: unknown[] = [];
    const engine = createLightEngineClient(
      async (call) => (call.path.startsWith('/events') ? '' : list),
      async () => {},
      { server: 'Libpod/4.3.1 (linux)', libpodApiVersion: '4.3.1' },
      { load: async () => index, save: (value) => saved.push(value), forget: () => saved.push('forget') },
    );
    await engine.listImageTags('r/app');
    await new Promise((resolve) => setImmediate(resolve));
    expect(saved).toEqual(expected);
  });
});
