/**
 * The EngineClient for an EngineEndpoint. Every connection detail is passed explicitly:
 * docker-modem would otherwise read DOCKER_HOST and DOCKER_CERT_PATH from process.env on its
 * own, and a DOCKER_HOST it finds there silently beats an explicit socketPath.
 */
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { EngineClient } from '../../contract/engine-client';
import { loadHttps } from '../lazy-builtins';
import { readPositiveInteger } from '../read-positive-integer';
import { RunDockerError } from '../run-docker-error';
import { createDockerodeEngineClient, pullWithDockerode } from './dockerode-engine-client';
import { createEngineRequest, createLightEngineClient, DEFAULT_ENGINE_TIMEOUT_MS } from './light-engine-client';
import { plainUnixSocketPath, redactHost, type EngineEndpoint } from './select-engine-endpoint';
import { ENGINE_ANSWER_LIMIT_BYTES } from './socket-get';

type Env = Readonly<Record<string, string | undefined>>;
type ReadFile = (file: string) => Buffer;

/** The default keys ssh would offer, for hosts with no ssh-agent. */
const SSH_DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/**
 * The client for `endpoint`. Over a socket or tcp, everything but pulls goes straight over
 * node:http (light-engine-client.ts) and dockerode is loaded only for a pull; over ssh
 * everything goes through dockerode (docker-modem's ssh transport). Light calls fail after
 * RUN_DOCKER_ENGINE_TIMEOUT_MS of silence; pulls have their own bound (pull-image.ts).
 */
export function createEngineClient(endpoint: EngineEndpoint, env: Env, homeDir: string = homedir()): EngineClient {
  const options = toDockerodeOptions(endpoint, env, homeDir, readOrExplain(endpoint));
  if (options.protocol === 'ssh') return createDockerodeEngineClient(createDockerode(options));
  const timeoutMs = readPositiveInteger(env, 'RUN_DOCKER_ENGINE_TIMEOUT_MS') ?? DEFAULT_ENGINE_TIMEOUT_MS;
  let full: Dockerode | undefined;
  const seen = {};
  return createLightEngineClient(
    createEngineRequest(options, timeoutMs, ENGINE_ANSWER_LIMIT_BYTES, seen),
    (repository, tag, pullOptions) =>
      pullWithDockerode((full ??= createDockerode(options)), repository, tag, pullOptions),
    seen,
  );
}

function createDockerode(options: Dockerode.DockerOptions): Dockerode {
  // Required here, not imported: evaluating dockerode and its dependencies costs tens of ms.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: dockerode costs tens of ms to load
  const Dockerode = require('dockerode') as typeof import('dockerode');
  const saved = process.env.DOCKER_HOST;
  delete process.env.DOCKER_HOST;
  try {
    return new Dockerode(options);
  } finally {
    if (saved !== undefined) process.env.DOCKER_HOST = saved;
  }
}

/** Pure but for `read`: the dockerode options that reach `endpoint`. */
export function toDockerodeOptions(
  endpoint: EngineEndpoint,
  env: Env,
  homeDir: string,
  read: ReadFile,
): Dockerode.DockerOptions {
  // Windows: node:net takes a named pipe's path where it takes a socket's.
  const pipe = /^npipe:\/\/\/\/\.\/pipe\/(.+)$/.exec(endpoint.host);
  if (pipe) return { socketPath: `\\\\.\\pipe\\${pipe[1]}`, host: undefined };
  const socketPath = plainUnixSocketPath(endpoint.host);
  if (socketPath !== undefined) return { socketPath, host: undefined };
  const url = new URL(endpoint.host);
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  switch (url.protocol) {
    case 'unix:':
      return { socketPath: url.pathname, host: undefined };
    case 'ssh:': {
      const privateKey = env.SSH_AUTH_SOCK ? undefined : readFirstKey(join(homeDir, '.ssh'), read);
      return {
        protocol: 'ssh',
        host: hostname,
        port: url.port ? Number(url.port) : 22,
        username: decodeURIComponent(url.username) || userInfo().username,
        sshOptions: { agent: env.SSH_AUTH_SOCK, privateKey },
      };
    }
    default: {
      const base = { host: hostname, port: Number(url.port) };
      if (!endpoint.tls) return { ...base, protocol: 'http' };
      const { verify, ...files } = endpoint.tls;
      const material = {
        ca: files.ca ? read(files.ca) : undefined,
        cert: files.cert ? read(files.cert) : undefined,
        key: files.key ? read(files.key) : undefined,
      };
      // docker-modem has no rejectUnauthorized; an agent carries it (SkipTLSVerify contexts, DOCKER_TLS without _VERIFY).
      // Loaded here only: node:https costs start-up time on every run that does not need it.
      const agent = verify ? undefined : new (loadHttps().Agent)({ ...material, rejectUnauthorized: false });
      return { ...base, protocol: 'https', ...material, ...(agent ? { agent } : {}) };
    }
  }
}

function readFirstKey(sshDir: string, read: ReadFile): Buffer | undefined {
  for (const name of SSH_DEFAULT_KEYS) {
    try {
      return read(join(sshDir, name));
    } catch {
      // Not there: try the next one, as ssh does.
    }
  }
  return undefined;
}

function readOrExplain(endpoint: EngineEndpoint): ReadFile {
  return (file) => {
    try {
      return readFileSync(file);
    } catch (error) {
      if (endpoint.host.startsWith('ssh:')) throw error;
      throw new RunDockerError(
        `cannot read "${file}" for the TLS connection to the Docker engine at "${redactHost(endpoint.host)}" (${(error as NodeJS.ErrnoException).code})`,
        'Check DOCKER_CERT_PATH or the docker context\'s TLS files ("docker context inspect").',
      );
    }
  };
}
