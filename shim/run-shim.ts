/**
 * One call of the shim: the pinned tiny locates the newest mini, whose verified payload
 * then runs with the user's arguments; with no usable tiny or mini, the run payload built
 * into the shim runs instead. Everything it needs is passed in (main.ts reads
 * the process once), so tests and other hosts can drive it.
 */
import { mkdtemp, rm } from '../common/fs-async';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONTRACT_VERSION,
  EXIT_RUN_DOCKER_FAILURE,
  type BaseContext,
  type BuildModule,
  type DockerSettings,
  type EngineClient,
  type EngineEndpointInUse,
  type ImageInUse,
  type LocatorModule,
  type Logger,
  type MiniModule,
  type PayloadKind,
  type ReleaseFacts,
  type UserFacingError,
} from '../contract/contract';
import { compareTagOrder } from '../common/compare-tag-order';
import { NO_OWNER_CHECKS_REASON } from '../common/host-platform';
import { formatImageRef, formatRepository, isPinned, type ImageRef } from '../common/image-ref';
import { ensureImage, pullWithAuth } from '../common/ensure-image';
import { loadDockerConfig } from '../common/load-docker-config';
import { hasRepoDigest, type LocalImage } from '../common/inspect-image';
import { currentUser } from '../common/read-private-file';
import { isUserFacingError, RunDockerError } from '../common/run-docker-error';
import type { ProgressTarget } from '../common/with-pull-progress';
import { compilePayloadCached } from './compile-payload';
import type { CodeCaches } from './code-cache';
import { prepareCache } from './payload-cache';
import { describePassedOver, locateCacheRoot, locateStateDir, prepareStateDir } from './locate-own-folder';
import { loadNewestMini, NothingAdmitted, type VersionFloor } from './load-newest-mini';
import { obtainBuildEntry } from './obtain-build-entry';
import { obtainPayload, type VerifiedEntry, type VerifiedPayload } from './obtain-payload';
import {
  describeMismatch,
  obtainTrustedMini,
  type LoadedMini,
  type Pull,
  type ShimSource,
  type Trust,
} from './obtain-trusted-mini';
import { configFileLocations, readConfigFiles } from './read-config-file';
import { isVersionRequest, type ShimFlags } from './read-shim-flags';
import {
  describeTagPinnedTiny,
  isLocalMode,
  resolveShimConfig,
  type ConfigValue,
  type ShimConfig,
  type ShimDefaults,
} from './resolve-shim-config';
import {
  miniVersionRecordFile,
  miniVersionRecordPath,
  readHighestMiniVersion,
  recordMiniVersion,
} from './mini-version-record';
import { generatedHostIdPath, MACHINE_ID_FILE, readHostId } from './read-host-id';
import { describeHeldBack, ReleasePolicy } from './release-policy';
import { EMPTY_RELEASE_STATE, readReleaseState, releaseStateFile, writeReleaseState } from './release-state';
import { PayloadRejected } from './verify-payload';

/**
 * What main.ts hands runShim, made once per call: the call itself, this shim, the engine as
 * main.ts reached it, and where its output goes. Payloads get their own context from it
 * (BaseContext, the contract), and the payload reader a narrower one (ShimSource).
 */
export interface ShimDeps {
  call: ShimCall;
  shim: ShimSelf;
  engine: ShimEngine;
  log: Logger;
  /** Where pulls of tiny and mini show progress (select-shim-progress.ts). */
  progress: ProgressTarget;
  /** V8 code caches of this call's scripts (code-cache.ts); main.ts writes them at the end. */
  codeCaches: CodeCaches;
  /** The engine client's image index (image-index-file.ts): told the cache root here; main.ts writes it at the end. */
  imageIndex?: { useRoot(root: string | undefined): void };
  /** The time, for staged rollouts (default Date.now). */
  now?: () => number;
  /** machine-id(5)'s file, the host's identity unless one is configured (default /etc/machine-id). */
  machineIdFile?: string;
}

