/**
 * Basic authentication (RFC 7617): the stored username and password, to the registry's own
 * origin only. Nothing is sent before the registry asks.
 */
import type { RegistryCredentials } from '../../../../common/credentials/read-docker-credentials';
import type { AuthHandler, RegistryLogin } from './auth-handler';
import { authenticationRequired, credentialsRefused } from './registry-auth-errors';

export interface BasicAuthHandlerOptions {
  login: RegistryLogin;
  /** The only origin the credentials go to: the registry's own (registryBaseUrl). */
  registryOrigin: string;
  /** For messages: the registry as in image references, and `registry/path`. */
  registry: string;
  repositoryName: string;
}

export function createBasicAuthHandler(options: BasicAuthHandlerOptions): AuthHandler {
  return {
    scheme: 'basic',
    async respond(_challenge, origin, refused) {
      const stored = origin === options.registryOrigin ? await options.login.credentials() : undefined;
      if (!stored || !(stored.username || stored.password))
        throw authenticationRequired(options.registry, options.repositoryName);
      const authorization = basicAuthorization(stored);
      if (refused?.authorization === authorization) throw credentialsRefused(options.registry, options.repositoryName);
      return { authorization, fresh: true };
    },
  };
}

export function basicAuthorization(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}
