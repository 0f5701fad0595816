/**
 * Authenticated GET requests to one repository of a registry. A request goes out anonymous,
 * or with what worked before for its origin, or with what a handler knows the origin accepts
 * (a cached token); on 401 the `WWW-Authenticate` challenge is answered by the handler of
 * its scheme (auth-handler.ts: Bearer first, then Basic) and the request is sent again, until
 * the handler has nothing better to offer
 * (https://distribution.github.io/distribution/spec/api/#api-version-check).
 */
import type { RegistryResponse, RegistrySender } from '../registry-request';
import type { AuthHandler, AuthOffer } from './auth-handler';
import { parseWwwAuthenticate, type AuthChallenge } from './parse-www-authenticate';
import { authenticationRequired, unsupportedChallenge } from './registry-auth-errors';

export type AuthorizedGet = (url: string, accept: string) => Promise<RegistryResponse>;

export interface AuthorizedGetOptions {
  transport: RegistrySender;
  /** In order of preference. */
  handlers: readonly AuthHandler[];
  /** For messages: the registry as in image references, and `registry/path`. */
  registry: string;
  repositoryName: string;
}

/** Handlers refuse to offer again what was refused; this only bounds a registry that keeps changing its challenge. */
const MAX_CHALLENGES = 4;

export function createAuthorizedGet(options: AuthorizedGetOptions): AuthorizedGet {
  const { transport, handlers, registry, repositoryName } = options;
  /** The authorization that worked, per origin (pages may come from another origin via Link). */
  const worked = new Map<string, AuthOffer>();

  const send = (url: string, accept: string, offer: AuthOffer | undefined) =>
    transport.send(url, { headers: requestHeaders(accept, offer) });

  return async (url, accept) => {
    const origin = new URL(url).origin;
    let offer = worked.get(origin) ?? knownOffer(handlers, origin);
    let answer = await send(url, accept, offer);
    for (let challenged = 0; answer.status === 401; challenged++) {
      const challenges = parseWwwAuthenticate(answer.headers.get('www-authenticate'));
      if (challenges.length === 0 || challenged === MAX_CHALLENGES)
        throw authenticationRequired(registry, repositoryName);
      const [handler, challenge] = pick(challenges);
      offer = await handler.respond(challenge, origin, offer);
      answer = await send(url, accept, offer);
    }
    if (offer) worked.set(origin, { authorization: offer.authorization, fresh: false });
    return answer;
  };

  function pick(challenges: AuthChallenge[]): [AuthHandler, AuthChallenge] {
    for (const handler of handlers) {
      const challenge = challenges.find((c) => c.scheme === handler.scheme);
      if (challenge) return [handler, challenge];
    }
    throw unsupportedChallenge(registry, repositoryName);
  }
}

/** The headers of a GET sent with `offer` (none: anonymous). */
export function requestHeaders(accept: string, offer: AuthOffer | undefined): Record<string, string> {
  return offer ? { Accept: accept, Authorization: offer.authorization } : { Accept: accept };
}

/** What the first request to `origin` carries: what a handler knows it accepts (a cached token), else nothing. */
export function knownOffer(handlers: readonly AuthHandler[], origin: string): AuthOffer | undefined {
  for (const handler of handlers) {
    const known = handler.known?.(origin);
    if (known) return known;
  }
  return undefined;
}
