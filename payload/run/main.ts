/**
 * The mini payload: the real `run-docker`. One way through the data:
 * argv → Invocation → image to run + host facts → RunSpec → docker argv → exit code.
 */
import { mkdirSync, statSync } from 'node:fs';
import { isTerminal, onStderr, writeStdout } from '../../common/stdio';
import { loadCrypto } from '../../common/lazy-builtins';
import type { MiniModule, RunContext } from '../../contract/contract';
import { hostPathModule, joinHostPath, type HostPlatform } from '../../common/host-platform';
import { RunDockerError } from '../../common/run-docker-error';
import { isQuietEnv, selectProgressOutput } from '../../common/select-progress-output';
import { buildCompletionScript } from './build-completion-script';
import { buildRunSpec, NOTEBOOK_COMMAND, type RunSpec } from './build-run-spec';
import { formatHelp } from './format-help';
import { formatVersion } from './format-version';
import { readHostFacts, type HostFacts } from './host-facts';
import { DOCKER_USER, readImageUser, type ImageUser } from './image-user';
import type { HostDirSetting, RunOptions } from './invocation';
import { parseInvocation } from './parse-invocation';
import { prepareMappedFolder, type MappedFolder } from './prepare-mapped-folder';
import { DEFAULT_HOST_DIRS } from './run-defaults';
import { formatShellCommand } from '../../common/format-shell-command';
import { isTtyAllocated, renderDockerRunArgs } from './render-docker-run-args';
import { resolveImage, type ImageToRun } from './resolve-image';
import { runDockerCli, type CliCommand } from './run-docker-cli';
import { readHomeDir } from '../../common/read-home-dir';
import { parseProjectImage } from '../project/project-image';
import { checkTagDigest, tagDigestRecordPath } from './tag-digest-record';
import { readEngineCliEnv } from '../../common/engine-cli-setting';
import { findEngineClis } from './find-engine-clis';
import { readEngineMode, type EngineMode } from './read-engine-mode';
import { selectEngineCli, type EngineCliChoice } from './select-engine-cli';
import { podmanInitExists, readPodmanInitPath, selectPodmanInit } from './select-podman-init';
import { checkUserMapping, selectUserMapping } from './select-user-mapping';
import type { RunEngine } from './build-run-spec';
import { describeFileSharing, isHostSocket, type FileSharing } from '../../common/engine/engine-files';
import { readEngineEndpoint } from '../../common/engine/read-engine-endpoint';
import { redactHost, selectContextName } from '../../common/engine/select-engine-endpoint';
import { selectEngineSettings, type EngineSettings } from '../../common/engine/select-engine-settings';
import { parseImageRef } from '../../common/image-ref';
import { readContextDockerConfig } from '../../common/load-docker-config';
import { placeEngineFolders, type EngineFolder } from './place-engine-folders';
import { findMissingEngineFolder, readEngineFiles } from './read-engine-files';

declare const PAYLOAD_PACKAGE_VERSION: string;

/** What an image built the usual way has; assumed only by --dry-run for an image not yet pulled. */
const CONVENTIONAL_DOCKER_USER: ImageUser = { name: DOCKER_USER, uid: 1000, gid: 1000, home: `/home/${DOCKER_USER}` };

