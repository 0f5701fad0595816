/**
 * Authenticated GET requests to one repository of a registry. A request goes out anonymous
 * (or with the authorization that worked before); on 401 the `WWW-Authenticate` challenge is
 * answered once — Bearer: a token for `repository:<path>:pull`; Basic: the stored
 * credentials — and the request is repeated
 * (https://distribution.github.io/distribution/spec/api/#api-version-check,
 * https://distribution.github.io/distribution/spec/auth/token/).
 * Stored credentials go only to the registry's own origin and the token service it names.
 */
import type { DockerConfigSnapshot, Logger } from '../../../contract/contract';
import type { ImageRef } from '../../../common/image-ref';
import { RunDockerError } from '../../../common/run-docker-error';
import {
  basicAuthorization,
  fetchBearerToken,
  processTokenCache,
  tokenKey,
  type TokenCache,
} from './fetch-bearer-token';
import { readCredentialSource } from '../../../common/credentials/read-credential-source';
import { defaultSend, fetchRegistry, type RegistryHttp, type RegistryResponse } from './fetch-registry';
import type { SendRequest } from './send-with-node-http';
import { findChallenge, parseWwwAuthenticate } from './parse-www-authenticate';
import { readDockerCredentials, type RegistryCredentials } from '../../../common/credentials/read-docker-credentials';
import { authenticationRequired, credentialsRefused } from './registry-auth-errors';
import { registryBaseUrl } from './registry-base-url';
import { createProxyFor, readProxySettings } from './read-proxy-settings';
import type { RegistryDeadline } from './registry-deadline';
import type { RegistryTransport } from './choose-registry-transport';

export interface RegistrySessionOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** docker's config.json, loaded once per call (common/load-docker-config.ts): logins, helpers, proxies. */
  dockerConfig: DockerConfigSnapshot;
  timeoutMs: number;
  /** The end of the call's registry budget: no request of this session outlives it. */
  deadline?: RegistryDeadline;
  /** How requests go out (default: node:http/https); tests wrap it to record requests. */
  send?: SendRequest;
  log?: Logger;
  tokenCache?: TokenCache;
  /** Scheme and certs.d material as the engine would use them; default: http for loopback only. */
  transport?: RegistryTransport;
}

export interface RegistrySession {
  /** `http://127.0.0.1:5000`, `https://ghcr.io`, … */
  readonly baseUrl: string;
  /** `registry/path`, for messages. */
  readonly repositoryName: string;
  get(url: string, accept: string): Promise<RegistryResponse>;
}

export function createRegistrySession(
  ref: Pick<ImageRef, 'registry' | 'path'>,
  options: RegistrySessionOptions,
): RegistrySession {
  const baseUrl = options.transport?.baseUrl ?? registryBaseUrl(ref.registry);
  const baseOrigin = new URL(baseUrl).origin;
  const repositoryName = `${ref.registry}/${ref.path}`;
  const http: RegistryHttp = {
    send: options.send ?? defaultSend,
    timeoutMs: options.timeoutMs,
    deadline: options.deadline,
    tls: options.transport?.tls,
  };
  http.registryHost = new URL(baseUrl).host;
  if (options.transport?.insecureHost) http.insecure = { host: options.transport.insecureHost, upgraded: false };
  const cache = options.tokenCache ?? processTokenCache;
  /** Authorization that worked, per origin (pages may come from another origin via Link). */
  const authorizations = new Map<string, string>();
  let credentials: Promise<RegistryCredentials | undefined> | undefined;
  const loadCredentials = () =>
    (credentials ??= readDockerCredentials(ref.registry, {
      dockerConfig: options.dockerConfig,
      env: options.env,
      log: options.log,
    }));
  const loadAccount = () => readCredentialSource(ref.registry, options.dockerConfig);
  const scope = `repository:${ref.path}:pull`;
  let proxies: RegistryHttp['proxyFor'] | undefined;
  const loadProxies = () =>
    (proxies ??= createProxyFor(
      readProxySettings({ env: options.env, dockerConfig: options.dockerConfig }),
      options.log,
    ));

  /** A token the cache holds for the challenge `origin` sent before: the first request carries it. */
  function cachedAuthorization(origin: string): string | undefined {
    const challenge = cache.challengeOf(origin);
    if (!challenge) return undefined;
    const cached = cache.get(tokenKey({ ...challenge, scope, account: loadAccount() }));
    return cached && cached.expiresAt > Date.now() ? `Bearer ${cached.token}` : undefined;
  }

  const send = (url: string, accept: string, authorization: string | undefined) =>
    fetchRegistry(
      url,
      { headers: authorization ? { Accept: accept, Authorization: authorization } : { Accept: accept } },
      http,
    );

  async function get(url: string, accept: string): Promise<RegistryResponse> {
    // Every request of the session (token service included) goes out through `http`.
    http.proxyFor ??= loadProxies();
    const origin = new URL(url).origin;
    const previous = authorizations.get(origin) ?? cachedAuthorization(origin);
    const first = await send(url, accept, previous);
    if (first.status !== 401) {
      if (previous !== undefined) authorizations.set(origin, previous);
      return first;
    }

    const challenges = parseWwwAuthenticate(first.headers.get('www-authenticate'));
    const bearer = findChallenge(challenges, 'bearer');
    const basic = findChallenge(challenges, 'basic');
    const stored = origin === baseOrigin ? await loadCredentials() : undefined;

    if (bearer) {
      const realm = bearer.params.realm;
      if (!realm) throw invalidChallenge(ref.registry, repositoryName);
      // Remembered only for the registry's own origin: a cached token goes nowhere else.
      if (origin === baseOrigin) await cache.rememberChallenge(origin, { realm, service: bearer.params.service });
      const request = {
        realm,
        service: bearer.params.service,
        scope,
        account: loadAccount(),
        credentials: stored,
      };
      const tokenOptions = { http, cache, registry: ref.registry, repositoryName };
      // A token that was just refused (expired, or from the cache) is renewed once.
      let token = await fetchBearerToken(request, { ...tokenOptions, refresh: previous !== undefined });
      let retried = await send(url, accept, `Bearer ${token.token}`);
      if (retried.status === 401 && token.fromCache) {
        token = await fetchBearerToken(request, { ...tokenOptions, refresh: true });
        retried = await send(url, accept, `Bearer ${token.token}`);
      }
      if (retried.status === 401)
        throw stored
          ? credentialsRefused(ref.registry, repositoryName)
          : authenticationRequired(ref.registry, repositoryName);
      authorizations.set(origin, `Bearer ${token.token}`);
      return retried;
    }
    if (basic) {
      if (!stored || !(stored.username || stored.password)) throw authenticationRequired(ref.registry, repositoryName);
      const authorization = basicAuthorization(stored);
      if (previous === authorization) throw credentialsRefused(ref.registry, repositoryName);
      const retried = await send(url, accept, authorization);
      if (retried.status === 401) throw credentialsRefused(ref.registry, repositoryName);
      authorizations.set(origin, authorization);
      return retried;
    }
    if (challenges.length === 0) throw authenticationRequired(ref.registry, repositoryName);
    throw invalidChallenge(ref.registry, repositoryName);
  }

  return { baseUrl, repositoryName, get };
}

function invalidChallenge(registry: string, repositoryName: string): RunDockerError {
  return new RunDockerError(
    `the registry "${registry}" asked for an authentication method run-docker does not support for "${repositoryName}"`,
    'run-docker supports Bearer token and Basic authentication; check the registry address.',
  );
}
