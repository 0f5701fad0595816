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
import { createAuthorizedGet, knownOffer, requestHeaders, type AuthorizedGet } from './auth/create-authorized-get';
import { readManifestDigest, readPlatforms } from './manifests/read-platforms';
import type { ImagePlatform } from '../image-platform';
import { openTokenCache, type TokenCache } from './auth/token-store';
import { describeRegistryHost } from './host/describe-registry-host';
import { selectCertsDirs } from './host/read-registry-certs';
import { firstTagPageUrl, listTags, TAG_PAGE_TYPES } from './paging/list-tags';
import { registryBaseUrl, type RegistryHost } from './registry-host';
import { readRegistrySettings } from './registry-settings';
import { createRegistryTransport, type RegistryTransport } from './transport/create-registry-transport';
import { processEarlyAnswers, sendingEarly, takingEarly, type EarlyAnswers } from './transport/early-answers';
import {
  processRegistryBudget,
  withRegistryDeadline,
  type RegistryBudget,
  type RegistryDeadline,
} from './transport/registry-deadline';
import type { ProxySettings } from './transport/select-proxy';
import { sendWithNodeHttp, type SendRequest } from './transport/send-with-node-http';
import { openTlsSessionStore, type TlsSessionStore } from './transport/tls-session-store';

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
  /** Where answers asked for early wait for their request (default: this process's, transport/early-answers.ts). */
  earlyAnswers?: EarlyAnswers;
  /** TLS sessions to resume (default: kept in cacheDir, transport/tls-session-store.ts). */
  tlsSessions?: TlsSessionStore;
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
  /**
   * Sends now the first request listTags(path) will send, with what it will carry (a cached
   * token, or nothing), and keeps the answer for it (transport/early-answers.ts): a later
   * listTags of `path`, in this copy of the locator or another, then waits no round trip for
   * it. Its time is not the call's registry budget (it runs beside another lookup). Never
   * fails; a token is never fetched, nor a credential helper run, for it.
   */
  askEarly(path: string, limits?: ListTagsLimits): void;
  /** The digest of the manifest at `reference` (manifests/read-platforms.ts, readManifestDigest): one request. */
  readDigest(path: string, reference: string): Promise<string | undefined>;
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
  // Only registries asked over https read the file (a plain one that turns out to speak TLS goes without).
  const tlsSessions =
    options.tlsSessions ??
    (host.mode === 'plain' ? undefined : await openTlsSessionStore(options.cacheDir, options.log));
  const login = onceEach(options.login ?? ANONYMOUS);
  const registryOrigin = registryBaseUrl(host);
  const send = options.send ?? sendWithNodeHttp;
  const early = options.earlyAnswers ?? processEarlyAnswers();

  const transportFor = (deadline: RegistryDeadline, how: SendRequest) =>
    createRegistryTransport({
      host,
      proxy: options.proxy,
      timeoutMs: settings.timeoutMs,
      deadline,
      send: how,
      ...(tlsSessions ? { tlsSessions } : {}),
      log: options.log,
    });
  const handlersFor = (path: string, transport: RegistryTransport) => {
    const names = { registryOrigin, registry, repositoryName: `${registry}/${path}` };
    return [
      createBearerAuthHandler({ ...names, transport, cache, login, scope: `repository:${path}:pull` }),
      createBasicAuthHandler({ ...names, login }),
    ];
  };

  const withRepository = <T>(path: string, use: (get: AuthorizedGet, names: RepositoryNames) => Promise<T>) =>
    withRegistryDeadline(options.budget ?? processRegistryBudget(), settings.deadlineMs, (deadline) => {
      const transport = transportFor(deadline, takingEarly(send, early));
      const repositoryName = `${registry}/${path}`;
      const names = { registryOrigin, registry, repositoryName };
      const get = createAuthorizedGet({
        transport,
        handlers: handlersFor(path, transport),
        registry,
        repositoryName,
      });
      return use(get, names);
    });

  const askEarly = (path: string, limits: ListTagsLimits) => {
    // Its own deadline: it overlaps another lookup, whose time the budget already counts.
    const transport = transportFor(
      { at: Date.now() + settings.deadlineMs, totalMs: settings.deadlineMs },
      sendingEarly(send, early),
    );
    const url = firstTagPageUrl(registryOrigin, path, limits.pageSize ?? settings.pageSize);
    const offer = knownOffer(handlersFor(path, transport), new URL(url).origin);
    options.log?.debug(`listing tags early: GET ${url}`);
    transport.send(url, { headers: requestHeaders(TAG_PAGE_TYPES, offer) }).catch(() => undefined);
  };

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
    askEarly: (path, limits = {}) => askEarly(path, limits),
    readDigest: (path, reference) =>
      withRepository(path, (get, { repositoryName }) =>
        readManifestDigest(get, { baseUrl: registryOrigin, path, reference, registry, repositoryName }),
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
