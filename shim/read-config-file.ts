import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { currentUser, findForeignWriter, readPrivateFile, UnreadableFile } from '../common/read-private-file';
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

/** Another user who may write the folder could replace the file: refused like the file itself. */
async function refuseForeignFolder(path: string, user: { uid: number; gid: number }): Promise<void> {
  const folder = await stat(dirname(path)).catch(() => undefined);
  const writer = folder && findForeignWriter(folder, user);
  // The sticky bit (/tmp) keeps others from replacing what is ours.
  if (writer && (folder.mode & 0o1000) === 0) {
    throw new UnreadableFile(path, 'writable-by-others', `sits in the folder "${dirname(path)}", which can be changed by ${writer}`);
  }
}

/** A config file is a few hundred bytes; anything near this is not one. */
const CONFIG_FILE_LIMIT_BYTES = 1024 * 1024;

/**
 * The config file holds the trust root (tiny), so it is read like a cache entry: never
 * blocking (a FIFO), never without end (a symlink to /dev/zero), and never when another
 * user could have written it or swapped it (the file, or the folder holding it). A symlink
 * to a regular file is followed: dotfile managers install config files that way.
 */
export async function readConfigFile(path: string, user = currentUser()): Promise<ConfigFile> {
  let text: string;
  try {
    await refuseForeignFolder(path, user);
    const bytes = await readPrivateFile(path, { maxBytes: CONFIG_FILE_LIMIT_BYTES, followSymlink: true, writableOnlyBy: user });
    if (bytes === undefined) return { path, content: undefined };
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof UnreadableFile && error.reason === 'writable-by-others') {
      throw new RunDockerError(
        `the config file "${path}" is not used: it names the images this host trusts, and it ${error.message}`,
        `Make it yours and writable by you alone (chown "$USER" FILE; chmod go-w FILE and its folder), or remove it.`,
      );
    }
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
