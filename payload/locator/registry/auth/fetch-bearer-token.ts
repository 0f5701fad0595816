/**
 * Gets a bearer token from the token service a registry's challenge names.
 * Token auth: https://distribution.github.io/distribution/spec/auth/token/ — GET
 * `realm?service=…&scope=…`, with Basic credentials when we have some, anonymous otherwise;
 * the answer's `token` (or its OAuth2 alias `access_token`) is valid for `expires_in`
 * seconds, 60 if absent. An identity token from `docker login` is an OAuth2 refresh token,
 * exchanged by POST instead: https://distribution.github.io/distribution/spec/auth/oauth/.
 */
import { RunDockerError } from '../../../../common/run-docker-error';
import type { RegistryCredentials } from '../../../../common/credentials/read-docker-credentials';
import type { RegistryRequest, RegistrySender } from '../registry-request';
import { authenticationRequired, credentialsRefused } from './registry-auth-errors';
import { basicAuthorization } from './basic-auth-handler';
import {
  isServerFailure,
  registryAnswerUnreadable,
  registryFailing,
  registryRateLimited,
} from '../registry-unreachable-error';
import type { CachedToken } from './token-store';

export interface TokenRequest {
  realm: string;
  service?: string;
  /** e.g. `repository:team/app:pull` */
  scope: string;
  /** Sent as Basic, or as the refresh token when it is an identity token; anonymous without. */
  credentials?: RegistryCredentials;
}

export interface FetchBearerTokenOptions {
  transport: RegistrySender;
  /** `registry/path`, for messages. */
  repositoryName: string;
  /** Registry host, for the `docker login` hint. */
  registry: string;
  now?: () => number;
}

const DEFAULT_EXPIRES_IN_S = 60;
/** Renew a little early so a token does not expire between the cache and the registry. */
const EXPIRY_MARGIN_MS = 5_000;

/** A new token for `request`, and until when it may be used. */
export async function fetchBearerToken(request: TokenRequest, options: FetchBearerTokenOptions): Promise<CachedToken> {
  const now = options.now ?? Date.now;
  let realm: URL;
  try {
    realm = new URL(request.realm);
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new TypeError('not http(s)');
  } catch {
    throw new RunDockerError(
      `the registry "${options.registry}" named an invalid token service "${request.realm.slice(0, 200)}"`,
      'Check the registry address; the registry itself may be misconfigured.',
    );
  }

  const response = await (request.credentials?.identityToken
    ? options.transport.send(realm.toString(), refreshTokenRequest(request, request.credentials.identityToken))
    : options.transport.send(withQuery(realm, request).toString(), basicTokenRequest(request.credentials)));

  if (response.status === 401 || response.status === 403) {
    throw request.credentials
      ? credentialsRefused(options.registry, options.repositoryName)
      : authenticationRequired(options.registry, options.repositoryName);
  }
  if (response.status === 429) throw registryRateLimited(options.registry, response.headers.get('retry-after'));
  // The token service is part of the registry as far as the user is concerned.
  if (isServerFailure(response.status)) throw registryFailing(options.registry, response.status);
  if (response.status !== 200) {
    throw new RunDockerError(
      `the token service of registry "${options.registry}" answered HTTP ${response.status} for "${options.repositoryName}"`,
      'Try again later; if it persists, check the registry.',
    );
  }
  const body = parseTokenBody(response.text);
  if (!body) {
    throw registryAnswerUnreadable(
      options.registry,
      `the token service of registry "${options.registry}" sent no usable token for "${options.repositoryName}"`,
      'no token in its answer',
    );
  }
  // issued_at (RFC 3339) when the service sends it: a token is counted from when it was
  // made, not from when it arrived; our own clock when it is absent or unreadable.
  const issuedAt = Math.min(body.issuedAt ?? now(), now());
  return { token: body.token, expiresAt: issuedAt + body.expiresIn * 1000 - EXPIRY_MARGIN_MS };
}

function withQuery(realm: URL, request: TokenRequest): URL {
  const url = new URL(realm);
  if (request.service) url.searchParams.set('service', request.service);
  url.searchParams.set('scope', request.scope);
  return url;
}

function basicTokenRequest(credentials: RegistryCredentials | undefined): RegistryRequest {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (credentials && (credentials.username || credentials.password))
    headers.Authorization = basicAuthorization(credentials);
  return { method: 'GET', headers };
}

function refreshTokenRequest(request: TokenRequest, identityToken: string): RegistryRequest {
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: identityToken,
    client_id: 'run-docker',
  });
  if (request.service) form.set('service', request.service);
  form.set('scope', request.scope);
  return {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  };
}

function parseTokenBody(text: string): { token: string; expiresIn: number; issuedAt?: number } | undefined {
  let body: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const token = typeof body.token === 'string' && body.token ? body.token : body.access_token;
  // Printable ASCII only: it goes into an Authorization header.
  if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token)) return undefined;
  const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_EXPIRES_IN_S;
  const issuedAt = typeof body.issued_at === 'string' ? Date.parse(body.issued_at) : Number.NaN;
  return Number.isFinite(issuedAt) ? { token, expiresIn, issuedAt } : { token, expiresIn };
}
