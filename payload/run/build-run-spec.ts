/**
 * Pure: what to run and how — from the parsed invocation, the resolved image, the host's
 * facts and the folders found on it. No I/O here; main.ts gathers the inputs.
 */
import { engineMapsFileOwnership, formatBindSource, joinHostPath } from '../../common/host-platform';
import { formatUtcStamp } from '../../common/format-utc-stamp';
import type { HostFacts } from './host-facts';
import type { ImageUser } from './image-user';
import type { RunOptions } from './invocation';
import { DEFAULT_HOST_DIRS } from './run-defaults';
import type { MappedFolder } from './prepare-mapped-folder';
export const NOTEBOOK_COMMAND = 'notebook';
const PYTEST_COMMANDS = new Set(['py.test', 'pytest']);

export interface ResolvedImage {
  /** Exactly what `docker run` gets: `repo:tag` or `repo@sha256:…`. */
  reference: string;
  /** `127.0.0.1:5000/team/app`, as the engine names it. */
  repository: string;
  /** The repository's last path component: the project name, `app`. */
  name: string;
  /** The tag (or digest) that runs. */
  version: string;
}

export interface Mount {
  source: string;
  target: string;
}

/**
 * How the engine's user ids relate to the host's (docs/engines.md):
 * - `shared`: a rootful engine, or Docker Desktop's VM: container uids are host uids (Desktop maps them itself);
 * - `keep-id`: rootless Podman run by its own CLI with `--userns=keep-id`: the host user's uid is the same inside;
 * - `root-is-user`: a rootless engine without keep-id (rootless Docker; rootless Podman through the
 *   docker CLI): the container's uid 0 is the host user who runs the engine, every other uid a stranger.
 */
export type UserMapping = 'shared' | 'keep-id' | 'root-is-user';

/** What the engine and the CLI that starts the container change about the run (select-engine-cli.ts). */
export interface RunEngine {
  userMapping: UserMapping;
  /** Podman's `--init-path`, when its configured init is not installed (select-podman-init.ts). */
  initPath?: string;
  /** No `--rm` for a foreground run: run-docker removes the container after the CLI has its exit code. */
  removeAfterExit?: boolean;
}

export interface RunSpec {
  image: string;
  name: string;
  /** `--rm`: the engine removes the container when it ends. */
  remove: boolean;
  /** run-docker removes it after the CLI exits (RunEngine.removeAfterExit), instead of --rm. */
  removeAfterExit: boolean;
  /** `--userns=keep-id` (Podman's CLI, rootless). */
  userns: 'keep-id' | undefined;
  /** `--init-path` (Podman's CLI). */
  initPath: string | undefined;
  detach: boolean;
  interactive: boolean;
  tty: boolean;
  /** `uid:gid` for the container's processes. */
  user: string;
  groupAdd: string[];
  workdir: string;
  /** `[name, value]`; a value of undefined is passed by name only (`-e NAME`), its value
   *  taken from the docker CLI's environment so it never appears in argv or --dry-run. */
  env: [string, string | undefined][];
  mounts: Mount[];
  publish: string[];
  memory: string | undefined;
  shmSize: string;
  restart: string | undefined;
  /** docker run options the user gave, passed on in order. */
  dockerArgs: string[];
  command: string[];
  /** Secrets for the docker CLI's environment (named in `env` without a value). */
  secretEnv: Record<string, string>;
  /** Host folders to create before running (data and log), each with the option that chooses it. */
  hostDirsToCreate: MappedFolder[];
  /** Owner for the folders run-docker creates, when it is not the host user (a root host
   *  running docker-user): otherwise the container could not write into them. */
  createdDirsOwner: { uid: number; gid: number } | undefined;
  /** For `notebook`: what to open in a browser. */
  notebookUrl: string | undefined;
}

