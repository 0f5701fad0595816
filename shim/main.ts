/**
 * The installed `run-docker` command: reads the process once, runs the shim, exits.
 * Build-time constants come from scripts/build.mjs.
 */
import { basename, join } from 'node:path';
import type { BuildModule, Logger, MiniModule } from '../contract/contract';
import { dockerConfigPath } from '../common/docker-config-path';
import { createEngineClient } from '../common/engine/create-engine-client';
import {
  choosePodmanFallback,
  findOnPath,
  probeSocket,
  type FoundEndpoint,
  type PodmanFallback,
} from '../common/engine/find-podman-endpoint';
import { DEFAULT_ENGINE_TIMEOUT_MS } from '../common/engine/light-engine-client';
import { readEngineEndpoint } from '../common/engine/read-engine-endpoint';
import { loadDockerConfig } from '../common/load-docker-config';
import {
  plainUnixSocketPath,
  redactHost,
  selectContextName,
  type EngineEndpoint,
} from '../common/engine/select-engine-endpoint';
import { describeFileSharing, isHostSocket, readEngineFilesRecord } from '../common/engine/engine-files';
import { selectEngineSettings } from '../common/engine/select-engine-settings';
import type { DockerConfigSnapshot } from '../contract/contract';
import { startPodmanService, type PodmanService } from '../common/engine/start-podman-service';
import { readPositiveInteger } from '../common/read-positive-integer';
import { readHomeDir } from '../common/read-home-dir';
import { currentUser } from '../common/read-private-file';
import { isUserFacingError } from '../common/run-docker-error';
import { isTerminal, onStderr, writeStdout } from '../common/stdio';
import { CodeCaches, type LoadedShimCode } from './code-cache';
import { compilePayloadCached } from './compile-payload';
import { createLogger } from './create-logger';
import { ImageIndexFile } from './image-index-file';
import { locateCacheRoot, locateStateDir } from './locate-own-folder';
import { configFileLocations, readConfigFiles } from './read-config-file';
import { readShimFlags } from './read-shim-flags';
import { describeFailure } from './report-failure';
import { formatRepository } from '../common/image-ref';
import { computeHostBucket } from './host-bucket';
import { generatedHostIdPath, MACHINE_ID_FILE, readHostId } from './read-host-id';
import { EMPTY_RELEASE_STATE, readReleaseState, releaseStateFile } from './release-state';
import { describeTagPinnedTiny, resolveShimConfig, type ShimConfig } from './resolve-shim-config';
import { runShim, type ShimCommand } from './run-shim';
import { selectShimProgress } from './select-shim-progress';
import { buildConfigRows, formatConfigRows, type ConfigFacts, type ReleaseRowFacts } from './show-config';
import { findProjectFile, hasProjectTableHeader } from '../common/find-project-file';

declare const SHIM_VERSION: string;
/** Empty when not set at build time: no default (resolve-shim-config.ts). */
declare const DEFAULT_TINY: string;
declare const DEFAULT_MINI: string;
/** The run payload of this build (payload/run), gzip + base64: decompressed and compiled only
 *  when a call runs it, so a call that runs a mini pays nothing for it. */
declare const BUILT_IN_RUN_PAYLOAD: string;
declare const BUILT_IN_RUN_SHA256: string;
/** The build payload of this build (payload/build-docker), the same way. */
declare const BUILT_IN_BUILD_PAYLOAD: string;
declare const BUILT_IN_BUILD_SHA256: string;

/**
 * Set by shim/loader.ts, the head of the installed file, which compiles this bundle with its
 * code cache (code-cache.ts); undefined when the bundle runs on its own (tests, a single
 * executable). In the installed file, the bundle's large strings read as `shimLoader.blob(i)`
 * (scripts/build.mjs puts those calls in their place: shim/installed-shim.ts).
 */
declare const shimLoader: { code: LoadedShimCode; blob: (index: number) => string } | undefined;

const DEFAULTS = { tiny: DEFAULT_TINY || undefined, mini: DEFAULT_MINI || undefined };

