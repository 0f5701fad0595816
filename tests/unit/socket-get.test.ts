import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  ANSWER_TOO_LARGE_CODE,
  CUT_SHORT_CODE,
  ENGINE_ANSWER_LIMIT_BYTES,
  getOverSocket,
  NOT_HTTP_CODE,
  parseClosedAnswer,
} from '../../common/engine/socket-get';

const answer = (text: string) => parseClosedAnswer(Buffer.from(text, 'latin1'));
/** The error answer(text) throws (none: the test fails on the undefined). */
const failureOf = (text: string): unknown => {
  try {
    answer(text);
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('parseClosedAnswer', () => {
  it('takes the body by Content-Length, by chunks, or to the end', () => {
    expect(answer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]')).toEqual({
      status: 200,
      headers: new Map([['content-length', '2']]),
      body: Buffer.from('[]'),
    });
    expect(answer('HTTP/1.1 404 Not Found\r\ncontent-length: 5\r\n\r\nabcdeEXTRA').body.toString()).toBe('abcde');
    const chunked =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[1,\r\nA;ext=1\r\n2,3,4,5,6]\r\n0\r\nX-Trailer: t\r\n\r\n';
    expect(answer(chunked).body.toString()).toBe('[1,2,3,4,5,6]');
    expect(answer('HTTP/1.0 200 OK\r\nServer: x\r\n\r\n{"a":1}').body.toString()).toBe('{"a":1}');
    expect(answer('HTTP/1.1 204 No Content\r\n\r\n')).toEqual({
      status: 204,
      headers: new Map(),
      body: Buffer.alloc(0),
    });
  });

  it('keeps the headers, names in lower case, so the client can tell which engine answered', () => {
    const headers = answer(
      'HTTP/1.1 200 OK\r\nServer: Libpod/4.3.1 (linux)\r\nLibpod-Api-Version: 4.3.1\r\n\r\n[]',
    ).headers;
    expect(headers.get('server')).toBe('Libpod/4.3.1 (linux)');
    expect(headers.get('libpod-api-version')).toBe('4.3.1');
  });

  it('fails an answer cut short like a connection reset, and one that is not HTTP as a protocol error', () => {
    expect(failureOf('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n')).toMatchObject({ code: CUT_SHORT_CODE });
    expect(failureOf('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')).toMatchObject({
      code: CUT_SHORT_CODE,
      message: 'the Docker engine closed the connection after 3 of its 10 bytes',
    });
    expect(failureOf('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc')).toMatchObject({
      code: CUT_SHORT_CODE,
    });
    expect(failureOf('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n')).toMatchObject({
      code: CUT_SHORT_CODE,
    });
    expect(failureOf('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n')).toMatchObject({
      code: NOT_HTTP_CODE,
    });
    expect(failureOf('SSH-2.0-OpenSSH_9.2\r\n\r\n')).toMatchObject({ code: NOT_HTTP_CODE });
    expect(failureOf('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')).toMatchObject({ code: NOT_HTTP_CODE });
  });
});

describe('getOverSocket', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'run-docker-socket-get-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const serve = async (name: string, server: net.Server) => {
    const socketPath = path.join(dir, name);
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return socketPath;
  };

  it('reads a chunked answer of node:http, sent in many writes, exactly, and asks for it by path', async () => {
    const seen: string[] = [];
    const items = Array.from({ length: 2000 }, (_, index) => ({ Id: `sha256:${index}`, RepoTags: [`repo:${index}`] }));
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.connection}`);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const text = JSON.stringify(items);
      for (let at = 0; at < text.length; at += 1000) res.write(text.slice(at, at + 1000));
      res.end();
    });
    const socketPath = await serve('chunked.sock', server);
    try {
      const { status, body } = await getOverSocket(socketPath, '/images/json?all=1', 5000, () => new Error('silent'));
      expect(status).toBe(200);
      expect(JSON.parse(body.toString('utf8'))).toEqual(items);
      expect(seen).toEqual(['GET /images/json?all=1 close']);
    } finally {
      server.close();
    }
  });

  it('fails with the error it is given when the engine accepts and stays silent, and passes connection errors through', async () => {
    const silent = net.createServer((socket) => socket.on('error', () => undefined));
    const socketPath = await serve('silent.sock', silent);
    try {
      const started = Date.now();
      await expect(
        getOverSocket(socketPath, '/images/json', 200, () => Object.assign(new Error('silent'), { code: 'TIMEOUT' })),
      ).rejects.toMatchObject({ code: 'TIMEOUT' });
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      silent.close();
    }
    await expect(
      getOverSocket(path.join(dir, 'nothing.sock'), '/images/json', 200, () => new Error('silent')),
    ).rejects.toMatchObject({ code: 'ENOENT', syscall: 'connect' });
  });

  it('stops reading an answer without end at its bound, closes the connection, and names the call', async () => {
    let sent = 0;
    const closes: Promise<unknown>[] = [];
    const endless = net.createServer((socket) => {
      socket.on('error', () => undefined);
      closes.push(new Promise((resolve) => socket.on('close', resolve)));
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[');
        const block = Buffer.alloc(64 * 1024, '{"Id":"sha256:0"},');
        const pump = () => {
          while (!socket.destroyed && socket.write(block)) sent += block.length;
        };
        socket.on('drain', pump);
        pump();
      });
    });
    const socketPath = await serve('endless.sock', endless);
    try {
      await expect(
        getOverSocket(socketPath, '/images/json?all=1', 5000, () => new Error('silent')),
      ).rejects.toMatchObject({
        code: ANSWER_TOO_LARGE_CODE,
        limitBytes: ENGINE_ANSWER_LIMIT_BYTES,
        call: 'GET /images/json',
        message: 'the Docker engine sent an answer larger than 32 MiB (GET /images/json)',
      });
      // A smaller bound, as the caller may set: the same failure, sooner.
      await expect(
        getOverSocket(socketPath, '/info', 5000, () => new Error('silent'), 1024 * 1024),
      ).rejects.toMatchObject({ code: ANSWER_TOO_LARGE_CODE, limitBytes: 1024 * 1024, call: 'GET /info' });
      // The client closed both connections: the server sees them end (the test would time out otherwise).
      expect(await Promise.all(closes)).toHaveLength(2);
      // Not read to the end: the server could only push what sat in the socket's buffers past the bound.
      expect(sent).toBeLessThan(ENGINE_ANSWER_LIMIT_BYTES + 16 * 1024 * 1024);
    } finally {
      endless.close();
    }
  });

  it('fails an answer that stops in the middle when the engine closes the connection', async () => {
    const halfway = net.createServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[{"Id":'));
    });
    const socketPath = await serve('halfway.sock', halfway);
    try {
      await expect(getOverSocket(socketPath, '/images/json', 2000, () => new Error('silent'))).rejects.toMatchObject({
        code: CUT_SHORT_CODE,
      });
    } finally {
      halfway.close();
    }
  });
});