/** The call, as main.ts read it once. */
export interface ShimCall {
  argv: string[];
  /** The leading options the shim acts on itself, read from argv once (read-shim-flags.ts). */
  flags: ShimFlags;
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string;
  /**
   * Which payload of the mini runs: `run` (the `run-docker` command, the default) or `build`
   * (the `build-docker` command: main.ts picks it by the name the shim was started under).
   */
  command?: ShimCommand;
}

/** This shim's own build. */
export interface ShimSelf {
  version: string;
  defaults: ShimDefaults;
  /** The run payload of the shim's own build (main.ts: decompressed and compiled only when called). */
  builtInRun: () => MiniModule;
  /** The build payload of the shim's own build, for `build`. */
  builtInBuild?: () => BuildModule;
}

/** The engine as main.ts reached it. */
export interface ShimEngine {
  client: EngineClient;
  /** Where it is and how it was found (found: a Podman socket or service the docker CLI would not find). */
  endpoint?: EngineEndpointInUse;
  /** docker's config.json as main.ts loaded it, and the engine's address; handed on to payloads. Absent: loaded here. */
  docker?: DockerSettings;
}

export type ShimCommand = 'run' | 'build';

/** A tiny that could be had: its image, verified payload and locator. */
interface LoadedTiny {
  image: LocalImage;
  payload: VerifiedPayload;
  locator: LocatorModule;
}

export async function runShim(deps: ShimDeps): Promise<number> {
  const { argv, env, homeDir } = deps.call;
  const { log, progress } = deps;
  const engine = deps.engine.client;
  const shimVersion = deps.shim.version;
  const local = isLocalMode(deps.call.flags, env);
  const configFiles = await readConfigFiles(configFileLocations(env, homeDir));
  const config = resolveShimConfig(env, configFiles, deps.shim.defaults);
  // Undefined when others could have planted things in it: then nothing is read from or written to it.
  const owner = currentUser();
  if (owner === undefined)
    log.debug(`cache, config and state files are not checked for other writers: ${NO_OWNER_CHECKS_REASON}`);
  const cacheRoot = await prepareOwnCache(env, homeDir, owner?.uid, log);
  deps.codeCaches.useRoot(cacheRoot);
  deps.imageIndex?.useRoot(cacheRoot);
  const dockerConfig = deps.engine.docker?.config ?? (await loadDockerConfig(env, homeDir));
  const pull: Pull = (ref) => pullWithAuth(engine, ref, { env, dockerConfig, log, progress });
  const source: ShimSource = { engine, cacheRoot, shimVersion, log, pull };
  // The locator keeps registry tokens in the cache; without a trusted cache, in memory only.
  const base: BaseContext = {
    contract: CONTRACT_VERSION,
    shimVersion,
    local,
    env,
    log,
    engine,
    cacheDir: cacheRoot && join(cacheRoot, 'mini'),
    ...(deps.engine.docker ? { docker: deps.engine.docker } : {}),
    ...(deps.engine.endpoint ? { endpoint: deps.engine.endpoint } : {}),
    ...(config.cli ? { cli: config.cli } : {}),
    configFiles: configFiles.filter((file) => file.content !== undefined),
  };

  const chosen = await choosePayload(deps, config, source, base);

  // Without a trusted cache the mini gets a fresh private folder (0700, nobody else can have
  // planted anything in it), removed when it is done.
  const cacheDir = cacheRoot === undefined ? await mkdtemp(join(tmpdir(), 'run-docker-')) : join(cacheRoot, 'mini');
  try {
    return await chosen.module.main({
      ...base,
      argv,
      cacheDir,
      tiny: chosen.tiny,
      mini: chosen.mini,
      ...(chosen.reason === undefined ? {} : { payloadSource: { builtIn: true as const, reason: chosen.reason } }),
      ...(chosen.release === undefined ? {} : { release: chosen.release }),
    });
  } finally {
    if (cacheRoot === undefined) await rm(cacheDir, { recursive: true, force: true });
  }
}

