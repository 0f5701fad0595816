/**
 * Pure: where run-docker keeps its config, cache and state on each platform, and where it
 * looks for system-wide config files. `source` says where a choice came from (--show-config).
 *
 * - Linux and other POSIX hosts: the XDG base directory spec (~/.config, ~/.cache,
 *   ~/.local/state; XDG_CONFIG_DIRS and /etc/run-docker for the system).
 * - macOS: the config and the state stay XDG-style (~/.config/run-docker), as the GitHub
 *   CLI and git keep theirs, so a laptop and a Linux server share one set of instructions and
 *   dotfiles; the cache goes to ~/Library/Caches, where macOS expects caches (Time Machine
 *   skips it). /etc/run-docker applies as on Linux: macOS has root-owned /etc too.
 * - Windows: %APPDATA%\run-docker for the config (it roams with the user, like the docker CLI's
 *   and the GitHub CLI's), %LOCALAPPDATA%\run-docker\cache and ...\state (this machine's only;
 *   separate folders, so clearing the cache keeps the state). No system-wide file: its
 *   writers would be set by ACLs, which run-docker cannot check (host-platform.ts), and
 *   %ProgramData% lets every user create folders.
 * An absolute XDG_CONFIG_HOME / XDG_CACHE_HOME / XDG_STATE_HOME wins on every platform.
 */
import { hostPathModule, type HostPlatform } from '../common/host-platform';

type Env = Readonly<Record<string, string | undefined>>;

export interface HostFolder {
  dir: string;
  /** `default`, `env XDG_CONFIG_HOME`, `env APPDATA`, … */
  source: string;
}

const NAME = 'run-docker';

/** An absolute folder from the environment variable `name`, else undefined. */
function fromEnv(env: Env, name: string, platform: HostPlatform): string | undefined {
  const value = env[name];
  // XDG base directory spec: a relative path is invalid and ignored (and so for Windows' own).
  return value && hostPathModule(platform).isAbsolute(value) ? value : undefined;
}

/** A Windows known folder: from its variable, else where Windows puts it in the profile. */
function windowsFolder(env: Env, name: 'APPDATA' | 'LOCALAPPDATA', homeDir: string): HostFolder {
  const set = fromEnv(env, name, 'win32');
  if (set) return { dir: set, source: `env ${name}` };
  return {
    dir: hostPathModule('win32').join(homeDir, 'AppData', name === 'APPDATA' ? 'Roaming' : 'Local'),
    source: 'default',
  };
}

function select(
  platform: HostPlatform,
  env: Env,
  homeDir: string,
  xdgName: string,
  posixDefault: string[],
  darwinDefault?: string[],
  windows?: { known: 'APPDATA' | 'LOCALAPPDATA'; sub: string[] },
): HostFolder {
  const path = hostPathModule(platform);
  const xdg = fromEnv(env, xdgName, platform);
  if (xdg) return { dir: path.join(xdg, NAME), source: `env ${xdgName}` };
  if (platform === 'win32' && windows) {
    const known = windowsFolder(env, windows.known, homeDir);
    return { dir: path.join(known.dir, NAME, ...windows.sub), source: known.source };
  }
  const parts = platform === 'darwin' && darwinDefault ? darwinDefault : posixDefault;
  return { dir: path.join(path.resolve(homeDir, ...parts), NAME), source: 'default' };
}

/** The folder of the user's config file. */
export function selectConfigDir(platform: HostPlatform, env: Env, homeDir: string): HostFolder {
  return select(platform, env, homeDir, 'XDG_CONFIG_HOME', ['.config'], undefined, { known: 'APPDATA', sub: [] });
}

/** The cache root (payloads, the mini's cache). */
export function selectCacheDir(platform: HostPlatform, env: Env, homeDir: string): HostFolder {
  return select(platform, env, homeDir, 'XDG_CACHE_HOME', ['.cache'], ['Library', 'Caches'], {
    known: 'LOCALAPPDATA',
    sub: ['cache'],
  });
}

/** The state folder (the record of mini versions run). */
export function selectStateDir(platform: HostPlatform, env: Env, homeDir: string): HostFolder {
  return select(platform, env, homeDir, 'XDG_STATE_HOME', ['.local', 'state'], undefined, {
    known: 'LOCALAPPDATA',
    sub: ['state'],
  });
}

/** The system-wide config folders, highest precedence first: absolute XDG_CONFIG_DIRS entries, then /etc/run-docker; none on Windows. */
export function selectSystemConfigDirs(platform: HostPlatform, env: Env): HostFolder[] {
  if (platform === 'win32') return [];
  const path = hostPathModule(platform);
  const fromXdg = (env.XDG_CONFIG_DIRS ?? '')
    .split(':')
    .filter((dir) => path.isAbsolute(dir))
    .map((dir) => ({ dir: path.join(dir, NAME), source: 'env XDG_CONFIG_DIRS' }));
  return [...fromXdg, { dir: `/etc/${NAME}`, source: 'default' }];
}
