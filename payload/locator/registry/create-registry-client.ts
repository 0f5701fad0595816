/**
 * The registry client's one front door: a client for one registry, which lists the tags of
 * its repositories (OCI distribution spec, "Listing Tags":
 * https://distribution.github.io/distribution/spec/api/#listing-image-tags). It describes the
 * registry once as the engine would talk to it (host/), sends every request through one
 * transport that owns the proxy, the TLS settings and the call's deadline (transport/),
 * answers challenges with one handler per scheme (auth/) and walks the pages (paging/).
 * What it needs from docker's configuration (proxy settings, the login) the caller reads and
 * hands over as values.
 */
import type { EngineClient, Logger } from '../../../contract/contract';
import { ANONYMOUS, type RegistryLogin } from './auth/auth-handler';
import { createBasicAuthHandler } from './auth/basic-auth-handler';
import { createBearerAuthHandler } from './auth/bearer-auth-handler';
import { createAuthorizedGet, type AuthorizedGet } from './auth/create-authorized-get';
import { readPlatforms } from './manifests/read-platforms';
import type { ImagePlatform } from '../image-platform';
import { openTokenCache, type TokenCache } from './auth/token-store';
import { describeRegistryHost } from './host/describe-registry-host';
import { selectCertsDirs } from './host/read-registry-certs';
import { listTags } from './paging/list-tags';
import { registryBaseUrl, type RegistryHost } from './registry-host';
import { readRegistrySettings } from './registry-settings';
import { createRegistryTransport } from './transport/create-registry-transport';
import { processRegistryBudget, withRegistryDeadline, type RegistryBudget } from './transport/registry-deadline';
import type { ProxySettings } from './transport/select-proxy';
import type { SendRequest } from './transport/send-with-node-http';

// What a caller needs besides the client itself, through the same door: the reader of the
// proxy settings in docker's config as the call loaded it, and the one error to fall back on.
export type { RegistryLogin };
export { readProxySettings } from './transport/read-proxy-settings';
export { isRegistryUnreachable } from './registry-unreachable-error';

export interface RegistryClientOptions {
  /** RUN_DOCKER_REGISTRY_* (registry-settings.ts) and, with homeDir, the certs.d folders. */
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string;
  /** The engine whose /info says which registries are insecure, and its address (the cache key). */
  engine?: EngineClient;
  engineHost?: string;
  /** The payload cache: tokens and the engine's /info answer are kept there; none: in this process only. */
  cacheDir?: string;
  log?: Logger;
  /** From the environment and docker's config.json, read by the caller (transport/read-proxy-settings.ts). */
  proxy?: ProxySettings;
  /** The login docker stored for this registry, read by the caller; default: anonymous. */
  login?: RegistryLogin;
  /** How the registry is talked to, when the caller knows (tests); default: as the engine would. */
  host?: RegistryHost;
  tokenCache?: TokenCache;
  /** Time registry lookups have spent (default: this process's, transport/registry-deadline.ts). */
  budget?: RegistryBudget;
  /** How one request goes out (default: node:http/https); tests wrap it to record requests. */
  send?: SendRequest;
}

export interface ListTagsLimits {
  /** Tags per page; default RUN_DOCKER_REGISTRY_PAGE_SIZE, else 1000. */
  pageSize?: number;
  /** Bound on the walk; default 200 pages. */
  maxPages?: number;
}

export interface RegistryClient {
  /** How the registry is talked to. */
  readonly host: RegistryHost;
  /** Every tag of the repository at `path`, as the registry sent them, under the call's registry deadline. */
  listTags(path: string, limits?: ListTagsLimits): Promise<string[]>;
  /**
   * The platforms the image `reference` (a tag or digest) of the repository at `path` is for
   * (manifests/read-platforms.ts): one request for an index, two for a single image; under
   * the same deadline and with the same token as the tag list. Undefined when it cannot tell.
   */
  readPlatforms(path: string, reference: string): Promise<ImagePlatform[] | undefined>;
}

export const DEFAULT_MAX_PAGES = 200;

/** `registry` as in an image reference (`docker.io`, `host:port`). */
export async function createRegistryClient(registry: string, options: RegistryClientOptions): Promise<RegistryClient> {
  // A bad setting is one line before anything is asked.
  const settings = readRegistrySettings(options.env);
  const [host, cache] = await Promise.all([
    options.host ??
      describeRegistryHost(registry, {
        engine: options.engine,
        engineHost: options.engineHost,
        cacheDir: options.cacheDir,
        log: options.log,
        certsDirs: selectCertsDirs(options.env, options.homeDir),
      }),
    options.tokenCache ?? openTokenCache(options.cacheDir, options.log),
  ]);
  const login = onceEach(options.login ?? ANONYMOUS);
  const registryOrigin = registryBaseUrl(host);

  const withRepository = <T>(path: string, use: (get: AuthorizedGet, names: RepositoryNames) => Promise<T>) =>
    withRegistryDeadline(options.budget ?? processRegistryBudget(), settings.deadlineMs, (deadline) => {
      const transport = createRegistryTransport({
        host,
        proxy: options.proxy,
        timeoutMs: settings.timeoutMs,
        deadline,
        send: options.send,
        log: options.log,
      });
      const repositoryName = `${registry}/${path}`;
      const names = { registryOrigin, registry, repositoryName };
      const get = createAuthorizedGet({
        transport,
        handlers: [
          createBearerAuthHandler({ ...names, transport, cache, login, scope: `repository:${path}:pull` }),
          createBasicAuthHandler({ ...names, login }),
        ],
        registry,
        repositoryName,
      });
      return use(get, names);
    });

  return {
    host,
    listTags: (path, limits = {}) =>
      withRepository(path, (get, { repositoryName }) =>
        listTags(get, {
          baseUrl: registryOrigin,
          path,
          pageSize: limits.pageSize ?? settings.pageSize,
          maxPages: limits.maxPages ?? DEFAULT_MAX_PAGES,
          registry,
          repositoryName,
          log: options.log,
        }),
      ),
    readPlatforms: (path, reference) =>
      withRepository(path, (get, { repositoryName }) =>
        readPlatforms(get, { baseUrl: registryOrigin, path, reference, registry, repositoryName, log: options.log }),
      ),
  };
}

interface RepositoryNames {
  registryOrigin: string;
  registry: string;
  repositoryName: string;
}

/** The login with each part asked once: a credential helper runs at most once per client. */
function onceEach(login: RegistryLogin): RegistryLogin {
  let account: string | undefined;
  let credentials: ReturnType<RegistryLogin['credentials']> | undefined;
  return {
    account: () => (account ??= login.account()),
    credentials: () => (credentials ??= login.credentials()),
  };
}
