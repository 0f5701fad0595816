/**
 * How one authentication scheme answers a registry's 401 (regclient's auth handlers, one per
 * scheme): the request is sent again with what the handler offers. Bearer fetches a token
 * from the service the challenge names (bearer-auth-handler.ts), Basic sends the stored
 * credentials (basic-auth-handler.ts); create-authorized-get.ts picks one per challenge
 * (https://distribution.github.io/distribution/spec/auth/token/).
 */
import type { RegistryCredentials } from '../../../../common/credentials/read-docker-credentials';
import type { AuthChallenge } from './parse-www-authenticate';

/** An `Authorization` value to try; `fresh` when no cache supplied it (a refusal is then final). */
export interface AuthOffer {
  authorization: string;
  fresh: boolean;
}

export interface AuthHandler {
  /** Lower-case scheme, as parse-www-authenticate.ts names it: `bearer`, `basic`. */
  readonly scheme: string;
  /** What `origin` is likely to accept before it asks (a token cached by an earlier call), if anything. */
  known?(origin: string): AuthOffer | undefined;
  /**
   * What to send after `challenge` from `origin`; `refused` is what that origin just refused.
   * Throws a RunDockerError (authentication required, credentials refused) when it has
   * nothing better to offer, so a request is tried a bounded number of times.
   */
  respond(challenge: AuthChallenge, origin: string, refused: AuthOffer | undefined): Promise<AuthOffer>;
}

/**
 * A registry login as the caller read it (docker's config.json, common/credentials): taken,
 * never looked up here.
 */
export interface RegistryLogin {
  /** Which login tokens are for (read-credential-source.ts): part of the token cache key. Cheap, no secret. */
  account(): string;
  /** The stored credentials, asked for only when a registry wants them (a credential helper may run). */
  credentials(): Promise<RegistryCredentials | undefined>;
}

export const ANONYMOUS: RegistryLogin = { account: () => 'anonymous', credentials: () => Promise.resolve(undefined) };
