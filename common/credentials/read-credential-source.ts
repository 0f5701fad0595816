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
import { findCredentialHelper, findCredentials, type DockerConfigFile } from './read-docker-credentials';

/** The login for `registry` in docker's config.json as loaded for this call (common/load-docker-config.ts). */
export function readCredentialSource(registry: string, dockerConfig: DockerConfigSnapshot): string {
  return dockerConfig.content === undefined ? 'anonymous' : describeCredentialSource(dockerConfig.content, registry);
}

/** Pure: the name of the login in `config` for `registry`, as above. */
export function describeCredentialSource(config: DockerConfigFile, registry: string): string {
  const helper = findCredentialHelper(config, registry);
  if (helper) return `helper:${helper}`;
  const stored = findCredentials(config, registry);
  if (!stored) return 'anonymous';
  if (stored.username) return `user:${stored.username}`;
  return stored.identityToken
    ? `token:${loadCrypto().createHash('sha256').update(stored.identityToken).digest('hex').slice(0, 16)}`
    : 'anonymous';
}
