import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { toEngineConnectionError, toReferenceRefusal } from '../../common/engine-error';
import { createEngineRequest } from '../../common/engine/light-engine-client';
import { ENGINE_TIMEOUT_CODE } from '../../common/engine/light-engine-client';
import { answerTooLargeError, NOT_HTTP_CODE, parseClosedAnswer } from '../../common/engine/socket-get';

describe('toEngineConnectionError', () => {
  it('names the silent endpoint, where its address came from, the bound and the call', () => {
    const timeout = Object.assign(new Error('the Docker engine did not answer within 15000 ms (GET /images/json)'), {
      code: ENGINE_TIMEOUT_CODE,
      timeoutMs: 15_000,
      call: 'GET /images/json',
    });
    const error = toEngineConnectionError(
      timeout,
      {},
      { host: 'tcp://build-host:2375', source: 'context "build" (DOCKER_CONTEXT)' },
    );
    expect(error?.message).toBe(
      'the Docker engine at "tcp://build-host:2375" set by context "build" (DOCKER_CONTEXT) did not answer within 15 s (GET /images/json)',
    );
    expect(error?.hint).toBe(
      'Check that it is running and not overloaded ("docker info" must answer), or raise RUN_DOCKER_ENGINE_TIMEOUT_MS on a slow engine.',
    );
    expect(error?.exitCode).toBe(125);
    // In a payload, without the shim's endpoint: the address from the environment.
    expect(toEngineConnectionError(timeout, { DOCKER_HOST: 'tcp://u:secret@h:2375' })?.message).toBe(
      'the Docker engine at "tcp://u:***@h:2375" set by DOCKER_HOST did not answer within 15 s (GET /images/json)',
    );
  });

  it('says what a failing engine (HTTP 5xx) said, where it stands and which call, and leaves a 4xx to its caller', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'run-docker-engine-500-'));
    const server = http.createServer((req, res) => {
      const failing = req.url?.startsWith('/images/');
      res.writeHead(failing ? 500 : 404, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({ message: failing ? 'write /var/lib/docker/tmp: no space left on device' : 'page not found' }),
      );
    });
    const socketPath = path.join(dir, 'engine.sock');
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const request = createEngineRequest({ socketPath });
      const endpoint = { host: `unix://${socketPath}`, source: 'DOCKER_HOST' };
      const failures = await Promise.all(
        [
          { method: 'GET', path: '/images/json?all=1' },
          { method: 'GET', path: '/images/sha256:abc/get', stream: true },
          { method: 'POST', path: '/containers/create', body: {} },
        ].map((call) =>
          request(call as never).then(
            () => undefined,
            (error: unknown) => error,
          ),
        ),
      );
      expect(toEngineConnectionError(failures[0], {}, endpoint)?.message).toBe(
        `the Docker engine at "unix://${socketPath}" set by DOCKER_HOST failed (HTTP 500 to GET /images/json): write /var/lib/docker/tmp: no space left on device`,
      );
      expect(toEngineConnectionError(failures[1], {}, endpoint)?.message).toMatch(
        /\(HTTP 500 to GET \/images\/sha256:abc\/get\)/,
      );
      expect(toEngineConnectionError(failures[0], {}, endpoint)?.exitCode).toBe(125);
      expect(toEngineConnectionError(failures[0], {}, endpoint)?.hint).toMatch(/^The engine says why: check its log/);
      // A 404 of a request of run-docker's own: not the engine failing.
      expect(toEngineConnectionError(failures[2], {}, endpoint)).toBeUndefined();
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("words dockerode's failures (pulls) alike, without a call, and shortens what the engine said to one line", () => {
    const words = `line one\n${'x'.repeat(400)}`;
    const error = Object.assign(new Error(`(HTTP code 503) server error - ${words} `), {
      statusCode: 503,
      json: { message: words },
    });
    const message = toEngineConnectionError(error, { DOCKER_HOST: 'unix:///run/docker.sock' })?.message ?? '';
    expect(message).toMatch(
      /^the Docker engine at "unix:\/\/\/run\/docker.sock" set by DOCKER_HOST failed \(HTTP 503\): line one x+…$/,
    );
    expect(message).not.toContain('\n');
    expect(message.length).toBeLessThan(420);
  });

  it('names the endpoint, the bound and the call for an answer that passed its bound', () => {
    const error = toEngineConnectionError(
      answerTooLargeError('GET', '/images/json?all=1', 32 * 1024 * 1024),
      {},
      { host: 'unix:///var/run/docker.sock', source: 'default' },
    );
    expect(error?.message).toBe(
      'the Docker engine at "unix:///var/run/docker.sock" sent an answer larger than 32 MiB (GET /images/json); run-docker stopped reading it',
    );
    expect(error?.hint).toContain('docker image prune');
    expect(error?.exitCode).toBe(125);
  });

  it('says that something other than an engine answers at the endpoint, for any answer that is not HTTP', () => {
    for (const answer of [
      'SSH-2.0-OpenSSH_9.2\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    ]) {
      let caught: unknown;
      try {
        parseClosedAnswer(Buffer.from(answer, 'latin1'));
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: NOT_HTTP_CODE });
      const error = toEngineConnectionError(caught, {}, { host: 'unix:///run/agent.sock', source: 'DOCKER_HOST' });
      expect(error?.message).toMatch(
        /^what answers at "unix:\/\/\/run\/agent.sock" set by DOCKER_HOST is not a Docker engine: its answer/,
      );
      expect(error?.hint).toContain('DOCKER_HOST');
      expect(error?.exitCode).toBe(125);
    }
  });
});

