/**
 * Pure: the folders of a run on an engine that does not share this host's files
 * (common/engine/engine-files.ts). Bind mounts name folders on the engine's host there, so
 * nothing of this host is mapped by accident:
 * - the live source (a dev run) only from `--hostsrcdir`, a folder on the engine's host; a
 *   source folder found here is refused, since the engine would mount whatever its own host
 *   has under that path, or nothing;
 * - data and log folders only where the user says (`--hostdatadir`, `--hostlogdir`, or
 *   `dataDir`/`logDir` for that engine in the config file), else none, with one line;
 * - nothing is created or given to a user here: the folders are the engine host's own.
 * docs/engine-and-credentials.md, "Engines on another host".
 */
import type { FileSharing } from '../../common/engine/engine-files';
import type { EngineFolderSetting, EngineSettings } from '../../common/engine/select-engine-settings';
import { RunDockerError } from '../../common/run-docker-error';
import { posix } from 'node:path';
import type { HostDirSetting, RunOptions } from './invocation';

/** A folder on the engine's host the run maps, to be checked there before it runs. */
export interface EngineFolder {
  path: string;
  /** `data folder`, `log folder`, `source folder`. */
  what: string;
  /** `--hostdatadir`, or the config entry that gave it. */
  from: string;
}

export interface EngineFolderPlan {
  /** hostDataDir and hostLogDir as `dir` (a path on the engine's host) or `none`; hostSrcDir as given. */
  options: RunOptions;
  /** The source folder on the engine's host (a dev run), or none. */
  sourceDir: string | undefined;
  /** Every folder mapped, to check on the engine's host. */
  folders: EngineFolder[];
  /** One line for the user when data or log folders are left out for want of a setting. */
  notice: string | undefined;
}

export interface PlaceEngineFoldersInput {
  options: RunOptions;
  settings: EngineSettings | undefined;
  sharing: FileSharing;
  /** The engine's address, for messages. */
  engineHost: string;
  /** `~/work/src/<name>` on this host, when it is a folder there (a dev run on a local engine). */
  localSourceDir: string | undefined;
}

export function placeEngineFolders(input: PlaceEngineFoldersInput): EngineFolderPlan {
  const { options, settings, sharing, engineHost } = input;
  const engine = `the engine at "${engineHost}" does not share this host's files (${sharing.why})`;
  const folders: EngineFolder[] = [];
  let sourceDir: string | undefined;
  if (options.hostSrcDir !== undefined) {
    sourceDir = requireEnginePath(options.hostSrcDir, '--hostsrcdir', engine);
    folders.push({ path: sourceDir, what: 'source folder', from: '--hostsrcdir' });
  } else if (input.localSourceDir !== undefined) {
    throw new RunDockerError(
      `${engine}, so the source folder "${input.localSourceDir}" cannot be mapped into a dev run`,
      "Give the project's folder on the engine's host with --hostsrcdir, or run it with an engine on this host.",
    );
  }
  const left: string[] = [];
  const place = (setting: HostDirSetting, fromSettings: EngineFolderSetting | undefined, what: 'data' | 'log') => {
    const option = what === 'data' ? '--hostdatadir' : '--hostlogdir';
    if (setting.kind === 'none') return setting;
    if (setting.kind === 'dir') {
      const path = requireEnginePath(setting.path, option, engine);
      folders.push({ path, what: `${what} folder`, from: option });
      return { kind: 'dir', path } as const;
    }
    if (fromSettings?.kind === 'dir') {
      folders.push({ path: fromSettings.path, what: `${what} folder`, from: settings!.source });
      return fromSettings;
    }
    if (fromSettings === undefined) left.push(what);
    return { kind: 'none' } as const;
  };
  const hostDataDir = place(options.hostDataDir, settings?.dataDir, 'data');
  const hostLogDir = place(options.hostLogDir, settings?.logDir, 'log');
  const notice =
    left.length === 0
      ? undefined
      : `${engine}: no ${left.join(' or ')} folder is mapped (${left.map((what) => (what === 'data' ? 'DATADIR' : 'LOGDIR')).join(' and ')} ${left.length > 1 ? 'are' : 'is'} /tmp); name ${left.length > 1 ? 'folders' : 'one'} on its host with ${left.map((what) => `--host${what}dir`).join(' and ')}, or "${left.map((what) => `${what}Dir`).join('" and "')}" for it under "engines" in the config file`;
  return { options: { ...options, hostDataDir, hostLogDir }, sourceDir, folders, notice };
}

/** A path given for the engine's host: absolute, as that host (Linux) reads it; never resolved here. */
function requireEnginePath(path: string, option: string, engine: string): string {
  if (posix.isAbsolute(path)) return posix.normalize(path).replace(/(.)\/+$/, '$1');
  throw new RunDockerError(
    `${option} "${path}" must be an absolute path: ${engine}, and the folder is named on its host`,
    `Give the folder's full path on the engine's host, e.g. ${option} /srv/me/${option === '--hostsrcdir' ? 'src/app' : option.slice(6, -3)}.`,
  );
}