export interface RunSpecInput {
  options: RunOptions;
  command: readonly string[];
  image: ResolvedImage;
  host: HostFacts;
  /** The host's source folder for a dev run; undefined for a prod run. */
  sourceDir: string | undefined;
  /** docker-user of the image; required unless options.root. */
  imageUser: ImageUser | undefined;
  /** A fresh random token for `notebook` (unused, and may be empty, for anything else). */
  notebookToken: string;
  /** The engine's user mapping and CLI needs; a rootful Docker engine when absent. */
  engine?: RunEngine;
  /**
   * The engine does not share this host's files (payload/run/place-engine-folders.ts): the
   * data and log folders are paths on its host, taken as they are, and none is created here.
   */
  foldersOnEngineHost?: boolean;
}

export function buildRunSpec(input: RunSpecInput): RunSpec {
  const { options, image, host, sourceDir } = input;
  const identity = chooseIdentity(input);
  const home = identity.home;
  const env: [string, string | undefined][] = [
    ['HOME', home],
    ['USER', identity.userName],
    ['IMAGE_NAME', image.repository],
    ['IMAGE_VERSION', image.version],
    // Windows has no uid to give.
    ...(host.uid === undefined ? [] : [['HOSTUSER', `${host.uid}:${host.gid}`] as [string, string]]),
    ['HOST_UNAME', host.uname],
    ['HOST_WHOAMI', host.user],
  ];
  if (host.timezone) env.push(['TZ', host.timezone]);
  if (options.local) env.push(['DOCKER_LOCAL_MODE', '1']);

  const mounts: Mount[] = [];
  const hostDirsToCreate: MappedFolder[] = [];
  for (const [variable, setting, folder, option] of [
    ['DATADIR', options.hostDataDir, 'data', '--hostdatadir'],
    ['LOGDIR', options.hostLogDir, 'log', '--hostlogdir'],
  ] as const) {
    if (setting.kind === 'none') {
      env.push([variable, '/tmp']);
      continue;
    }
    const target = `${home}/${folder}`;
    if (input.foldersOnEngineHost) {
      if (setting.kind !== 'dir')
        throw new Error('buildRunSpec needs engine-host folders placed (place-engine-folders.ts)');
      mounts.push({ source: setting.path, target });
      env.push([variable, target]);
      continue;
    }
    const source = formatBindSource(
      setting.kind === 'dir'
        ? setting.path
        : joinHostPath(host.platform, host.home, ...DEFAULT_HOST_DIRS[folder].split('/')),
      host.platform,
    );
    hostDirsToCreate.push({ path: source, option });
    mounts.push({ source, target });
    env.push([variable, target]);
  }

  let workdir = home;
  if (sourceDir !== undefined) {
    const source = input.foldersOnEngineHost ? sourceDir : formatBindSource(sourceDir, host.platform);
    mounts.push({ source, target: `${home}/src` });
    env.push(['PYTHONPATH', `${home}/src/src`]);
    workdir = `${home}/src`;
  }
  if (identity.homeIsReadOnly) env.push(['JUPYTER_RUNTIME_DIR', '/tmp/jupyter-runtime']);

  let command = [...input.command];
  const publish: string[] = [];
  const secretEnv: Record<string, string> = {};
  let notebookUrl: string | undefined;
  if (command[0] === NOTEBOOK_COMMAND) {
    const port = options.nbPort;
    command = [
      'jupyter',
      'notebook',
      '--no-browser',
      '--ip=0.0.0.0',
      `--port=${port}`,
      `--notebook-dir=${home}`,
      // Jupyter refuses uid 0 without it: --root, or a rootless engine's uid 0 (the host user).
      ...(identity.user.startsWith('0:') ? ['--allow-root'] : []),
      ...command.slice(1),
    ];
    // Loopback only: a notebook runs arbitrary code for whoever reaches it.
    publish.push(`127.0.0.1:${port}:${port}`);
    env.push(['JUPYTER_TOKEN', undefined]);
    secretEnv.JUPYTER_TOKEN = input.notebookToken;
    notebookUrl = `http://127.0.0.1:${port}/?token=${input.notebookToken}`;
  } else if (command[0] !== undefined && PYTEST_COMMANDS.has(command[0])) {
    // The source is the host's: no .pytest_cache written into it.
    command = [command[0], '-p', 'no:cacheprovider', ...command.slice(1)];
  }

  const keepAfterExit = options.detach && options.restart !== undefined && options.restart !== 'no';
  // A detached run has no CLI waiting for its end: the engine's own --rm it is.
  const removeAfterExit = !keepAfterExit && !options.detach && input.engine?.removeAfterExit === true;
  return {
    image: image.reference,
    name: options.name ?? defaultContainerName(host),
    remove: !keepAfterExit && !removeAfterExit,
    removeAfterExit,
    userns: input.engine?.userMapping === 'keep-id' ? 'keep-id' : undefined,
    initPath: input.engine?.initPath,
    detach: options.detach,
    interactive: !options.detach,
    tty: !options.detach && host.stdinIsTerminal && host.stdoutIsTerminal,
    user: identity.user,
    groupAdd: identity.groupAdd,
    workdir,
    env,
    mounts,
    publish,
    memory: options.memory,
    shmSize: options.shmSize,
    restart: options.restart,
    dockerArgs: options.dockerArgs,
    command,
    secretEnv,
    hostDirsToCreate,
    createdDirsOwner: identity.createdDirsOwner,
    notebookUrl,
  };
}

