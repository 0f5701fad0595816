/**
 * Registry credentials as `docker login` stores them
 * (https://docs.docker.com/reference/cli/docker/login/#credential-stores), from docker's
 * config.json as loaded once per call (common/load-docker-config.ts), in Docker's order:
 * `credHelpers[host]` > `credsStore` > `auths[host]`. Used for the registry API and for
 * pulls alike, by the shim and by payloads.
 */
import type { DockerConfigSnapshot, Logger } from '../../contract/contract';
import { DOCKER_HUB } from '../image-ref';
import type { LoginFile } from './read-login-files';
import { CredentialHelperFailed, runCredentialHelper, type HelperAnswer } from './run-credential-helper';

export interface RegistryCredentials {
  username: string;
  password: string;
  /** OAuth2 refresh token from `docker login` against a token server; used instead of the
   *  password at the token endpoint (https://distribution.github.io/distribution/spec/auth/oauth/). */
  identityToken?: string;
}

/** The parts of config.json we read. */
export interface DockerConfigFile {
  auths?: Record<string, AuthEntry | null | undefined>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface CredentialSourceOptions {
  /** docker's config.json, loaded once per call. */
  dockerConfig: DockerConfigSnapshot;
  /**
   * Where logins are read, in order (read-login-files.ts: on Podman, Podman's files before
   * docker's); absent: docker's config.json alone.
   */
  loginFiles?: readonly LoginFile[];
  /** The repository asked for (`host:5000/team/app`): a Podman login may be for a namespace of the registry. */
  repository?: string;
  /** The environment a credential helper runs with. */
  env: Readonly<Record<string, string | undefined>>;
  log?: Logger;
  /** How a credential helper is asked (default: run `docker-credential-<name> get`). */
  askHelper?: (helper: string, serverUrl: string) => Promise<HelperAnswer>;
}

/** The index URL `docker login` stores Docker Hub credentials under, and asks helpers for. */
const DOCKER_HUB_SERVER_URL = 'https://index.docker.io/v1/';

/** Docker Hub is stored under its v1 index URL; older logins used other spellings. */
const DOCKER_HUB_KEYS = [DOCKER_HUB_SERVER_URL, 'index.docker.io', 'docker.io', 'registry-1.docker.io'];

/** Credentials for `registry` (as in an image reference: `docker.io`, `ghcr.io`, `127.0.0.1:5000`), if any. */
export async function readDockerCredentials(
  registry: string,
  options: CredentialSourceOptions,
): Promise<RegistryCredentials | undefined> {
  for (const { format, snapshot } of options.loginFiles ?? [{ format: 'docker', snapshot: options.dockerConfig }]) {
    const found =
      format === 'docker'
        ? await readDockerFile(registry, snapshot, options)
        : await readContainersFile(registry, snapshot, options);
    // As Podman: the first file with credentials decides; Docker reads one file only.
    if (found) return found;
  }
  return undefined;
}

/** Docker's order in docker's config.json: a helper that has nothing means nothing (auths is not asked). */
async function readDockerFile(
  registry: string,
  snapshot: DockerConfigSnapshot,
  options: CredentialSourceOptions,
): Promise<RegistryCredentials | undefined> {
  const { file, content, problem } = snapshot;
  // Like the Docker CLI: a missing or broken config file means "no credentials", not a failure.
  if (problem !== undefined) options.log?.warn(`ignoring "${file}": it ${problem}`);
  if (content === undefined) return undefined;
  const config = content as DockerConfigFile;
  const helper = findCredentialHelper(config, registry);
  if (helper) {
    const answer = await askCredentialHelper(helper, registry, file, options);
    if (answer !== 'failed') return answer;
  }
  return findCredentials(config, registry);
}

/**
 * Podman's order in a containers-auth.json(5) file (containers/image `findCredentialsInFile`):
 * `credHelpers[registry]`, else the `auths` entry of the repository, its namespaces, then the
 * registry. No `credsStore` there.
 */
async function readContainersFile(
  registry: string,
  snapshot: DockerConfigSnapshot,
  options: CredentialSourceOptions,
): Promise<RegistryCredentials | undefined> {
  const { file, content, problem } = snapshot;
  if (problem !== undefined) options.log?.warn(`ignoring "${file}": it ${problem}`);
  if (content === undefined) return undefined;
  const config = content as DockerConfigFile;
  const helper = findContainersHelper(config, registry);
  if (helper) {
    const answer = await askCredentialHelper(helper, registry, file, options);
    return answer === 'failed' ? undefined : answer;
  }
  return findContainersCredentials(config, registry, options.repository);
}

async function askCredentialHelper(
  helper: string,
  registry: string,
  file: string,
  options: CredentialSourceOptions,
): Promise<RegistryCredentials | undefined | 'failed'> {
  const askHelper = options.askHelper ?? ((name, url) => runCredentialHelper(name, url, { env: options.env }));
  try {
    const answer = await askHelper(helper, credentialServerUrl(registry));
    options.log?.debug(
      `credential helper "${helper}" ${answer.found ? 'has' : 'has no'} credentials for "${registry}"`,
    );
    return answer.found ? fromHelperAnswer(answer) : undefined;
  } catch (error) {
    if (!(error instanceof CredentialHelperFailed)) throw error;
    // Like a missing config file: carry on without credentials, but say why once.
    options.log?.warn(
      `cannot read the credentials for "${registry}" from ${error.message}; trying without them (configured in "${file}")`,
    );
    return 'failed';
  }
}

/** A containers-auth.json helper is named for the registry exactly (containers/image normalizes keys when it writes them). */
export function findContainersHelper(config: DockerConfigFile, registry: string): string | undefined {
  const helper = isRecord(config.credHelpers) ? config.credHelpers[registry] : undefined;
  return typeof helper === 'string' && helper ? helper : undefined;
}

/**
 * Pure: credentials for `repository` (`host/team/app`; the registry alone when not given) in a
 * containers-auth.json file: the repository's own entry, then each namespace above it, then
 * the registry, then any key naming the same host (`https://host/v1/`), as containers/image does.
 */
export function findContainersCredentials(
  config: DockerConfigFile,
  registry: string,
  repository: string = registry,
): RegistryCredentials | undefined {
  const auths = isRecord(config.auths) ? config.auths : {};
  const keys: string[] = [];
  for (let key = repository; ; key = key.slice(0, key.lastIndexOf('/'))) {
    keys.push(key);
    if (!key.includes('/')) break;
  }
  for (const key of registry === DOCKER_HUB ? [...keys, ...DOCKER_HUB_KEYS] : keys) {
    if (Object.hasOwn(auths, key)) return toCredentials(auths[key]);
  }
  return findCredentials(config, registry);
}

/** The server URL a credential helper stores `registry` under. */
export function credentialServerUrl(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_SERVER_URL : registry;
}

/** A helper's `<token>` user means the secret is an identity token (docker-credential-helpers' convention). */
function fromHelperAnswer(answer: HelperAnswer & { found: true }): RegistryCredentials {
  return answer.username === '<token>'
    ? { username: '', password: '', identityToken: answer.secret }
    : { username: answer.username, password: answer.secret };
}

/** The credential helper Docker would ask for `registry`: `credHelpers[host]`, else `credsStore`. */
export function findCredentialHelper(config: DockerConfigFile, registry: string): string | undefined {
  const helpers = isRecord(config.credHelpers) ? config.credHelpers : {};
  for (const key of candidateKeys(registry)) {
    const helper = helpers[key];
    if (typeof helper === 'string' && helper) return helper;
  }
  for (const [key, helper] of Object.entries(helpers)) {
    if (typeof helper === 'string' && helper && matchesRegistry(key, registry)) return helper;
  }
  return typeof config.credsStore === 'string' && config.credsStore ? config.credsStore : undefined;
}

/** Credentials for `registry` from `auths`: the exact key first, then any key naming the same
 *  host (`https://host/v1/`, `http://host`, …), as the Docker CLI does. */
export function findCredentials(config: DockerConfigFile, registry: string): RegistryCredentials | undefined {
  const auths = isRecord(config.auths) ? config.auths : {};
  for (const key of candidateKeys(registry)) {
    const found = toCredentials(auths[key]);
    if (found) return found;
  }
  for (const [key, entry] of Object.entries(auths)) {
    if (!matchesRegistry(key, registry)) continue;
    const found = toCredentials(entry);
    if (found) return found;
  }
  return undefined;
}

function candidateKeys(registry: string): string[] {
  return registry === DOCKER_HUB ? DOCKER_HUB_KEYS : [registry];
}

function matchesRegistry(key: string, registry: string): boolean {
  const host = toHost(key);
  return registry === DOCKER_HUB ? DOCKER_HUB_KEYS.includes(host) : host === registry.toLowerCase();
}

/** `https://host:5000/v1/` → `host:5000` (Docker's ConvertToHostname). */
function toHost(key: string): string {
  return key
    .replace(/^https?:\/\//i, '')
    .replace(/\/.*/s, '')
    .toLowerCase();
}

function toCredentials(entry: AuthEntry | null | undefined): RegistryCredentials | undefined {
  if (!isRecord(entry)) return undefined;
  let username = typeof entry.username === 'string' ? entry.username : '';
  let password = typeof entry.password === 'string' ? entry.password : '';
  if (typeof entry.auth === 'string' && entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) {
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
  }
  const identityToken =
    typeof entry.identitytoken === 'string' && entry.identitytoken ? entry.identitytoken : undefined;
  if (!username && !password && !identityToken) return undefined;
  return identityToken ? { username, password, identityToken } : { username, password };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
