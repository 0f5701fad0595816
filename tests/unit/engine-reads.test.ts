import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { createEngineGet, formatListImagesPath, withLightReads } from '../../common/engine/engine-reads';

describe('formatListImagesPath', () => {
  it('writes filters as JSON, like dockerode', () => {
    expect(formatListImagesPath({ filters: { reference: ['127.0.0.1:5000/team/app'] } })).toBe(
      '/images/json?filters=%7B%22reference%22%3A%5B%22127.0.0.1%3A5000%2Fteam%2Fapp%22%5D%7D',
    );
    expect(formatListImagesPath()).toBe('/images/json');
  });
});

describe('withLightReads', () => {
  it('answers the two reads itself and asks for the full client only for anything else', async () => {
    const asked: string[] = [];
    let created = 0;
    const full = {
      modem: { followProgress: 'the real one' },
      getImage: (name: string) => ({ remove: async () => `removed ${name}` }),
      ping: async function (this: unknown) {
        return this === full ? 'bound to the real client' : 'unbound';
      },
    };
    const docker = withLightReads(async (p) => asked.push(p) && { path: p }, () => {
      created += 1;
      return full as unknown as Dockerode;
    });
    await docker.listImages({ filters: { reference: ['x'] } });
    await docker.getImage('x:1').inspect();
    expect(created).toBe(0);
    expect(asked).toEqual([formatListImagesPath({ filters: { reference: ['x'] } }), '/images/x:1/json']);
    expect(await docker.getImage('x:1').remove()).toBe('removed x:1');
    expect(await docker.ping()).toBe('bound to the real client');
    expect((docker.modem as unknown as { followProgress: string }).followProgress).toBe('the real one');
    expect(created).toBeGreaterThan(0);
  });
});

describe('createEngineGet', () => {
  let dir: string;
  let server: http.Server;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'run-docker-engine-get-'));
    server = http.createServer((req, res) => {
      if (req.url === '/images/present/json') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"Id":"sha256:abc"}');
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end('{"message":"No such image: absent"}');
      }
    });
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'engine.sock'), resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('reads JSON over a unix socket, and fails like docker-modem on a non-2xx answer', async () => {
    const get = createEngineGet({ socketPath: path.join(dir, 'engine.sock') });
    expect(await get('/images/present/json')).toEqual({ Id: 'sha256:abc' });
    await expect(get('/images/absent/json')).rejects.toMatchObject({
      statusCode: 404,
      json: { message: 'No such image: absent' },
      message: '(HTTP code 404) unexpected - No such image: absent ',
    });
  });

  it('passes connection failures through with their code', async () => {
    const get = createEngineGet({ socketPath: path.join(dir, 'nothing.sock') });
    await expect(get('/_ping')).rejects.toMatchObject({ code: 'ENOENT', syscall: 'connect' });
  });
});