export async function main(ctx: RunContext): Promise<number> {
  const invocation = parseInvocation(ctx.argv);
  if (invocation.kind === 'version') {
    writeStdout(formatVersion(ctx, PAYLOAD_PACKAGE_VERSION));
    return 0;
  }
  if (invocation.kind === 'help') {
    writeStdout(formatHelp(ctx.mini.version));
    return 0;
  }
  if (invocation.kind === 'show-config') {
    // The settings are the shim's, and it answers --show-config wherever it can place it for
    // certain (shim/read-shim-flags.ts); here it came after an option's value (or from an
    // older shim, which read it only as the first argument).
    throw new RunDockerError(
      '"--show-config" is answered by the shim, which reads run-docker\'s options only before any option\'s value',
      'Put it first: "run-docker --show-config".',
    );
  }
  if (invocation.kind === 'completion') {
    writeStdout(buildCompletionScript(invocation.shell, ctx.mini.version));
    return 0;
  }
  if (invocation.kind === 'allow-project') {
    writeStdout(`${await loadUseProject().allowProjectOptions(ctx, invocation.dir, readHomeDir(ctx.env))}\n`);
    return 0;
  }
  // `.`: this project's image, its folder the live source, its file's options under the command line's.
  const projectSpec = parseProjectImage(invocation.image);
  const project =
    projectSpec && (await loadUseProject().prepareProjectRun(ctx, projectSpec, readHomeDir(ctx.env), process.cwd()));
  // Read once: decides host path rules and who the container runs as (common/host-platform.ts).
  const platform = process.platform;
  const given = project?.options ?? invocation.options;
  const command = project?.command ?? invocation.command;
  // `--local` after IMAGE belongs to the container; RUN_DOCKER_LOCAL applies everywhere.
  const local = given.local || ctx.env.RUN_DOCKER_LOCAL === '1';
  const quiet = given.quiet || isQuietEnv(ctx.env);
  // Progress goes to stderr: stdout belongs to the container.
  const progress = onStderr(selectProgressOutput({ isTTY: isTerminal(2), env: ctx.env, quiet }));
  // A few local reads; the engine's image list, asked for when the shim started, answers the image.
  const host = readHostFacts(ctx.env, platform);
  const imageText = project?.image ?? invocation.image;
  // Before anything is pulled: a dev run the engine cannot see the source of stops here.
  const side = await readEngineSide(ctx);
  const placed = side.sharing.shares
    ? undefined
    : placeEngineFolders({
        options: given,
        settings: side.settings,
        sharing: side.sharing,
        engineHost: side.host,
        localSourceDir:
          project?.sourceDir ??
          findSourceDir(undefined, host, parseImageRef(imageText, 'image').path.split('/').pop()!),
      });
  if (placed?.notice) ctx.log.warn(placed.notice);
  const options = placed?.options ?? withAbsolutePaths(given, platform);
  const image = await resolveImage({ ...ctx, local }, imageText, { pull: !options.dryRun, progress });
  // A digest given with the image is the user's choice; one the engine reports is checked against the last run.
  if (!imageText.includes('@')) {
    const record = tagDigestRecordPath(ctx.env, host.home);
    await checkTagDigest(record, { ...image, tag: image.version }, !options.dryRun, ctx.log);
  }
  const sourceDir = placed
    ? placed.sourceDir
    : options.hostSrcDir === undefined && project
      ? project.sourceDir
      : findSourceDir(options.hostSrcDir, host, image.name);
  const { choice, engine } = await prepareEngine(ctx, host, options.root);
  const spec = buildRunSpec({
    options: { ...options, local },
    command,
    image,
    host,
    sourceDir,
    imageUser: options.root ? undefined : await requireDockerUser(ctx, image, options.dryRun),
    // node:crypto only for the run that needs a secret.
    notebookToken: command[0] === NOTEBOOK_COMMAND ? loadCrypto().randomBytes(24).toString('hex') : '',
    engine,
    foldersOnEngineHost: placed !== undefined,
  });
  const args = renderDockerRunArgs(spec);
  const cli: CliCommand = { cli: choice.cli, file: choice.file, globalArgs: choice.globalArgs, env: choice.env };
  if (options.dryRun) {
    const notes = project ? project.notes.map((line) => `${line}\n`).join('') : '';
    const assignments = Object.entries(cli.env).map(([name, value]) => `${name}=${value}`);
    // An engine on a network address may be any host: say which, and whether it sees this host's files.
    const engineLine = side.socket ? '' : `# engine ${side.host}: ${describeFileSharing(side.sharing)}\n`;
    writeStdout(`${engineLine}${notes}${formatShellCommand([...assignments, cli.cli, ...cli.globalArgs, ...args])}\n`);
    return 0;
  }
  if (placed) await checkEngineFolders(ctx, side.host, placed.folders);
  else prepareHostFolders(spec, sourceDir, host);
  if (spec.notebookUrl) writeStdout(`run-docker: Jupyter will be at ${spec.notebookUrl}\n`);
  return runDockerCli(
    args,
    { ...ctx.env, ...spec.secretEnv },
    { stdinIsTerminal: host.stdinIsTerminal, ttyAllocated: isTtyAllocated(spec) },
    cli,
    spec.removeAfterExit ? () => removeContainer(ctx, spec.name) : undefined,
  );
}