/** A payload built into the shim (gzip + base64), compiled with its code cache; its name in stack traces sits beside the shim's bundle. */
function loadBuiltIn(packed: string, sha256: string, file: string, codeCaches: CodeCaches): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: node:zlib only when a built-in payload runs
  const { gunzipSync } = require('node:zlib') as typeof import('node:zlib');
  const source = gunzipSync(Buffer.from(packed, 'base64')).toString('utf8');
  return compilePayloadCached(source, join(__dirname, 'built-in', file), {
    name: `built-in-${file.replace(/\.js$/, '')}`,
    sha256,
    caches: codeCaches,
  });
}

const loadBuiltInRun = (codeCaches: CodeCaches) =>
  loadBuiltIn(BUILT_IN_RUN_PAYLOAD, BUILT_IN_RUN_SHA256, 'run.js', codeCaches) as MiniModule;
/** The built-in build payload (build-docker). */
const loadBuiltInBuild = (codeCaches: CodeCaches) =>
  loadBuiltIn(BUILT_IN_BUILD_PAYLOAD, BUILT_IN_BUILD_SHA256, 'build.js', codeCaches) as BuildModule;

/**
 * `build-docker` is this same shim under a second name (a package.json bin, or a link made by
 * scripts/install-shim): the name it was started under picks the mini's build payload.
 * docs/decisions/build-docker-is-a-second-name.md says why not a subcommand.
 */
function selectCommand(scriptPath: string | undefined): ShimCommand {
  return /^build-docker(?:\.c?js)?$/.test(basename(scriptPath ?? '')) ? 'build' : 'run';
}

async function main(): Promise<number> {
  const env = { ...process.env };
  // Node's deprecation notices about library internals (docker-modem's url.parse) are not
  // the user's business; one line per failure is the promise. Shown with RUN_DOCKER_DEBUG.
  if (!env.RUN_DOCKER_DEBUG) process.noDeprecation = true;
  const log = createLogger(env, (line) => process.stderr.write(`${line}\n`));
  const argv = process.argv.slice(2);
  let endpoint: FoundEndpoint | undefined;
  let service: PodmanService | undefined;
  try {
    const homeDir = readHomeDir(env);
    if (env.HOME !== homeDir) {
      // Corrected once here, so payloads (old ones too) and the docker CLI they start see it.
      log.debug(`HOME "${env.HOME ?? ''}" is not an absolute path; using "${homeDir}" from the user database`);
      env.HOME = homeDir;
    }
    // The shim's own flags, read once for the call (read-shim-flags.ts).
    const flags = readShimFlags(argv);
    if (flags.showConfig) {
      writeStdout(await showConfig(env, homeDir, log));
      return 0;
    }
    // docker's config.json, read once for the call: the engine, then logins and proxies (payloads get it too).
    const dockerConfig = await loadDockerConfig(env, homeDir);
    // The engine the docker CLI would use: DOCKER_HOST, else the docker context; with
    // neither and no Docker socket this user can use, Podman's (find-podman-endpoint.ts).
    endpoint = await readEngineEndpoint(env, dockerConfig);
    const fallback = choosePodmanFallback(endpoint, podmanFacts(env));
    if (fallback.kind === 'socket') endpoint = fallback.endpoint;
    if (fallback.kind === 'service') {
      const readyWithinMs = readPositiveInteger(env, 'RUN_DOCKER_ENGINE_TIMEOUT_MS') ?? DEFAULT_ENGINE_TIMEOUT_MS;
      service = await startPodmanService(fallback.podmanPath, fallback.why, env, readyWithinMs);
      endpoint = service.endpoint;
    }
    log.debug(`engine ${endpoint.host} (${endpoint.source})`);
    const loaded = typeof shimLoader === 'undefined' ? undefined : shimLoader.code;
    if (loaded)
      log.debug(`shim code cache ${loaded.accepted ? 'used' : 'not used'} (${loaded.cacheFile ?? 'no cache folder'})`);
    const codeCaches = new CodeCaches(process.getuid?.(), loaded);
    const imageIndex = service ? undefined : openImageIndex(endpoint, env, log);
    const exitCode = await runShim({
      call: { argv, flags, env, homeDir, command: selectCommand(process.argv[1]) },
      shim: {
        version: SHIM_VERSION,
        defaults: DEFAULTS,
        builtInRun: () => loadBuiltInRun(codeCaches),
        builtInBuild: () => loadBuiltInBuild(codeCaches),
      },
      engine: {
        client: createEngineClient(endpoint, env, imageIndex),
        endpoint: {
          host: redactHost(endpoint.host),
          source: endpoint.source,
          ...(endpoint.found ? { found: endpoint.found } : {}),
        },
        docker: { version: 1, config: dockerConfig, engineHost: endpoint.host },
      },
      log,
      // Progress goes to stderr: stdout belongs to the container.
      progress: onStderr(selectShimProgress(flags, env, isTerminal(2))),
      codeCaches,
      ...(imageIndex ? { imageIndex } : {}),
    });
    await codeCaches.flush(log);
    await imageIndex?.flush();
    return exitCode;
  } catch (error) {
    const failure = describeFailure(error, env, endpoint);
    for (const line of failure.lines) process.stderr.write(`${line}\n`);
    return failure.exitCode;
  } finally {
    // Gone before run-docker exits: nothing it started outlives the call.
    await service?.stop();
  }
}