describe('toEngineConnectionError on Podman (docs/engines.md)', () => {
  const rootful = { host: 'unix:///run/podman/podman.sock', source: 'DOCKER_HOST' };

  it('names the Podman socket and its remedies, never the docker group', () => {
    const denied = toEngineConnectionError(
      Object.assign(new Error('connect EACCES /run/podman/podman.sock'), { code: 'EACCES', syscall: 'connect' }),
      {},
      rootful,
    );
    expect(denied?.message).toBe(
      'permission denied on the Podman socket "unix:///run/podman/podman.sock" set by DOCKER_HOST',
    );
    expect(denied?.hint).not.toMatch(/"docker" group/);
    expect(denied?.hint).toMatch(/rootless Podman/);
    const absent = toEngineConnectionError(
      Object.assign(new Error('connect ENOENT'), { code: 'ENOENT', syscall: 'connect' }),
      {},
      {
        host: 'unix:///run/user/1501/podman/podman.sock',
        source: 'Podman socket (no Docker socket at /var/run/docker.sock)',
      },
    );
    expect(absent?.message).toBe(
      'cannot reach Podman at "unix:///run/user/1501/podman/podman.sock" (Podman socket (no Docker socket at /var/run/docker.sock)) (ENOENT)',
    );
    expect(absent?.hint).toMatch(/systemctl --user enable --now podman\.socket/);
  });

  it('names Podman when its socket stops answering', () => {
    const timeout = Object.assign(new Error('silent'), {
      code: ENGINE_TIMEOUT_CODE,
      timeoutMs: 15_000,
      call: 'GET /images/json',
    });
    const error = toEngineConnectionError(timeout, {}, rootful);
    expect(error?.message).toBe(
      'Podman at "unix:///run/podman/podman.sock" set by DOCKER_HOST did not answer within 15 s (GET /images/json)',
    );
    expect(error?.hint).toMatch(/\("podman info" must answer\)/);
  });

  it("keeps Docker's words for Docker's socket", () => {
    const denied = toEngineConnectionError(
      Object.assign(new Error('connect EACCES'), { code: 'EACCES', syscall: 'connect' }),
      {},
      { host: 'unix:///var/run/docker.sock', source: 'default' },
    );
    expect(denied?.hint).toMatch(/"docker" group/);
  });
});

describe('toReferenceRefusal', () => {
  /** An answer outside 2xx as both engine clients reject with it. */
  const answered = (statusCode: number, message: string) =>
    Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), {
      statusCode,
      json: { message },
    });

  it('names the reference the engine could not read, and for an IPv4-mapped registry its IPv4 spelling', () => {
    for (const registry of ['[::ffff:7f00:1]:5000', '[0:0:0:0:0:ffff:7f00:1]:5000']) {
      const reference = `${registry}/team/app:1.0`;
      const error = toReferenceRefusal(
        answered(400, `no such image: ${reference}: invalid reference format`),
        reference,
      );
      expect(error?.message).toBe(
        `the engine refused the format of the image reference "${reference}" (HTTP 400: invalid reference format)`,
      );
      expect(error?.hint).toBe(
        'Write its registry as the engine accepts it: a host name or an IPv4 address, here "127.0.0.1:5000/team/app:1.0" (Docker 20.10 takes no IPv6 address in a reference).',
      );
      expect(error?.exitCode).toBe(125);
    }
    expect(toReferenceRefusal(answered(400, 'invalid reference format'), '[::ffff:a01:203]/app:1')?.hint).toMatch(
      /, here "10\.1\.2\.3\/app:1" /,
    );
  });

  it('gives another IPv6 registry no IPv4 spelling, and any other reference the grammar', () => {
    expect(toReferenceRefusal(answered(400, 'invalid reference format'), '[::1]:5000/app:1')?.hint).toBe(
      'Write its registry as the engine accepts it: a host name or an IPv4 address (Docker 20.10 takes no IPv6 address in a reference).',
    );
    const other = toReferenceRefusal(answered(400, 'invalid tag format'), 'team/app:1');
    expect(other?.message).toBe(
      'the engine refused the format of the image reference "team/app:1" (HTTP 400: invalid tag format)',
    );
    expect(other?.hint).toMatch(/^Write it as the engine accepts it, \[registry\/\]name/);
  });

  it('leaves every other failure to its caller', () => {
    expect(toReferenceRefusal(answered(404, 'no such image: team/app:1'), 'team/app:1')).toBeUndefined();
    expect(toReferenceRefusal(answered(500, 'invalid reference format'), 'team/app:1')).toBeUndefined();
    expect(toReferenceRefusal(new Error('invalid reference format'), 'team/app:1')).toBeUndefined();
    expect(toReferenceRefusal(undefined, 'team/app:1')).toBeUndefined();
  });
});