interface EngineSide {
  /** For messages: never a password. */
  host: string;
  /** A socket on this host (unix, named pipe): its address says where it is. */
  socket: boolean;
  settings: EngineSettings | undefined;
  sharing: FileSharing;
}

/**
 * The engine's address (as the shim reached it; older shims: as the docker CLI would choose
 * it), its settings in run-docker's config (`engines`) and whether it sees this host's files:
 * a socket on this host does without asking (common/engine/engine-files.ts).
 */
async function readEngineSide(ctx: RunContext): Promise<EngineSide> {
  const dockerConfig = await readContextDockerConfig(ctx);
  const engineHost =
    ctx.endpoint?.host ?? ctx.docker?.engineHost ?? (await readEngineEndpoint(ctx.env, dockerConfig)).host;
  const currentContext = dockerConfig.content?.currentContext;
  const context = selectContextName(
    ctx.env,
    typeof currentContext === 'string' ? currentContext : undefined,
    dockerConfig.file,
  )?.name;
  const settings = selectEngineSettings(ctx.configFiles ?? [], { host: engineHost, context });
  const sharing = await readEngineFiles({
    engine: ctx.engine,
    host: engineHost,
    settings,
    cacheDir: ctx.cacheDir,
    log: ctx.log,
  });
  return { host: redactHost(engineHost), socket: isHostSocket(engineHost), settings, sharing };
}

/** The folders named on the engine's host are there, or one line says which is not. */
async function checkEngineFolders(
  ctx: RunContext,
  engineHost: string,
  folders: readonly EngineFolder[],
): Promise<void> {
  const answer = await findMissingEngineFolder(
    ctx.engine,
    folders.map((folder) => folder.path),
  );
  if (!answer.known) {
    ctx.log.debug(
      `the engine did not say whether ${folders.map((folder) => folder.path).join(', ')} exist on its host`,
    );
    return;
  }
  const folder = folders.find((candidate) => candidate.path === answer.missing);
  if (folder === undefined) return;
  throw new RunDockerError(
    `the ${folder.what} "${folder.path}" (from ${folder.from}) is not on the host of the engine at "${engineHost}"`,
    `Create it there (writable by the user the container runs as), or name another with ${folder.from.startsWith('--') ? folder.from : 'its setting'}.`,
  );
}

/** The project file's code (use-project.ts and what it imports), evaluated only by a call that uses `.`. */
function loadUseProject(): typeof import('./use-project') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: a call without "." runs none of it
  return require('./use-project') as typeof import('./use-project');
}

/**
 * The engine that resolved the image runs it too: its mode (rootless or not, read-engine-mode.ts),
 * the CLI that reaches it (select-engine-cli.ts), who the container runs as, and what
 * Podman's --init needs. A warm call asks the engine nothing here.
 */
async function prepareEngine(
  ctx: RunContext,
  host: HostFacts,
  root: boolean,
): Promise<{ mode: EngineMode; choice: EngineCliChoice; engine: RunEngine }> {
  const mode = await readEngineMode({
    engine: ctx.engine,
    env: ctx.env,
    homeDir: host.home,
    // The shim's choice (older shims: the docker config's engine host, or none: chosen again).
    ...(ctx.endpoint
      ? { endpointHost: ctx.endpoint.host }
      : ctx.docker?.version === 1
        ? { endpointHost: ctx.docker.engineHost }
        : {}),
    cacheDir: ctx.cacheDir,
    log: ctx.log,
  });
  const choice = selectEngineCli({
    setting: ctx.cli ?? readEngineCliEnv(ctx.env),
    identity: mode.identity,
    endpoint: ctx.endpoint ?? { host: mode.host, source: 'DOCKER_HOST or the docker context' },
    onPath: findEngineClis(ctx.env, host.platform),
  });
  const userMapping = selectUserMapping(mode, choice.cli);
  const mismatch = checkUserMapping({ mapping: userMapping, mode, hostUid: host.uid, platform: host.platform, root });
  if (mismatch) ctx.log.warn(mismatch);
  // Only an engine on this host reads this host's containers.conf and binaries.
  const init =
    mode.identity.kind === 'podman' && mode.local
      ? selectPodmanInit(await readPodmanInitPath(ctx.env, host.home, mode.rootless), choice.cli, podmanInitExists)
      : {};
  ctx.log.debug(
    `containers start with ${choice.file} (${choice.cli}${choice.removeAfterExit ? ', removed after their exit' : ''}); user ids ${userMapping}${init.initPath ? `; init ${init.initPath}` : ''}`,
  );
  return {
    mode,
    choice,
    engine: {
      userMapping,
      ...(init.initPath ? { initPath: init.initPath } : {}),
      removeAfterExit: choice.removeAfterExit,
    },
  };
}

