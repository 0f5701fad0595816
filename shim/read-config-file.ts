import { isAbsolute, join, resolve } from 'node:path';
import { readPrivateFile, UnreadableFile } from '../common/read-private-file';
import { RunDockerError } from '../common/run-docker-error';
import type { ConfigFile } from './resolve-shim-config';

/** `$XDG_CONFIG_HOME/run-docker/config.json`, default `~/.config/run-docker/config.json`. */
export function configFilePath(env: Readonly<Record<string, string | undefined>>, homeDir: string): string {
  return configFileLocation(env, homeDir).path;
}

/** The config file's path and where that came from (`default` or `env XDG_CONFIG_HOME`), for --show-config. */
export function configFileLocation(env: Readonly<Record<string, string | undefined>>, homeDir: string): { path: string; source: string } {
  // XDG base directory spec: a relative XDG_CONFIG_HOME is invalid and ignored.
  const xdg = env.XDG_CONFIG_HOME;
  return xdg && isAbsolute(xdg)
    ? { path: join(xdg, 'run-docker', 'config.json'), source: 'env XDG_CONFIG_HOME' }
    : { path: join(resolve(homeDir, '.config'), 'run-docker', 'config.json'), source: 'default' };
}

/** A config file is a few hundred bytes; anything near this is not one. */
const CONFIG_FILE_LIMIT_BYTES = 1024 * 1024;

/**
 * The config file holds the trust root (tiny), so it is read like a cache entry: never
 * blocking (a FIFO), never without end (a symlink to /dev/zero). A symlink to a regular
 * file is followed: dotfile managers install config files that way.
 */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    const bytes = await readPrivateFile(path, { maxBytes: CONFIG_FILE_LIMIT_BYTES, followSymlink: true });
    if (bytes === undefined) return { path, content: undefined };
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof UnreadableFile) {
      throw new RunDockerError(`the config file "${path}" ${error.message}`, 'Replace it with a JSON file, or remove it to use the defaults.');
    }
    throw new RunDockerError(
      `cannot read the config file "${path}" (${(error as NodeJS.ErrnoException).code})`,
      'Fix its permissions or remove it to use the defaults.',
    );
  }
  try {
    return { path, content: JSON.parse(text) };
  } catch (error) {
    throw new RunDockerError(
      `the config file "${path}" is not valid JSON (${(error as Error).message})`,
      'Fix it or remove it to use the defaults.',
    );
  }
}
