import { hostPathModule, type FileOwner, type HostPlatform } from '../common/host-platform';
import { currentUser, UnreadableFile } from '../common/read-private-file';
import { readTrustedFile } from '../common/read-trusted-file';
import { RunDockerError } from '../common/run-docker-error';
import type { ConfigFile } from './resolve-shim-config';
import { selectConfigDir, selectSystemConfigDirs } from './select-host-folders';

const FILE_NAME = 'config.json';

/** The config file's path and where that came from (`default`, `env XDG_CONFIG_HOME`, `env APPDATA`), for --show-config. */
export function configFileLocation(
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
  platform: HostPlatform = process.platform,
): { path: string; source: string } {
  const folder = selectConfigDir(platform, env, homeDir);
  return { path: hostPathModule(platform).join(folder.dir, FILE_NAME), source: folder.source };
}

/** Where a config file is looked for; `scope` says who must own it (system files: root alone). */
export interface ConfigLocation {
  path: string;
  /** For --show-config: `default`, `env XDG_CONFIG_HOME`, `env XDG_CONFIG_DIRS`. */
  source: string;
  scope: 'user' | 'system';
}

/**
 * Every place a config file may be, highest precedence first: the user's file, then each
 * `$XDG_CONFIG_DIRS/run-docker/config.json` (absolute entries only, as the XDG spec says),
 * then /etc/run-docker/config.json (none of those on Windows: select-host-folders.ts).
 * A key is taken from the first file that sets it.
 */
export function configFileLocations(
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
  platform: HostPlatform = process.platform,
): ConfigLocation[] {
  const path = hostPathModule(platform);
  const system = selectSystemConfigDirs(platform, env).map((folder): ConfigLocation => ({
    path: path.join(folder.dir, FILE_NAME),
    source: folder.source,
    scope: 'system',
  }));
  const unique = system.filter(
    (location, index, all) => all.findIndex((other) => other.path === location.path) === index,
  );
  return [{ ...configFileLocation(env, homeDir, platform), scope: 'user' }, ...unique];
}

/** Every config file, in precedence order; those that do not exist have `content: undefined`. */
export async function readConfigFiles(
  locations: readonly ConfigLocation[],
  user = currentUser(),
): Promise<ConfigFile[]> {
  // A system file holds the trust root of every account on the host: only root may write it.
  return Promise.all(
    locations.map((location) =>
      readConfigFile(location.path, location.scope === 'system' ? ROOT_ONLY : user, location.scope),
    ),
  );
}

const ROOT_ONLY = { uid: 0, gid: 0 };

/** A config file is a few hundred bytes; anything near this is not one. */
const CONFIG_FILE_LIMIT_BYTES = 1024 * 1024;

/**
 * The config file holds the trust root (tiny), so it is read like a cache entry: never
 * blocking (a FIFO), never without end (a symlink to /dev/zero), and never when another
 * user could have written it or swapped it (the file, or the folder holding it). A symlink
 * to a regular file is followed: dotfile managers install config files that way.
 */
export async function readConfigFile(
  path: string,
  user: FileOwner | undefined = currentUser(),
  scope: ConfigLocation['scope'] = 'user',
): Promise<ConfigFile> {
  let text: string;
  try {
    const bytes = await readTrustedFile(path, { user, maxBytes: CONFIG_FILE_LIMIT_BYTES });
    if (bytes === undefined) return { path, content: undefined };
    // A UTF-8 byte-order mark (Windows editors write one) is not part of the JSON.
    text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    if (error instanceof UnreadableFile && error.reason === 'writable-by-others') {
      throw new RunDockerError(
        `the config file "${path}" is not used: it names the images this host trusts, and it ${error.message}`,
        scope === 'system'
          ? 'A system-wide config file must belong to root and be writable by root alone (chown root:root FILE; chmod 644 FILE; the same for its folder), or be removed.'
          : `Make it yours and writable by you alone (chown "$USER" FILE; chmod go-w FILE and its folder), or remove it.`,
      );
    }
    if (error instanceof UnreadableFile) {
      throw new RunDockerError(
        `the config file "${path}" ${error.message}`,
        'Replace it with a JSON file, or remove it to use the defaults.',
      );
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