/**
 * The cache root for this call (locate-own-folder.ts: as root, one only root can change, made
 * so when missing), once prepareCache has judged it; undefined: no cache this call.
 */
async function prepareOwnCache(
  env: ShimCall['env'],
  homeDir: string,
  uid: number | undefined,
  log: Logger,
): Promise<string | undefined> {
  const folder = locateCacheRoot(env, homeDir, { create: true });
  if (folder.dir === undefined) {
    log.warn(`the cache is not used: run-docker runs as root, and ${folder.why}; running without the cache`);
    return undefined;
  }
  const passedOver = describePassedOver('cache', folder);
  if (passedOver !== undefined) log.debug(passedOver);
  return prepareCache(folder.dir, uid, log);
}

/**
 * The run payload for this call: the newest trusted (or the pinned) mini, else the one built
 * into the shim (docs/trust.md, "The built-in payload"). Without a usable tiny there are no
 * keys to trust a mini with. No tiny configured is a fresh install's normal state, so it is
 * silent; a configured tiny that cannot be had, or no usable mini, is one warning.
 */
async function choosePayload(
  deps: ShimDeps,
  config: ShimConfig,
  source: ShimSource,
  base: BaseContext,
): Promise<Chosen> {
  const { env, homeDir, argv } = deps.call;
  const { log } = deps;
  const shimVersion = deps.shim.version;
  const builtIn = (reason: string, tiny: ImageInUse = builtInImage(shimVersion), release?: ReleaseFacts): Chosen => ({
    module: loadBuiltIn(deps),
    tiny,
    mini: builtInImage(shimVersion),
    reason,
    ...(release ? { release } : {}),
  });
  if (config.tiny === undefined) {
    if (config.mini !== undefined) {
      log.warn(
        `the mini "${formatImageRef(config.mini.ref)}" (from ${config.mini.source}) is ignored: no tiny is configured, and only a tiny's keys can vouch for a mini; running the payload built into shim ${shimVersion}`,
      );
    }
    return builtIn('no tiny configured');
  }
  const tiny = await orReason(
    loadTinyOrExplain(source, config.tiny.ref, base.local, deps.codeCaches),
    log,
    shimVersion,
  );
  if (typeof tiny === 'string') return builtIn(tiny);
  // The tiny in use is this host's trust root: --version is where an operator checks it.
  const tagPinned = describeTagPinnedTiny(config.tiny);
  if (tagPinned !== undefined && isVersionRequest(argv)) log.warn(tagPinned);
  const tinyInUse = {
    reference: formatImageRef(config.tiny.ref),
    id: tiny.image.id,
    version: tiny.payload.manifest.version,
  };
  if (config.mini === undefined) return builtIn('no mini configured', tinyInUse);

  const pinned = isPinned(config.mini.ref);
  // Not read for a pinned mini: the folder's warnings would say nothing that matters to it.
  const stateDir = pinned ? undefined : await prepareStateDir(env, homeDir, log);
  const file = stateDir === undefined ? miniVersionRecordPath(env, homeDir) : miniVersionRecordFile(stateDir);
  const repository = formatRepository(config.mini.ref);
  const floor: VersionFloor = {
    file,
    repository,
    version: stateDir === undefined ? undefined : await readHighestMiniVersion(file, repository, log),
  };
  // The repository's releases as this host follows them: rotated keys, halts, its rollout
  // bucket (docs/releasing.md). What the minis read in this call teach is kept at its end.
  // They sit in the state folder beside the record (as root, root's own: locate-own-folder.ts),
  // and matter to a pinned mini too (a key a rotation retired signs nothing), whose folder is
  // prepared without a word: its warnings are about older minis, which a pin never runs.
  const releaseDir =
    stateDir ??
    (pinned
      ? await prepareStateDir(env, homeDir, { warn: (line) => log.debug(line), debug: (line) => log.debug(line) })
      : undefined);
  const stateFile = releaseDir === undefined ? undefined : releaseStateFile(releaseDir);
  const generated = releaseDir === undefined ? undefined : generatedHostIdPath(releaseDir);
  // Written only to the folder read, still the one read (as root, made folder by folder).
  const stillOurs = () => locateStateDir(env, homeDir, { create: true }).dir === releaseDir;
  const tinyKeys = tiny.payload.manifest.trustedKeys ?? [];
  const release = new ReleasePolicy(
    repository,
    config.channel.value,
    (deps.now ?? Date.now)(),
    tinyKeys,
    stateFile === undefined ? EMPTY_RELEASE_STATE : await readReleaseState(stateFile, repository, log),
    async () => {
      const known = await readHostId(config.hostId, generated, log, deps.machineIdFile ?? MACHINE_ID_FILE, false);
      if (known !== undefined) return known.id;
      return (await readHostId(undefined, stillOurs() ? generated : undefined, log, deps.machineIdFile)).id;
    },
  );
  const trust: Trust = { keys: tinyKeys, allowUnsigned: config.allowUnsigned, release };
  let mini: LoadedMini | string;
  try {
    // A pinned mini that cannot be used stays an error: the operator chose it on purpose.
    mini = pinned
      ? await loadPinnedMini(source, trust, config.mini, base.local)
      : await orReason(loadNewestMini(source, trust, base, tiny.locator, config.mini.ref, floor), log, shimVersion);
  } finally {
    if (release.changed && stateFile !== undefined && stillOurs())
      await writeReleaseState(stateFile, repository, release.state, log);
  }
  // Where this host stands in the repository's rollouts: for --version only (it may read the host's identity).
  const facts = async (reason: () => Promise<string> | string): Promise<ReleaseFacts | undefined> =>
    isVersionRequest(argv)
      ? { channel: release.channel, bucket: await release.bucket(), reason: await reason() }
      : undefined;
  if (typeof mini === 'string')
    return builtIn(mini, tinyInUse, await facts(() => 'none of its minis runs here now (above)'));
  // Only what a trusted key signed raises the floor: an unsigned version (development
  // opt-in) is whatever its publisher typed. The built-in payload never does. A warm call
  // runs the version on record: no second read of the record to learn that.
  const version = mini.payload.manifest.version;
  const raises = floor.version === undefined || (compareTagOrder(version, floor.version) ?? 0) > 0;
  // As root, the state folder is made folder by folder where only root can change it
  // (locate-own-folder.ts), and written only if it is still the one read.
  if (
    mini.trusted &&
    raises &&
    stateDir !== undefined &&
    locateStateDir(env, homeDir, { create: true }).dir === stateDir
  )
    await recordMiniVersion(file, repository, version, log);
  return {
    module:
      deps.call.command === 'build'
        ? loadModule<BuildModule>(
            await obtainBuildEntry(source, trust, mini.image, mini.ref, mini.payload),
            ['main'],
            mini.ref,
            {
              name: 'build',
              sha256: mini.payload.manifest.build?.sha256 ?? '',
              caches: deps.codeCaches,
            },
          )
        : loadModule<MiniModule>(
            { source: mini.payload.entrySource, path: mini.payload.entryPath },
            ['main'],
            mini.ref,
            {
              name: 'mini',
              sha256: mini.payload.manifest.sha256,
              caches: deps.codeCaches,
            },
          ),
    tiny: tinyInUse,
    mini: { reference: formatImageRef(mini.ref), id: mini.image.id, version: mini.payload.manifest.version },
    ...(await facts(() => describeChoice(release, mini, pinned ? config.mini?.source : undefined, floor.version)).then(
      (release) => (release ? { release } : {}),
    )),
  };
}

