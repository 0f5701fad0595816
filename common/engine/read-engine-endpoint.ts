/**
 * Reads what the engine choice depends on — config.json's `currentContext` (from the loaded
 * docker config) and the named context's metadata and TLS files, where `docker context
 * create` stores them (`contexts/meta/<sha256(name)>/meta.json`,
 * `contexts/tls/<sha256(name)>/docker/*.pem`) — and returns the endpoint the docker CLI would
 * use. Every file is held to the owner rule of config.json (load-docker-config.ts): a context
 * or a CA that another user could have written would choose the engine whose images run.
 */
import { loadCrypto } from '../lazy-builtins';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { DockerConfigSnapshot } from '../../contract/contract';
import type { FileOwner } from '../host-platform';
import { refuseDockerFile } from '../load-docker-config';
import { currentUser, UnreadableFile } from '../read-private-file';
import { readTrustedFile, readTrustedFileSync, resolveTrustedPath } from '../read-trusted-file';
import { RunDockerError } from '../run-docker-error';
import {
  plainUnixSocketPath,
  selectContextEndpoint,
  selectContextName,
  selectDefaultEndpoint,
  type ContextChoice,
  type ContextDockerEndpoint,
  type EngineEndpoint,
} from './select-engine-endpoint';

/** A context's meta.json and TLS files are a few kB. */
const CONTEXT_FILE_LIMIT_BYTES = 4 * 1024 * 1024;

export async function readEngineEndpoint(
  env: Readonly<Record<string, string | undefined>>,
  dockerConfig: DockerConfigSnapshot,
  user: FileOwner | undefined = currentUser(),
): Promise<EngineEndpoint> {
  const currentContext = dockerConfig.content?.currentContext;
  const choice = selectContextName(
    env,
    typeof currentContext === 'string' ? currentContext : undefined,
    dockerConfig.file,
  );
  // TLS files are used only when they exist, as the docker CLI does; one that exists must pass the owner rule.
  const existing = (file: string) => isTrustedFile(file, user);
  if (!choice) return refuseForeignSocket(selectDefaultEndpoint(env, dockerConfig.dir, existing), user);
  const id = loadCrypto().createHash('sha256').update(choice.name).digest('hex');
  const endpoint = await readContextEndpoint(join(dockerConfig.dir, 'contexts', 'meta', id, 'meta.json'), choice, user);
  const tlsDir = join(dockerConfig.dir, 'contexts', 'tls', id, 'docker');
  const pick = (name: string) => (existing(join(tlsDir, name)) ? join(tlsDir, name) : undefined);
  return refuseForeignSocket(
    selectContextEndpoint(choice, endpoint, { ca: pick('ca.pem'), cert: pick('cert.pem'), key: pick('key.pem') }),
    user,
  );
}

/**
 * Whoever listens on an engine socket chooses the images that run, and root's payloads with
 * them: a unix socket is used only when it, and every folder on its way, is the user's or
 * root's (read-trusted-file.ts). Under `sudo -E`, DOCKER_HOST is the other user's choice; an
 * address on the network cannot be judged this way (docs/trust.md). A socket that is not
 * there is left to the connection, which names it.
 */
function refuseForeignSocket(endpoint: EngineEndpoint, user: FileOwner | undefined): EngineEndpoint {
  const path = user === undefined ? undefined : unixSocketPath(endpoint.host);
  if (path === undefined || user === undefined) return endpoint;
  let owner: number;
  try {
    owner = lstatSync(resolveTrustedPath(path, user)).uid;
  } catch (error) {
    if (error instanceof UnreadableFile) throw refuseEngine(endpoint, error.message, user);
    return endpoint;
  }
  if (owner !== user.uid && owner !== 0) throw refuseEngine(endpoint, `belongs to uid ${owner}`, user);
  return endpoint;
}

function unixSocketPath(host: string): string | undefined {
  if (!host.startsWith('unix://')) return undefined;
  return plainUnixSocketPath(host) ?? new URL(host).pathname;
}

function refuseEngine(endpoint: EngineEndpoint, why: string, user: FileOwner): RunDockerError {
  return new RunDockerError(
    `the Docker engine at "${endpoint.host}" (from ${endpoint.source}) is not used: whoever listens there chooses the images that run, and the socket ${why}`,
    user.uid === 0
      ? 'As root, use an engine socket root owns: drop the DOCKER_HOST or docker context another user chose (sudo -E keeps them), or run with "sudo -H".'
      : 'Use an engine socket that you or root own (DOCKER_HOST, or the docker context).',
  );
}

/** Whether `file` exists; RunDockerError when it does but another user could have written it, or it is no bounded regular file. */
function isTrustedFile(file: string, user: FileOwner | undefined): boolean {
  try {
    // A TLS file is a few kB; read here to check it, and again when connecting.
    return readTrustedFileSync(file, { user, maxBytes: CONTEXT_FILE_LIMIT_BYTES }) !== undefined;
  } catch (error) {
    if (error instanceof UnreadableFile && error.reason === 'writable-by-others')
      throw refuseDockerFile(file, error.message, user);
    if (error instanceof UnreadableFile)
      throw new RunDockerError(
        `the TLS file "${file}" for the Docker engine ${error.message}`,
        'Replace it with the PEM file it should be ("docker context inspect" shows where it comes from).',
      );
    throw error;
  }
}

async function readContextEndpoint(
  metaFile: string,
  choice: ContextChoice,
  user: FileOwner | undefined,
): Promise<ContextDockerEndpoint | undefined> {
  let text: string;
  try {
    const bytes = await readTrustedFile(metaFile, { user, maxBytes: CONTEXT_FILE_LIMIT_BYTES });
    if (bytes === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof UnreadableFile && error.reason === 'writable-by-others')
      throw refuseDockerFile(metaFile, error.message, user);
    const code =
      error instanceof UnreadableFile
        ? error.message
        : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
    throw new RunDockerError(
      code === 'ENOENT'
        ? `the docker context "${choice.name}" (from ${choice.source}) does not exist`
        : `cannot read the docker context "${choice.name}" (from ${choice.source}): ${code}`,
      choice.source === 'DOCKER_CONTEXT'
        ? 'List the contexts with "docker context ls", then set DOCKER_CONTEXT to one of them or unset it.'
        : 'List the contexts with "docker context ls", then "docker context use" one of them.',
    );
  }
  try {
    const meta = JSON.parse(text) as { Endpoints?: { docker?: ContextDockerEndpoint } };
    return meta?.Endpoints?.docker;
  } catch {
    throw new RunDockerError(
      `the docker context "${choice.name}" is damaged ("${metaFile}" is not JSON)`,
      `Remove and create it again ("docker context rm ${choice.name}").`,
    );
  }
}
