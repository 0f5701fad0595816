/**
 * Bearer token authentication (https://distribution.github.io/distribution/spec/auth/token/):
 * a token for `repository:<path>:pull` from the service the challenge names
 * (fetch-bearer-token.ts), kept in the token cache (token-store.ts) so that the next call
 * sends it with its first request instead of being challenged again. The stored credentials
 * go to that token service, and the challenge is remembered, for the registry's own origin
 * only: a cached token goes nowhere else.
 */
import type { RegistrySender } from '../registry-request';
import type { AuthHandler, AuthOffer, RegistryLogin } from './auth-handler';
import { fetchBearerToken } from './fetch-bearer-token';
import { authenticationRequired, credentialsRefused, unsupportedChallenge } from './registry-auth-errors';
import { tokenKey, type TokenCache } from './token-store';

export interface BearerAuthHandlerOptions {
  transport: RegistrySender;
  cache: TokenCache;
  login: RegistryLogin;
  /** `repository:<path>:pull` */
  scope: string;
  /** The registry's own origin (registryBaseUrl): the only one whose challenge is remembered and that gets credentials. */
  registryOrigin: string;
  /** For messages: the registry as in image references, and `registry/path`. */
  registry: string;
  repositoryName: string;
  now?: () => number;
}

export function createBearerAuthHandler(options: BearerAuthHandlerOptions): AuthHandler {
  const now = options.now ?? Date.now;
  const { cache, scope, registry, repositoryName } = options;

  return {
    scheme: 'bearer',
    known(origin) {
      const challenge = cache.challengeOf(origin);
      if (!challenge) return undefined;
      const cached = cache.get(tokenKey({ ...challenge, scope, account: options.login.account() }));
      return cached && cached.expiresAt > now() ? { authorization: `Bearer ${cached.token}`, fresh: false } : undefined;
    },

    async respond(challenge, origin, refused): Promise<AuthOffer> {
      const own = origin === options.registryOrigin;
      // A token just fetched was refused: asking again would get the same answer.
      if (refused?.fresh) {
        const stored = own ? await options.login.credentials() : undefined;
        throw stored ? credentialsRefused(registry, repositoryName) : authenticationRequired(registry, repositoryName);
      }
      const realm = challenge.params.realm;
      if (!realm) throw unsupportedChallenge(registry, repositoryName);
      const service = challenge.params.service;
      if (own) await cache.rememberChallenge(origin, { realm, service });
      const key = tokenKey({ realm, service, scope, account: options.login.account() });
      // A refused authorization may have been a cached token: then only a new one will do.
      const cached = refused ? undefined : cache.get(key);
      if (cached && cached.expiresAt > now()) return { authorization: `Bearer ${cached.token}`, fresh: false };
      const credentials = own ? await options.login.credentials() : undefined;
      const token = await fetchBearerToken(
        { realm, service, scope, credentials },
        { transport: options.transport, registry, repositoryName, now },
      );
      await cache.set(key, token);
      return { authorization: `Bearer ${token.token}`, fresh: true };
    },
  };
}
