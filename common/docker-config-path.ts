import { join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** The docker CLI's configuration folder: `$DOCKER_CONFIG`, else `~/.docker`
 *  (https://docs.docker.com/reference/cli/docker/#configuration-files). Contexts live there too. */
export function dockerConfigDir(env: Env, homeDir: string): string {
  return env.DOCKER_CONFIG || join(homeDir, '.docker');
}

/**
 * The Docker CLI's config file, where `docker login` stores credentials and `docker context
 * use` the current context. In common/ because the shim and the payloads read it, and
 * --show-config names it.
 */
export function dockerConfigPath(env: Env, homeDir: string): string {
  return join(dockerConfigDir(env, homeDir), 'config.json');
}
