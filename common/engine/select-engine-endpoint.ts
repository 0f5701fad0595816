/**
 * Which Docker engine to talk to, decided exactly as the docker CLI decides it, so that the
 * shim, the payloads and the `docker run` they spawn all reach the same engine
 * (https://docs.docker.com/engine/manage-resources/contexts/ and docker/cli's
 * resolveContextName): DOCKER_HOST > DOCKER_CONTEXT > `currentContext` in config.json >
 * the default (unix:///var/run/docker.sock; on Windows npipe:////./pipe/docker_engine).
 * Pure: the caller reads the files.
 */
import { join } from 'node:path';
import type { HostPlatform } from '../host-platform';
import { RunDockerError } from '../run-docker-error';

type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_ENGINE_HOST = 'unix:///var/run/docker.sock';
/** The docker CLI's default on Windows (docker/cli's opts.DefaultNamedPipe); Docker Desktop answers there. */
export const DEFAULT_WINDOWS_ENGINE_HOST = 'npipe:////./pipe/docker_engine';

/** The engine address the docker CLI uses on `platform` when nothing chooses one. */
export function defaultEngineHost(platform: HostPlatform = process.platform): string {
  return platform === 'win32' ? DEFAULT_WINDOWS_ENGINE_HOST : DEFAULT_ENGINE_HOST;
}

export interface TlsFiles {
  /** Verify the engine's certificate (against `ca`, or the system's CAs without one). */
  verify: boolean;
  ca?: string;
  cert?: string;
  key?: string;
}

export interface EngineEndpoint {
  /** `unix:///path`, `npipe:////./pipe/name` (Windows), `tcp://host:port` or `ssh://user@host:port`. */
  host: string;
  /** Where the choice came from, for --show-config and error messages. */
  source: string;
  /** TLS for tcp hosts; absent means plain HTTP. */
  tls?: TlsFiles;
}

/** A context named by DOCKER_CONTEXT or config.json; undefined means the default one. */
export interface ContextChoice {
  name: string;
  source: string;
}

export function selectContextName(
  env: Env,
  currentContext: string | undefined,
  configFile: string,
): ContextChoice | undefined {
  // DOCKER_HOST means the default context, whatever else is set (docker/cli does the same).
  if (env.DOCKER_HOST) return undefined;
  const name = env.DOCKER_CONTEXT || undefined;
  if (name) return name === 'default' ? undefined : { name, source: 'DOCKER_CONTEXT' };
  if (currentContext && currentContext !== 'default')
    return { name: currentContext, source: `currentContext in ${configFile}` };
  return undefined;
}

/**
 * The default context: DOCKER_HOST, with TLS from DOCKER_TLS_VERIFY / DOCKER_TLS and the
 * files in DOCKER_CERT_PATH (default: the Docker config folder). Files that do not exist
 * are left out, as the docker CLI does; `existing` says which do.
 */
export function selectDefaultEndpoint(
  env: Env,
  configDir: string,
  existing: (file: string) => boolean,
  platform: HostPlatform = process.platform,
): EngineEndpoint {
  const verify = Boolean(env.DOCKER_TLS_VERIFY);
  const useTls = verify || Boolean(env.DOCKER_TLS);
  const raw = env.DOCKER_HOST || defaultEngineHost(platform);
  const source = env.DOCKER_HOST ? 'DOCKER_HOST' : 'default';
  const host = normalizeHost(raw, useTls, source, platform);
  if (!host.startsWith('tcp://') || !useTls) return { host, source };
  const certDir = env.DOCKER_CERT_PATH || configDir;
  const pick = (name: string) => {
    const file = join(certDir, name);
    return existing(file) ? file : undefined;
  };
  return { host, source, tls: { verify, ca: pick('ca.pem'), cert: pick('cert.pem'), key: pick('key.pem') } };
}

/** What `docker context inspect` shows under Endpoints.docker, plus the TLS files stored beside it. */
export interface ContextDockerEndpoint {
  Host?: unknown;
  SkipTLSVerify?: unknown;
}

export function selectContextEndpoint(
  choice: ContextChoice,
  endpoint: ContextDockerEndpoint | undefined,
  tlsFiles: { ca?: string; cert?: string; key?: string },
  platform: HostPlatform = process.platform,
): EngineEndpoint {
  const source = `context "${choice.name}" (${choice.source})`;
  if (!endpoint || typeof endpoint.Host !== 'string' || !endpoint.Host) {
    throw new RunDockerError(
      `the docker ${source} has no Docker endpoint`,
      `Check it with "docker context inspect ${choice.name}".`,
    );
  }
  const skipVerify = endpoint.SkipTLSVerify === true;
  const hasTls = Boolean(tlsFiles.ca || tlsFiles.cert || tlsFiles.key) || skipVerify;
  const host = normalizeHost(endpoint.Host, hasTls, source, platform);
  if (!host.startsWith('tcp://') || !hasTls) return { host, source };
  return { host, source, tls: { verify: !skipVerify, ...tlsFiles } };
}

/**
 * Pure: the socket path of a `unix://` address whose path a URL parser would leave as it is
 * (absolute, no `.` or `..` segments, no characters it would escape), else undefined. What
 * `new URL(host).pathname` gives for it, without URL's first-use cost (~0.7 ms a call here).
 */
export function plainUnixSocketPath(host: string): string | undefined {
  return /^unix:\/\/((?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9._-]+)+)$/.exec(host)?.[1];
}

/** `host:port` → `tcp://host:port`; a tcp host without a port gets 2376 with TLS, else 2375. */
export function normalizeHost(
  raw: string,
  tls: boolean,
  source: string,
  platform: HostPlatform = process.platform,
): string {
  if (plainUnixSocketPath(raw) !== undefined) return raw;
  // A Windows named pipe, as the docker CLI writes it (`npipe:////./pipe/docker_engine`),
  // only there; a URL parser would drop its `.` segment.
  const pipe = platform === 'win32' ? /^npipe:\/\/\/?\/\.\/pipe\/([^/\\]+)$/i.exec(raw) : null;
  if (pipe) return `npipe:////./pipe/${pipe[1]}`;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `tcp://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw unsupportedHost(raw, source);
  }
  switch (url.protocol) {
    case 'unix:':
      return `unix://${url.pathname || '/var/run/docker.sock'}`;
    case 'tcp:':
    case 'http:':
    case 'https:':
      if (!url.hostname) throw unsupportedHost(raw, source);
      return `tcp://${url.host}${url.port ? '' : `:${tls ? 2376 : 2375}`}`;
    case 'ssh:':
      if (!url.hostname) throw unsupportedHost(raw, source);
      return withScheme;
    default:
      throw unsupportedHost(raw, source);
  }
}

function unsupportedHost(raw: string, source: string): RunDockerError {
  return new RunDockerError(
    `the Docker engine address "${redactHost(raw)}" (from ${source}) is not one run-docker can use`,
    'Use unix:///path/to/docker.sock, npipe:////./pipe/NAME, tcp://HOST:PORT or ssh://USER@HOST, as for the docker CLI.',
  );
}

/** An engine address for messages: never a password written into the URL. */
export function redactHost(host: string): string {
  return host.replace(/^([a-z]+:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}
