import { toEngineConnectionError } from '../../common/engine-error';
import { ENGINE_TIMEOUT_CODE } from '../../common/engine/light-engine-client';

describe('toEngineConnectionError', () => {
  it('names the silent endpoint, where its address came from, the bound and the call', () => {
    const timeout = Object.assign(new Error('the Docker engine did not answer within 15000 ms (GET /images/json)'), {
      code: ENGINE_TIMEOUT_CODE,
      timeoutMs: 15_000,
      call: 'GET /images/json',
    });
    const error = toEngineConnectionError(timeout, {}, { host: 'tcp://build-host:2375', source: 'context "build" (DOCKER_CONTEXT)' });
    expect(error?.message).toBe('the Docker engine at "tcp://build-host:2375" set by context "build" (DOCKER_CONTEXT) did not answer within 15 s (GET /images/json)');
    expect(error?.hint).toBe('Check that it is running and not overloaded ("docker info" must answer), or raise RUN_DOCKER_ENGINE_TIMEOUT_MS on a slow engine.');
    expect(error?.exitCode).toBe(125);
    // In a payload, without the shim's endpoint: the address from the environment.
    expect(toEngineConnectionError(timeout, { DOCKER_HOST: 'tcp://u:secret@h:2375' })?.message).toBe(
      'the Docker engine at "tcp://u:***@h:2375" set by DOCKER_HOST did not answer within 15 s (GET /images/json)',
    );
  });
});
