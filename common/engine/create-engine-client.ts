/**
 * The EngineClient for an EngineEndpoint, every call over node:http (light-engine-client.ts),
 * pulls included (pull-over-engine-api.ts): a unix socket or named pipe, tcp with or without
 * TLS, or ssh through the system's ssh (dial-over-ssh.ts). Every connection detail is passed
 * explicitly, from the endpoint the shim resolved; nothing here reads DOCKER_HOST.
 */
import { readFileSync } from 'node:fs';
import type { EngineClient } from '../../contract/engine-client';
import { loadHttps } from '../lazy-builtins';
import { readPositiveInteger } from '../read-positive-integer';
import { RunDockerError } from '../run-docker-error';
import { dialOverSsh } from './dial-over-ssh';
import {
  createEngineRequest,
  createLightEngineClient,
  DEFAULT_ENGINE_TIMEOUT_MS,
  type EngineConnection,
  type ImageIndexStore,
} from './light-engine-client';
import { pullOverEngineApi } from './pull-over-engine-api';
import { plainUnixSocketPath, redactHost, type EngineEndpoint } from './select-engine-endpoint';
import { ENGINE_ANSWER_LIMIT_BYTES } from './socket-get';

type Env = Readonly<Record<string, string | undefined>>;
type ReadFile = (file: string) => Buffer;

/**
 * The client for `endpoint`. Calls fail after RUN_DOCKER_ENGINE_TIMEOUT_MS of silence; pulls
 * have their own bound (pull-image.ts). `imageIndex`: where this engine's image index is kept
 * (the shim gives one for an engine on this host's clock, image-index.ts).
 */
export function createEngineClient(endpoint: EngineEndpoint, env: Env, imageIndex?: ImageIndexStore): EngineClient {
  const timeoutMs = readPositiveInteger(env, 'RUN_DOCKER_ENGINE_TIMEOUT_MS') ?? DEFAULT_ENGINE_TIMEOUT_MS;
  const seen = {};
  const request = createEngineRequest(
    toEngineConnection(endpoint, readOrExplain(endpoint)),
    timeoutMs,
    ENGINE_ANSWER_LIMIT_BYTES,
    seen,
  );
  return createLightEngineClient(
    request,
    (repository, tag, pullOptions) => pullOverEngineApi(request, repository, tag, pullOptions),
    seen,
    imageIndex,
  );
}

/** Pure but for `read`: how to reach `endpoint`. */
export function toEngineConnection(endpoint: EngineEndpoint, read: ReadFile): EngineConnection {
  // Windows: node:net takes a named pipe's path where it takes a socket's.
  const pipe = /^npipe:\/\/\/\/\.\/pipe\/(.+)$/.exec(endpoint.host);
  if (pipe) return { socketPath: `\\\\.\\pipe\\${pipe[1]}` };
  const socketPath = plainUnixSocketPath(endpoint.host);
  if (socketPath !== undefined) return { socketPath };
  const url = new URL(endpoint.host);
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  switch (url.protocol) {
    case 'unix:':
      return { socketPath: url.pathname };
    case 'ssh:':
      return { connect: () => dialOverSsh(endpoint.host) };
    default: {
      const base = { host: hostname, port: Number(url.port) };
      if (!endpoint.tls) return base;
      const { verify, ...files } = endpoint.tls;
      const material = {
        ca: files.ca ? read(files.ca) : undefined,
        cert: files.cert ? read(files.cert) : undefined,
        key: files.key ? read(files.key) : undefined,
      };
      // Not verifying (SkipTLSVerify contexts, DOCKER_TLS without _VERIFY) rides in an agent.
      // Loaded here only: node:https costs start-up time on every run that does not need it.
      const agent = verify ? undefined : new (loadHttps().Agent)({ ...material, rejectUnauthorized: false });
      return { ...base, tls: true, ...material, ...(agent ? { agent } : {}) };
    }
  }
}

function readOrExplain(endpoint: EngineEndpoint): ReadFile {
  return (file) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new RunDockerError(
        `cannot read "${file}" for the TLS connection to the Docker engine at "${redactHost(endpoint.host)}" (${(error as NodeJS.ErrnoException).code})`,
        'Check DOCKER_CERT_PATH or the docker context\'s TLS files ("docker context inspect").',
      );
    }
  };
}
