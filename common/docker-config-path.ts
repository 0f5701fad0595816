import path from 'node:path';

/**
 * The Docker CLI's config file, where `docker login` stores credentials:
 * `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`
 * (https://docs.docker.com/reference/cli/docker/#configuration-files). In common/ because
 * the payloads read it and the shim's --show-config names it.
 */
export function dockerConfigPath(env: Readonly<Record<string, string | undefined>>, homeDir: string): string {
  return path.join(env.DOCKER_CONFIG || path.join(homeDir, '.docker'), 'config.json');
}