/**
 * The image index for an engine on this host's clock (a unix socket on Linux: the events'
 * `until` is this host's time), kept in the cache root runShim judges; RUN_DOCKER_IMAGE_INDEX=0
 * turns it off.
 */
function openImageIndex(
  endpoint: EngineEndpoint,
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
): ImageIndexFile | undefined {
  const socket = plainUnixSocketPath(endpoint.host);
  if (process.platform !== 'linux' || socket === undefined || env.RUN_DOCKER_IMAGE_INDEX === '0') return undefined;
  return new ImageIndexFile(socket, log);
}

/** What the Podman fallback looks at: this user, its runtime folder, the sockets, `podman` on PATH. */
function podmanFacts(env: Readonly<Record<string, string | undefined>>) {
  return {
    platform: process.platform,
    uid: process.getuid?.(),
    env,
    probe: probeSocket,
    findPodman: () => findOnPath('podman', env),
  };
}

/** The engine --show-config names: where a call would go, without starting anything. */
function describeFallback(endpoint: EngineEndpoint, fallback: PodmanFallback): { host: string; source: string } {
  if (fallback.kind === 'socket') return { host: fallback.endpoint.host, source: fallback.endpoint.source };
  if (fallback.kind === 'service')
    return {
      host: `${fallback.podmanPath} system service`,
      source: `started for each call: ${fallback.why}, no Podman socket`,
    };
  return { host: redactHost(endpoint.host), source: endpoint.source };
}

/** The rows of --show-config (and a warning for a tiny pinned by tag); reads the config file, never the engine. */
async function showConfig(env: Record<string, string | undefined>, homeDir: string, log: Logger): Promise<string> {
  const locations = configFileLocations(env, homeDir);
  const files = await readConfigFiles(locations);
  const config = resolveShimConfig(env, files, DEFAULTS);
  const tagPinned = describeTagPinnedTiny(config.tiny);
  if (tagPinned !== undefined) log.warn(tagPinned);
  return formatConfigRows(
    buildConfigRows({
      shimVersion: SHIM_VERSION,
      config,
      configFiles: locations.map((location, index) => ({ ...location, exists: files[index]?.content !== undefined })),
      project: await describeProject(process.cwd()),
      cacheRoot: locateCacheRoot(env, homeDir),
      stateDir: locateStateDir(env, homeDir),
      dockerConfig: {
        path: dockerConfigPath(env, homeDir),
        source: env.DOCKER_CONFIG ? 'env DOCKER_CONFIG' : 'default',
      },
      ...(config.mini ? { release: await readReleaseRowFacts(env, homeDir, config, config.mini.ref, log) } : {}),
      ...(await describeEngine(
        env,
        homeDir,
        files.filter((file) => file.content !== undefined),
      )),
    }),
  );
}

/**
 * The engine row of --show-config (a Podman socket or service stands in when there is no
 * Docker socket to use), and whether that engine shares this host's files as far as is known
 * without asking it (common/engine/engine-files.ts): a socket on this host does, a setting
 * says, or the last answer a run got.
 */
