/**
 * Which login `docker login` stored for a registry, named without running a credential
 * helper and without any secret: the registry token cache keys tokens by it, so a token is
 * reused only for the login it was issued to, and a warm call costs no helper process.
 *   `helper:<name>`      credHelpers / credsStore (the account inside the helper is not seen:
 *                        a new `docker login` there reuses cached tokens until they expire)
 *   `user:<username>`    auths with a username
 *   `token:<sha256…>`    auths with an identity token only (a hash of the random token)
 *   `anonymous`          nothing stored, or config.json missing or unreadable
 */
import { loadCrypto } from '../lazy-builtins';
import { readFile } from '../fs-async';
import { dockerConfigPath } from '../docker-config-path';
import { findCredentialHelper, findCredentials, type DockerConfigFile } from './read-docker-credentials';

export async function readCredentialSource(
  registry: string,
  options: { env: Readonly<Record<string, string | undefined>>; homeDir: string },
): Promise<string> {
  let config: DockerConfigFile;
  try {
    config = JSON.parse(await readFile(dockerConfigPath(options.env, options.homeDir), 'utf8')) as DockerConfigFile;
  } catch {
    return 'anonymous';
  }
  return typeof config === 'object' && config !== null ? describeCredentialSource(config, registry) : 'anonymous';
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
