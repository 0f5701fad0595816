/**
 * Reads what the engine choice depends on — config.json's `currentContext` and the named
 * context's metadata and TLS files, where `docker context create` stores them
 * (`contexts/meta/<sha256(name)>/meta.json`, `contexts/tls/<sha256(name)>/docker/*.pem`) —
 * and returns the endpoint the docker CLI would use.
 */
import { loadCrypto } from '../lazy-builtins';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dockerConfigDir } from '../docker-config-path';
import { readPrivateFile } from '../read-private-file';
import { RunDockerError } from '../run-docker-error';
import {
  selectContextEndpoint,
  selectContextName,
  selectDefaultEndpoint,
  type ContextChoice,
  type ContextDockerEndpoint,
  type EngineEndpoint,
} from './select-engine-endpoint';

export async function readEngineEndpoint(
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
): Promise<EngineEndpoint> {
  const configDir = dockerConfigDir(env, homeDir);
  const configFile = join(configDir, 'config.json');
  // Cheap when it matters: with DOCKER_HOST or DOCKER_CONTEXT set, config.json is not read.
  const currentContext = env.DOCKER_HOST || env.DOCKER_CONTEXT ? undefined : await readCurrentContext(configFile);
  const choice = selectContextName(env, currentContext, configFile);
  if (!choice) return selectDefaultEndpoint(env, configDir, existsSync);
  const id = loadCrypto().createHash('sha256').update(choice.name).digest('hex');
  const endpoint = await readContextEndpoint(join(configDir, 'contexts', 'meta', id, 'meta.json'), choice);
  const tlsDir = join(configDir, 'contexts', 'tls', id, 'docker');
  const pick = (name: string) => (existsSync(join(tlsDir, name)) ? join(tlsDir, name) : undefined);
  return selectContextEndpoint(choice, endpoint, { ca: pick('ca.pem'), cert: pick('cert.pem'), key: pick('key.pem') });
}

/** A missing or broken config.json means no current context, as for the docker CLI. */
async function readCurrentContext(configFile: string): Promise<string | undefined> {
  try {
    // Bounded and never blocking: a FIFO or a symlink to /dev/zero counts as broken.
    const config = JSON.parse(
      (await readPrivateFile(configFile, { maxBytes: 4 * 1024 * 1024, followSymlink: true }))?.toString('utf8') ??
        'null',
    ) as {
      currentContext?: unknown;
    } | null;
    return typeof config?.currentContext === 'string' ? config.currentContext : undefined;
  } catch {
    return undefined;
  }
}

async function readContextEndpoint(
  metaFile: string,
  choice: ContextChoice,
): Promise<ContextDockerEndpoint | undefined> {
  let text: string;
  try {
    const bytes = await readPrivateFile(metaFile, { maxBytes: 4 * 1024 * 1024, followSymlink: true });
    if (bytes === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    text = bytes.toString('utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
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