async function describeEngine(
  env: Record<string, string | undefined>,
  homeDir: string,
  files: ReadonlyArray<{ path: string; content: unknown }>,
): Promise<Pick<ConfigFacts, 'engine' | 'engineFiles'>> {
  let endpoint: EngineEndpoint;
  let dockerConfig: DockerConfigSnapshot;
  try {
    dockerConfig = await loadDockerConfig(env, homeDir);
    endpoint = await readEngineEndpoint(env, dockerConfig);
  } catch (error) {
    if (!isUserFacingError(error)) throw error;
    return { engine: { error: error.message } };
  }
  const fallback = choosePodmanFallback(endpoint, podmanFacts(env));
  const engine = describeFallback(endpoint, fallback);
  // A Podman socket or service the shim finds is on this host.
  const host = fallback.kind === 'keep' ? endpoint.host : 'unix://';
  const currentContext = dockerConfig.content?.currentContext;
  const context = selectContextName(
    env,
    typeof currentContext === 'string' ? currentContext : undefined,
    dockerConfig.file,
  );
  const settings = selectEngineSettings(files, { host, context: context?.name });
  const row = (value: string, source: string) => ({ engine, engineFiles: { value, source } });
  if (settings?.sharesFiles !== undefined)
    return row(describeFileSharing({ shares: settings.sharesFiles, why: 'set' }), `file: ${settings.source}`);
  if (isHostSocket(host))
    return row(describeFileSharing({ shares: true, why: 'a socket on this host' }), 'its address');
  const cacheRoot = locateCacheRoot(env, homeDir).dir;
  const record = cacheRoot === undefined ? [] : await readEngineFilesRecord(join(cacheRoot, 'mini'));
  const entry = record.find((candidate) => candidate.host === host);
  if (entry === undefined) return row('asked by the next run (a network address can be any host)', 'not asked yet');
  const ago = Math.max(0, Math.round((Date.now() - entry.checkedAt) / 1000));
  return row(
    describeFileSharing({ shares: entry.shares, why: `it ${entry.shares ? 'saw' : 'did not see'} a folder made here` }),
    `asked ${ago} s ago`,
  );
}

/** The project file `run-docker .` would use from `cwd`, named by a look at its text (no TOML parser in the shim). */
async function describeProject(cwd: string): Promise<ConfigFacts['project']> {
  try {
    const found = await findProjectFile(cwd, currentUser(), (bytes) => hasProjectTableHeader(bytes) || undefined);
    return found ? { file: found.file } : {};
  } catch (error) {
    if (!isUserFacingError(error)) throw error;
    return { error: error.message };
  }
}

/** The host's bucket and release state for the configured mini repository (the host's identity is read, never shown). */
async function readReleaseRowFacts(
  env: Record<string, string | undefined>,
  homeDir: string,
  config: ShimConfig,
  mini: Parameters<typeof formatRepository>[0],
  log: Logger,
): Promise<ReleaseRowFacts> {
  const repository = formatRepository(mini);
  // The state folder a call would use (as root, root's own: locate-own-folder.ts), if any.
  const stateDir = locateStateDir(env, homeDir).dir;
  const stateFile = stateDir === undefined ? undefined : releaseStateFile(stateDir);
  // --show-config writes nothing: a host with no identity yet gets one from its first call that needs it.
  const generated = stateDir === undefined ? undefined : generatedHostIdPath(stateDir);
  const hostId = await readHostId(config.hostId, generated, log, MACHINE_ID_FILE, false);
  return {
    repository,
    bucket:
      hostId === undefined && config.channel.value !== 'canary'
        ? undefined
        : computeHostBucket(config.channel.value, hostId?.id ?? '', repository),
    hostIdSource:
      hostId?.source ??
      (generated === undefined
        ? 'none: no state folder to keep one in (see the state row)'
        : `none yet (made in ${generated} by the first call that needs it)`),
    ...(stateFile === undefined ? {} : { stateFile }),
    state: stateFile === undefined ? EMPTY_RELEASE_STATE : await readReleaseState(stateFile, repository, log),
  };
}

// Exit explicitly: a payload may leave idle handles (keep-alive sockets) open.
void main().then((code) => process.exit(code));