/** Why this mini runs, for --version: pinned, the newest, or the newest that has reached this host. */
async function describeChoice(
  release: ReleasePolicy,
  mini: LoadedMini,
  pinnedBy: string | undefined,
  floor: string | undefined,
): Promise<string> {
  if (pinnedBy !== undefined) return `pinned by ${pinnedBy}: rollouts and halts do not choose it`;
  const admission = await release.describeAdmission(
    mini.payload.manifest.rollout,
    mini.payload.manifest.version,
    floor,
  );
  if (!mini.heldBack?.length) return `the newest mini (${admission})`;
  return `the newest mini that has reached this host (${admission}); not yet here: ${mini.heldBack.map(describeHeldBack).join('; ')}`;
}

/** The payload built into the shim for this command; a shim built without a build payload says so. */
function loadBuiltIn(deps: ShimDeps): MiniModule | BuildModule {
  if (deps.call.command !== 'build') return deps.shim.builtInRun();
  if (!deps.shim.builtInBuild)
    throw new RunDockerError(
      `shim ${deps.shim.version} has no build payload built in`,
      'Configure a tiny and a mini that carries one (docs/build-docker.md).',
    );
  return deps.shim.builtInBuild();
}

/** The value, or, for a failure that falls back (isFallbackError), one warning and its message as the reason. */
async function orReason<T>(promise: Promise<T>, log: Logger, shimVersion: string): Promise<T | string> {
  try {
    return await promise;
  } catch (error) {
    if (!isFallbackError(error)) throw error;
    // Waiting for a rollout is no failure: said by --version and in debug only.
    if (error instanceof NothingAdmitted) {
      log.debug(`${error.message}; running the payload built into shim ${shimVersion}`);
      return error.message;
    }
    log.warn(`${error.message}; running the payload built into shim ${shimVersion} instead. ${error.hint}`);
    return error.message;
  }
}

