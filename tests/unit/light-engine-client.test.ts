import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import {
  createEngineRequest,
  ENGINE_TIMEOUT_CODE,
  exactReferenceFilter,
  formatQuery,
  selectImagesOfRepositories,
  withLightCalls,
  type EngineCall,
} from '../../common/engine/light-engine-client';

describe('formatQuery', () => {
  it('writes filters as JSON, like dockerode, and leaves out undefined values', () => {
    expect(formatQuery({ all: true, filters: { reference: ['127.0.0.1:5000/team/app'] }, name: undefined })).toBe(
      '?all=true&filters=%7B%22reference%22%3A%5B%22127.0.0.1%3A5000%2Fteam%2Fapp%22%5D%7D',
    );
    expect(formatQuery()).toBe('');
  });
});

describe('withLightCalls', () => {
  it('answers its calls itself and asks for the full client only for anything else, bound to it', async () => {
    const calls: EngineCall[] = [];
    let asked = 0;
    const full = {
      modem: { followProgress: 'the real one' },
      getImage: (name: string) => ({ tag: async () => `tagged ${name}` }),
      ping: async function (this: unknown) {
        return this === full ? 'bound to the real client' : 'unbound';
      },
    };
    const docker = withLightCalls(
      async (call) => {
        calls.push(call);
        return call.method === 'POST' ? { Id: 'c1' } : {};
      },
      () => {
        asked += 1;
        return full as unknown as Dockerode;
      },
    );
    await docker.listImages({ filters: { label: ['l'] } });
    await docker.getImage('x:1').inspect();
    await docker.getImage('sha256:1').get();
    const container = await docker.createContainer({ Image: 'sha256:1', Cmd: ['/never'] });
    await container.getArchive({ path: '/etc/passwd' });
    await container.remove({ force: true });
    await docker.listContainers({ all: true, filters: { label: ['l'] } });
    await docker.info();
    expect(asked).toBe(0);
    expect(calls).toEqual([
      { method: 'GET', path: '/images/json' }, // asked for at once, for the tag lookups
      { method: 'GET', path: `/images/json${formatQuery({ filters: { label: ['l'] } })}` },
      { method: 'GET', path: '/images/x:1/json' },
      { method: 'GET', path: '/images/sha256:1/get', stream: true },
      { method: 'POST', path: '/containers/create', body: { Image: 'sha256:1', Cmd: ['/never'] } },
      { method: 'GET', path: '/containers/c1/archive?path=%2Fetc%2Fpasswd', stream: true },
      { method: 'DELETE', path: '/containers/c1?force=true' },
      { method: 'GET', path: `/containers/json${formatQuery({ all: true, filters: { label: ['l'] } })}` },
      { method: 'GET', path: '/info' }, // the registry settings, without loading dockerode
    ]);
    expect(await docker.getImage('x:1').tag({ repo: 'y' })).toBe('tagged x:1');
    expect(await docker.ping()).toBe('bound to the real client');
    expect((docker.modem as unknown as { followProgress: string }).followProgress).toBe('the real one');
    expect(asked).toBeGreaterThan(0);
  });
});

describe('image lists by repository', () => {
  const images = [
    { Id: 'a', RepoTags: ['127.0.0.1:5000/team/app:1.0.0', 'other:2'] },
    { Id: 'b', RepoTags: ['127.0.0.1:5000/team/app-main:1.0.0'] },
    { Id: 'c', RepoTags: ['<none>:<none>'] },
    { Id: 'd', RepoTags: null },
    { Id: 'e', RepoTags: ['team/app:latest'] },
  ];

  it('answers exact repository names the way the engine\'s reference filter does', () => {
    expect(selectImagesOfRepositories(images, ['127.0.0.1:5000/team/app']).map((i) => i.Id)).toEqual(['a']);
    expect(selectImagesOfRepositories(images, ['team/app', 'other']).map((i) => i.Id)).toEqual(['a', 'e']);
    expect(selectImagesOfRepositories(images, ['other:2']).map((i) => i.Id)).toEqual(['a']);
    expect(selectImagesOfRepositories(images, ['nothing'])).toEqual([]);
  });

  it('leaves patterns, digests and other filters to the engine', () => {
    expect(exactReferenceFilter({ filters: { reference: ['127.0.0.1:5000/team/app'] } })).toEqual(['127.0.0.1:5000/team/app']);
    expect(exactReferenceFilter({ filters: { reference: ['team/*'] } })).toBeUndefined();
    expect(exactReferenceFilter({ filters: { reference: ['team/app@sha256:00'] } })).toBeUndefined();
    expect(exactReferenceFilter({ filters: { reference: ['x'], label: ['l'] } })).toBeUndefined();
    expect(exactReferenceFilter({ all: true, filters: { reference: ['x'] } })).toBeUndefined();
    expect(exactReferenceFilter(undefined)).toBeUndefined();
  });

  it('lists once for any number of repositories, and again after anything that could change the images', async () => {
    let lists = 0;
    const full = { createImage: async () => 'pulled' };
    const docker = withLightCalls(
      async (call) => {
        if (call.path === '/images/json') lists += 1;
        return lists === 1 ? images : [...images, { Id: 'f', RepoTags: ['127.0.0.1:5000/team/app:2.0.0'] }];
      },
      () => full as unknown as Dockerode,
    );
    const ids = async (repository: string) => ((await docker.listImages({ filters: { reference: [repository] } })) as Array<{ Id: string }>).map((i) => i.Id);
    expect(await ids('127.0.0.1:5000/team/app')).toEqual(['a']);
    expect(await ids('127.0.0.1:5000/team/app-main')).toEqual(['b']);
    expect(lists).toBe(1);
    await docker.createImage({ fromImage: '127.0.0.1:5000/team/app', tag: '2.0.0' });
    expect(await ids('127.0.0.1:5000/team/app')).toEqual(['a', 'f']);
    expect(lists).toBe(2);
  });

  it('asks again after a failed list', async () => {
    let attempt = 0;
    const docker = withLightCalls(
      async () => {
        attempt += 1;
        if (attempt === 1) throw Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' });
        return images;
      },
      () => ({}) as Dockerode,
    );
    await expect(docker.listImages({ filters: { reference: ['team/app'] } })).rejects.toMatchObject({ code: 'ENOENT' });
    expect(((await docker.listImages({ filters: { reference: ['team/app'] } })) as unknown[]).length).toBe(1);
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
    await expect(request({ method: 'GET', path: '/_ping' })).rejects.toMatchObject({ code: 'ENOENT', syscall: 'connect' });
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