/** After the CLI has the exit code: the container it left (no --rm), whatever state it is in. */
async function removeContainer(ctx: RunContext, name: string): Promise<void> {
  try {
    await ctx.engine.removeContainer(name);
  } catch (error) {
    // Gone already (a start that failed may have been cleaned up by the engine) is what we wanted.
    if ((error as { statusCode?: number }).statusCode === 404) return;
    ctx.log.warn(
      `the container "${name}" could not be removed (${(error as Error).message.replace(/\s+/g, ' ').trim()}); remove it with "docker rm -f ${name}"`,
    );
  }
}

function withAbsolutePaths(options: RunOptions, platform: HostPlatform): RunOptions {
  const absolute = (setting: HostDirSetting): HostDirSetting =>
    setting.kind === 'dir' ? { kind: 'dir', path: hostPathModule(platform).resolve(setting.path) } : setting;
  return {
    ...options,
    hostDataDir: absolute(options.hostDataDir),
    hostLogDir: absolute(options.hostLogDir),
    hostSrcDir: options.hostSrcDir === undefined ? undefined : hostPathModule(platform).resolve(options.hostSrcDir),
  };
}

/** Whether `path` is a folder; absent or unreadable is not. Synchronous: one local lookup. */
function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `--hostsrcdir`, else `$HOME/work/src/<name>` when it exists (a dev run), else none (prod). */
function findSourceDir(given: string | undefined, host: HostFacts, name: string): string | undefined {
  const candidate = given ?? joinHostPath(host.platform, host.home, ...DEFAULT_HOST_DIRS.src.split('/'), name);
  const isDir = isFolder(candidate);
  if (isDir) return candidate;
  if (given !== undefined) {
    throw new RunDockerError(
      `the source folder "${given}" given by --hostsrcdir is not a folder`,
      'Give an existing folder, or leave --hostsrcdir out.',
    );
  }
  return undefined;
}

async function requireDockerUser(ctx: RunContext, image: ImageToRun, dryRun: boolean): Promise<ImageUser> {
  if (image.id === undefined) {
    if (dryRun) return CONVENTIONAL_DOCKER_USER;
    throw new RunDockerError(`the image "${image.reference}" is not on this host`, 'Run without --dry-run to pull it.');
  }
  const user = await readImageUser(ctx.engine, { id: image.id, reference: image.reference }, ctx.cacheDir, ctx.log);
  if (!user) {
    throw new RunDockerError(
      `the image "${image.reference}" has no user "${DOCKER_USER}" to run as`,
      `Run it as root with --root, or add the user to the image (useradd -m -u 1000 ${DOCKER_USER}).`,
    );
  }
  return user;
}

/**
 * Creates missing data and log folders (only a folder it creates is given to the spec's owner)
 * and, as root, checks the way to each mapped folder, the source folder too
 * (prepare-mapped-folder.ts). Windows has no owners or links to mind: plain mkdir.
 */
function prepareHostFolders(spec: RunSpec, sourceDir: string | undefined, host: HostFacts): void {
  for (const folder of spec.hostDirsToCreate) {
    if (host.platform === 'win32') makeWindowsFolder(folder);
    else prepareMappedFolder(folder, { uid: host.uid, owner: spec.createdDirsOwner, create: true });
  }
  if (sourceDir !== undefined && host.uid === 0 && host.platform !== 'win32')
    prepareMappedFolder({ path: sourceDir, option: '--hostsrcdir' }, { uid: host.uid, create: false });
}

function makeWindowsFolder(folder: MappedFolder): void {
  try {
    mkdirSync(folder.path, { recursive: true });
  } catch (error) {
    throw new RunDockerError(
      `cannot create the folder "${folder.path}" (${(error as NodeJS.ErrnoException).code})`,
      `Create it yourself, or choose another with ${folder.option} (or "no" to map none).`,
    );
  }
}

// The entry must keep the contract's shape.
({ main }) satisfies MiniModule;
