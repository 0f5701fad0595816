/**
 * Which login `docker login` stored for a registry, named without running a credential
 * helper and without any secret: the registry token cache keys tokens by it, so a token is
 * reused only for the login it was issued to, and a warm call costs no helper process.
 *   `helper:<name>`      credHelpers / credsStore (the account inside the helper is not seen:
 *                        a new `docker login` there reuses cached tokens until they expire)
 *   `user:<username>`    auths with a username
 *   `token:<sha256…>`    auths with an identity token only (a hash of the random token)
 *   `anonymous`          nothing stored, or config.json missing or unusable
 */
import type { DockerConfigSnapshot } from '../../contract/contract';
import { loadCrypto } from '../lazy-builtins';
import {
  findContainersCredentials,
  findContainersHelper,
  findCredentialHelper,
  findCredentials,
  type DockerConfigFile,
  type RegistryCredentials,
} from './read-docker-credentials';
import type { LoginFile } from './read-login-files';

/**
 * The login for `registry` in docker's config.json as loaded for this call
 * (common/load-docker-config.ts), or in `loginFiles` (read-login-files.ts: on Podman, its
 * files first), the first that has one, as readDockerCredentials reads them. `repository`:
 * the repository asked for, for Podman's logins per namespace.
 */
export function readCredentialSource(
  registry: string,
  dockerConfig: DockerConfigSnapshot,
  loginFiles: readonly LoginFile[] = [{ format: 'docker', snapshot: dockerConfig }],
  repository?: string,
): string {
  for (const { format, snapshot } of loginFiles) {
    if (snapshot.content === undefined) continue;
    const source =
      format === 'docker'
        ? describeCredentialSource(snapshot.content, registry)
        : describeContainersSource(snapshot.content, registry, repository);
    if (source !== 'anonymous') return source;
  }
  return 'anonymous';
}

/** Pure: as describeCredentialSource, in a containers-auth.json(5) file (Podman's rules). */
export function describeContainersSource(config: DockerConfigFile, registry: string, repository?: string): string {
  const helper = findContainersHelper(config, registry);
  return helper ? `helper:${helper}` : describeStored(findContainersCredentials(config, registry, repository));
}

/** Pure: the name of the login in `config` for `registry`, as above. */
export function describeCredentialSource(config: DockerConfigFile, registry: string): string {
  const helper = findCredentialHelper(config, registry);
  if (helper) return `helper:${helper}`;
  return describeStored(findCredentials(config, registry));
}

function describeStored(stored: RegistryCredentials | undefined): string {
  if (!stored) return 'anonymous';
  if (stored.username) return `user:${stored.username}`;
  return stored.identityToken
    ? `token:${loadCrypto().createHash('sha256').update(stored.identityToken).digest('hex').slice(0, 16)}`
    : 'anonymous';
}