interface Identity {
  user: string;
  userName: string;
  groupAdd: string[];
  home: string;
  homeIsReadOnly: boolean;
  createdDirsOwner: { uid: number; gid: number } | undefined;
}

/**
 * Who the container runs as. Files it writes into mapped folders must belong to the host
 * user, so on Linux a non-root host user runs as their own uid:gid with docker-user's home
 * and group; a root host user runs as docker-user itself (never as root, unless --root).
 * With Docker Desktop (macOS, Windows) the engine's VM maps the ownership of bind mounts
 * itself: what the container writes is the host user's whoever wrote it, and the host's
 * uid (501 on macOS, none on Windows) and gid (macOS `staff`, 20: `dialout` in Debian) mean
 * nothing inside. So there the container runs as docker-user, with its own home writable.
 */
function chooseIdentity({ options, host, imageUser, engine }: RunSpecInput): Identity {
  if (options.root) {
    return {
      user: '0:0',
      userName: 'root',
      groupAdd: [],
      home: '/root',
      homeIsReadOnly: false,
      createdDirsOwner: undefined,
    };
  }
  if (!imageUser) throw new Error('buildRunSpec needs the image user unless --root');
  const mapped = engineMapsFileOwnership(host.platform);
  if (engine?.userMapping === 'root-is-user' && !mapped) {
    // The one exception to "never root": a rootless engine's uid 0 is the host user who
    // runs it, so what it writes in mapped folders is theirs; any other uid would be a
    // subordinate id, a stranger on the host. Root there holds no privilege the user lacks.
    return {
      user: '0:0',
      userName: imageUser.name,
      groupAdd: [],
      home: imageUser.home,
      homeIsReadOnly: false,
      createdDirsOwner: undefined,
    };
  }
  if (host.uid === 0 || host.uid === undefined || mapped) {
    return {
      user: `${imageUser.uid}:${imageUser.gid}`,
      userName: imageUser.name,
      groupAdd: [],
      home: imageUser.home,
      homeIsReadOnly: false,
      // Folders a Linux root creates would be root's, and docker-user could not write them.
      createdDirsOwner: mapped ? undefined : { uid: imageUser.uid, gid: imageUser.gid },
    };
  }
  return {
    user: `${host.uid}:${host.gid}`,
    userName: imageUser.name,
    groupAdd: host.gid === imageUser.gid ? [] : [String(imageUser.gid)],
    home: imageUser.home,
    homeIsReadOnly: host.uid !== imageUser.uid,
    createdDirsOwner: undefined,
  };
}

/** `<user>-<YYYYMMDD-HHMMSS>-<random>`, within docker's name alphabet. */
export function defaultContainerName(host: Pick<HostFacts, 'user' | 'now' | 'uniqueSuffix'>): string {
  const stamp = formatUtcStamp(host.now);
  const user = host.user.replace(/[^a-zA-Z0-9_.-]/g, '_').replace(/^[^a-zA-Z0-9]+/, '') || 'user';
  return `${user}-${stamp}-${host.uniqueSuffix}`;
}