/** The run payload chosen for this call; `reason` only for the built-in one. */
interface Chosen {
  module: MiniModule | BuildModule;
  tiny: ImageInUse;
  mini: ImageInUse;
  reason?: string;
  release?: ReleaseFacts;
}

/** How the built-in payload reads in --version: as trusted as the shim, and of its version. */
function builtInImage(shimVersion: string): ImageInUse {
  return { reference: 'built-in', id: 'built-in', version: shimVersion };
}

/**
 * Failures that end in the built-in payload rather than a stop: run-docker's own (125) ones
 * about a tiny or about finding a mini. A tiny that is "not a run-docker image" or made for
 * another shim falls back too: the built-in payload is no more trusted than the shim that
 * already runs, so a fleet keeps running (one warning per call) while its operator fixes the
 * setting. Anything else (an engine that cannot be reached, a bug, an interruption) still stops.
 */
function isFallbackError(error: unknown): error is UserFacingError {
  return isUserFacingError(error) && error.exitCode === EXIT_RUN_DOCKER_FAILURE;
}

async function loadTinyOrExplain(
  source: ShimSource,
  ref: ImageRef,
  local: boolean,
  codeCaches: CodeCaches,
): Promise<LoadedTiny> {
  const image = await ensurePayloadImage(source, ref, local, 'tiny image');
  // The pin is a digest; what the engine answers for that name must be what it pulled by it.
  if (ref.digest !== undefined && !hasRepoDigest(image, ref)) {
    const recorded = image.repoDigests?.length ? image.repoDigests.join(', ') : 'none';
    throw new RunDockerError(
      `the tiny image "${formatImageRef(ref)}" cannot be used: the engine answers for that name, but its record of the image does not show that digest (RepoDigests: ${recorded})`,
      `Remove that image ("docker image rm ${formatImageRef(ref)}") so that it is pulled by its digest, and check which engine this is (DOCKER_HOST, the docker context).`,
    );
  }
  const payload = await obtainOrExplain(source, ref, image, 'tiny');
  const cache = { name: 'tiny', sha256: payload.manifest.sha256, caches: codeCaches };
  return {
    image,
    payload,
    locator: loadModule<LocatorModule>(
      { source: payload.entrySource, path: payload.entryPath },
      ['findNewestTag', 'listLocalTagsNewestFirst'],
      ref,
      cache,
    ),
  };
}

