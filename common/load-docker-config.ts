/**
 * The one reader of the docker CLI's config.json
 * (https://docs.docker.com/reference/cli/docker/#configuration-files): which context is
 * current, which credential helpers and logins, which proxies. Read once per call, by the
 * shim, and handed to payloads in their context (BaseContext.docker); every consumer takes
 * the parsed value. Bounded and never blocking (a FIFO, a symlink to /dev/zero), and owned
 * like run-docker's own config (read-trusted-file.ts): the file picks the engine whose images
 * run and the programs started as credential helpers.
 */
import { join } from 'node:path';
import type { BaseContext, DockerConfigSnapshot } from '../contract/contract';
import { dockerConfigDir } from './docker-config-path';
import type { FileOwner } from './host-platform';
import { readHomeDir } from './read-home-dir';
import { currentUser, UnreadableFile } from './read-private-file';
import { readTrustedFile } from './read-trusted-file';
import { RunDockerError } from './run-docker-error';

type Env = Readonly<Record<string, string | undefined>>;

/** Far above any real config.json (logins, helpers, proxies); a FIFO or /dev/zero never gets read. */
export const DOCKER_CONFIG_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * config.json of `$DOCKER_CONFIG`, else `~/.docker`. Missing: no content. Not a bounded
 * regular file or not a JSON object: no content, and `problem` says why (like the docker CLI,
 * which warns and goes on without it). Writable by someone other than `user` or root: a
 * RunDockerError, as for run-docker's own config.
 */
export async function loadDockerConfig(
  env: Env,
  homeDir: string,
  user: FileOwner | undefined = currentUser(),
): Promise<DockerConfigSnapshot> {
  const dir = dockerConfigDir(env, homeDir);
  const file = join(dir, 'config.json');
  let bytes: Buffer | undefined;
  try {
    bytes = await readTrustedFile(file, { user, maxBytes: DOCKER_CONFIG_LIMIT_BYTES });
  } catch (error) {
    if (error instanceof UnreadableFile && error.reason === 'writable-by-others')
      throw refuseDockerFile(file, error.message, user);
    const problem =
      error instanceof UnreadableFile
        ? error.message
        : `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    return { dir, file, content: undefined, problem };
  }
  if (bytes === undefined) return { dir, file, content: undefined };
  const parsed = parseDockerConfig(bytes);
  return typeof parsed === 'string'
    ? { dir, file, content: undefined, problem: parsed }
    : { dir, file, content: parsed };
}

/**
 * Pure: the file's object, or why it is not one. Never a JSON parser's message: it would
 * quote the file, credentials included. A byte-order mark is refused as the docker CLI
 * refuses it (Go's JSON decoder), so both read the same context; it is named, never printed.
 */
export function parseDockerConfig(bytes: Buffer): Readonly<Record<string, unknown>> | undefined | string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return 'is not valid JSON: it starts with a UTF-8 byte-order mark (U+FEFF), which the docker CLI does not accept either';
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return 'is not valid JSON';
  }
  // `null` decodes to an empty configuration in the docker CLI too.
  if (value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) return 'is not a JSON object';
  return value as Record<string, unknown>;
}

/**
 * The one line for a docker file another user could have written. Root is told how to keep
 * its own files: sudo's -H gives it its own HOME, DOCKER_CONFIG a folder of its own.
 */
export function refuseDockerFile(file: string, why: string, user: FileOwner | undefined): RunDockerError {
  return new RunDockerError(
    `the docker file "${file}" is not used: it chooses the Docker engine whose images run and the credential helpers that are started, and it ${why}`,
    user?.uid === 0
      ? 'As root, use root\'s own docker configuration: run with "sudo -H" (HOME of root), or set DOCKER_CONFIG to a folder only root can write.'
      : 'Make it and its folder yours and writable by you alone (chown "$USER"; chmod go-w), or set DOCKER_CONFIG to a folder of yours.',
  );
}

/** Per process, for payloads under shims that do not hand it over: loaded once per environment. */
const loadedByEnv = new WeakMap<object, Promise<DockerConfigSnapshot>>();

/** The docker config of this call: the shim's (BaseContext.docker, version 1), else loaded here once. */
export function readContextDockerConfig(ctx: Pick<BaseContext, 'env' | 'docker'>): Promise<DockerConfigSnapshot> {
  if (ctx.docker?.version === 1) return Promise.resolve(ctx.docker.config);
  let loaded = loadedByEnv.get(ctx.env);
  if (!loaded) {
    loaded = loadDockerConfig(ctx.env, readHomeDir(ctx.env));
    loadedByEnv.set(ctx.env, loaded);
  }
  return loaded;
}
