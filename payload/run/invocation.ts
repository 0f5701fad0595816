/**
 * What the user asked for, as parsed from argv (parse-invocation.ts). Pure data:
 * argv → Invocation → (with host facts and the resolved image) RunSpec → docker argv.
 */

/**
 * A host folder mapped into the container (`--hostdatadir`, `--hostlogdir`): the default
 * folder under the home (run-defaults.ts), none at all (`no`), or the folder given.
 */
export type HostDirSetting = { kind: 'default' } | { kind: 'none' } | { kind: 'dir'; path: string };

export interface RunOptions {
  /** Only images on this host; no network. */
  local: boolean;
  /** Run as root (home /root) instead of the unprivileged docker-user. */
  root: boolean;
  /** Host and container port for `notebook`. */
  nbPort: number;
  hostDataDir: HostDirSetting;
  hostLogDir: HostDirSetting;
  /** Overrides `$HOME/work/src/<name>` as the source folder (and makes the run a dev run). */
  hostSrcDir: string | undefined;
  /** docker's `--memory` value, e.g. `8g`; undefined = no limit (docker's default). */
  memory: string | undefined;
  /** docker's `--shm-size` value. */
  shmSize: string;
  /** Container name; undefined = `<user>-<YYYYMMDD-HHMMSS>-<random>`. */
  name: string | undefined;
  /** docker's `--restart` policy, e.g. `unless-stopped`. */
  restart: string | undefined;
  detach: boolean;
  /** Print the exact docker command, shell-quoted, and exit 0 without pulling or running. */
  dryRun: boolean;
  /** Quieter: no progress lines (reserved for pull progress). */
  quiet: boolean;
  /**
   * Every `docker run` option the user gave that run-docker does not handle itself, in
   * order, each option normalised to `--long-name` with its value as a separate
   * element when it takes one: `-e A=1` → ['--env', 'A=1']; `--volume=a:b` →
   * ['--volume', 'a:b']; `-it` → ['--interactive', '--tty'].
   */
  dockerArgs: string[];
}

/** Shells `--completion` writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

export type Invocation =
  | { kind: 'help' }
  | { kind: 'version' }
  /** Answered by the shim (shim/read-shim-flags.ts); the payload sees it only where the shim could not. */
  | { kind: 'show-config' }
  | { kind: 'completion'; shell: CompletionShell }
  /** `--allow-project DIR`: the project of DIR may use the options its file widens (docs/project-file.md). */
  | { kind: 'allow-project'; dir: string }
  | {
      kind: 'run';
      options: RunOptions;
      /** IMAGE[:TAG|@DIGEST] exactly as given; `.` and its forms stand for this project (payload/project/project-image.ts). */
      image: string;
      /** COMMAND and ARGs, untouched. Empty: the image's default command. */
      command: string[];
    };
