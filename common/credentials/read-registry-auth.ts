import type { RegistryAuth } from '../pull-image';
import {
  credentialServerUrl,
  readDockerCredentials,
  type CredentialSourceOptions,
  type RegistryCredentials,
} from './read-docker-credentials';

/** The stored credentials for `registry` in the form the engine wants for a pull, if any. */
export async function readRegistryAuth(
  registry: string,
  options: CredentialSourceOptions,
): Promise<RegistryAuth | undefined> {
  const credentials = await readDockerCredentials(registry, options);
  return credentials && toRegistryAuth(credentials, registry);
}

/** An identity token replaces username and password, as in the Docker CLI's AuthConfig. */
export function toRegistryAuth(credentials: RegistryCredentials, registry: string): RegistryAuth {
  const serveraddress = credentialServerUrl(registry);
  return credentials.identityToken
    ? { identitytoken: credentials.identityToken, serveraddress }
    : { username: credentials.username, password: credentials.password, serveraddress };
}
