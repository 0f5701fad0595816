import path from 'node:path';

/** The docker CLI's configuration folder: `$DOCKER_CONFIG`, else `~/.docker`
 *  (https://docs.docker.com/reference/cli/docker/#configuration-files). */
export function dockerConfigDir(env: Readonly<Record<string, string | undefined>>, homeDir: string): string {
  return env.DOCKER_CONFIG || path.join(homeDir, '.docker');
}