/** The image for an exact reference, pulled when absent (never with --local). */
function ensurePayloadImage(
  { engine, pull }: ShimSource,
  ref: ImageRef,
  local: boolean,
  what: string,
): Promise<LocalImage> {
  return ensureImage(engine, ref, {
    local,
    pull,
    what,
    localHint: 'Run once without --local to pull it, or "docker load" it onto this host.',
  });
}

/** A pinned mini runs even when older than the floor (that is how a host rolls back on
 *  purpose), but a tag must still be the version its signature names. */
async function loadPinnedMini(
  source: ShimSource,
  trust: Trust,
  mini: ConfigValue,
  local: boolean,
): Promise<LoadedMini> {
  const image = await ensurePayloadImage(source, mini.ref, local, `mini image pinned by ${mini.source}`);
  const { payload, trusted } = await obtainOrExplain(source, mini.ref, image, 'mini', trust);
  const tag = mini.ref.tag;
  if (tag !== undefined && mini.ref.digest === undefined && payload.manifest.version !== tag) {
    const repository = formatRepository(mini.ref);
    throw new RunDockerError(
      `the mini image "${formatImageRef(mini.ref)}" pinned by ${mini.source} ${describeMismatch(tag, payload.manifest.version)}`,
      `Pin the tag of its signed version ("${repository}:${payload.manifest.version}"), or check who pushed "${tag}".`,
    );
  }
  return { ref: mini.ref, image, payload, trusted };
}

async function obtainOrExplain(
  source: ShimSource,
  ref: ImageRef,
  image: LocalImage,
  kind: 'tiny',
): Promise<VerifiedPayload>;
async function obtainOrExplain(
  source: ShimSource,
  ref: ImageRef,
  image: LocalImage,
  kind: 'mini',
  trust: Trust,
): Promise<{ payload: VerifiedPayload; trusted: boolean }>;
async function obtainOrExplain(
  source: ShimSource,
  ref: ImageRef,
  image: LocalImage,
  kind: PayloadKind,
  trust?: Trust,
): Promise<VerifiedPayload | { payload: VerifiedPayload; trusted: boolean }> {
  try {
    return trust ? await obtainTrustedMini(source, trust, image, ref) : await obtainPayload(source, image, kind);
  } catch (error) {
    if (!(error instanceof PayloadRejected)) throw error;
    const hint =
      error.reason === 'incompatible'
        ? `Update the shim (see docs/install.md of run-docker) or configure a ${kind} image made for shim ${source.shimVersion}.`
        : error.reason === 'untrusted'
          ? 'Pin a mini signed with a key this host trusts (scripts/publish mini --signing-key).'
          : `Configure a ${kind} image published by scripts/publish.`;
    throw new RunDockerError(`the ${kind} image "${formatImageRef(ref)}" cannot be used: ${error.message}`, hint);
  }
}

/** `cache`: the entry's verified sha256 names its code cache (code-cache.ts). */
function loadModule<T>(
  entry: VerifiedEntry,
  functions: string[],
  ref: ImageRef,
  cache: { name: string; sha256: string; caches: CodeCaches },
): T {
  const exports = compilePayloadCached(entry.source, entry.path, cache) as Record<string, unknown>;
  const missing = functions.filter((name) => typeof exports?.[name] !== 'function');
  if (missing.length > 0) {
    throw new RunDockerError(
      `the payload of "${formatImageRef(ref)}" does not export ${missing.map((name) => `"${name}"`).join(', ')}`,
      'Publish it again with scripts/publish.',
    );
  }
  return exports as T;
}
