import { toEngineConnectionError } from '../../common/engine-error';
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
