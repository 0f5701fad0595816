/**
 * One call of the shim: the pinned tiny locates the newest mini, whose verified payload
 * then runs with the user's arguments. Everything it needs is passed in (main.ts reads
 * the process once), so tests and other hosts can drive it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { CONTRACT_VERSION, type BaseContext, type LocatorModule, type Logger, type MiniModule, type PayloadKind } from '../contract/contract';
import { formatImageRef, formatRepository, isPinned, type ImageRef } from '../common/image-ref';
import { inspectImage, type LocalImage } from '../common/inspect-image';
import { readRegistryAuth } from '../common/credentials/read-registry-auth';
import { pullImage, readPullStallMs } from '../common/pull-image';
import { RunDockerError } from '../common/run-docker-error';
import { withPullProgress, type ProgressTarget } from '../common/with-pull-progress';
import { compilePayload } from './compile-payload';
import { cacheRootDir, prepareCache } from './payload-cache';
import { loadNewestMini, type VersionFloor } from './load-newest-mini';
import { obtainPayload, type VerifiedPayload } from './obtain-payload';
import { describeMismatch, obtainTrustedMini, type LoadedMini, type Pull, type ShimSource, type Trust } from './obtain-trusted-mini';
import { configFileLocations, readConfigFiles } from './read-config-file';
import { isLocalMode, resolveShimConfig, type ConfigValue, type ShimDefaults } from './resolve-shim-config';
import { miniVersionRecordPath, readHighestMiniVersion, recordMiniVersion } from './mini-version-record';
import { PayloadRejected } from './verify-payload';

export interface ShimDeps {
  argv: string[];
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string;
  shimVersion: string;
  defaults: ShimDefaults;
  docker: Dockerode;
  log: Logger;
  /** Where pulls of tiny and mini show progress (select-shim-progress.ts). */
  progress: ProgressTarget;
}

export async function runShim(deps: ShimDeps): Promise<number> {
  const { argv, env, docker, log, shimVersion, progress } = deps;
  const local = isLocalMode(argv, env);
  const config = resolveShimConfig(env, await readConfigFiles(configFileLocations(env, deps.homeDir)), deps.defaults);
  // Undefined when others could have planted things in it: then nothing is read from or written to it.
  const cacheRoot = await prepareCache(cacheRootDir(env, deps.homeDir).dir, process.getuid?.() ?? 0, log);
  const pull: Pull = async (ref) => {
    const auth = await readRegistryAuth(ref.registry, { env, homeDir: deps.homeDir, log });
    await withPullProgress(progress, (onEvent) => pullImage(docker, ref, { auth, onEvent, stallMs: readPullStallMs(env) }));
  };
  const source: ShimSource = { docker, cacheRoot, shimVersion, log, pull };
  // The locator keeps registry tokens in the cache; without a trusted cache, in memory only.
  const base: BaseContext = { contract: CONTRACT_VERSION, shimVersion, local, env, log, docker, cacheDir: cacheRoot && join(cacheRoot, 'mini') };

  const tinyImage = await ensureImage(source, config.tiny.ref, local, 'tiny image');
  const tinyPayload = await obtainOrExplain(source, config.tiny.ref, tinyImage, 'tiny');
  const locator = loadModule<LocatorModule>(tinyPayload, ['findNewestTag', 'listLocalTagsNewestFirst'], config.tiny.ref);

  const trust: Trust = { keys: tinyPayload.manifest.trustedKeys ?? [], allowUnsigned: config.allowUnsigned };
  const record: VersionFloor = {
    file: miniVersionRecordPath(env, deps.homeDir),
    repository: formatRepository(config.mini.ref),
  };
  const mini = isPinned(config.mini.ref)
    ? await loadPinnedMini(source, trust, config.mini, local)
    : await loadNewestMini(source, trust, base, locator, config.mini.ref, {
        ...record,
        version: await readHighestMiniVersion(record.file, record.repository, log),
      });
  // Only what a trusted key signed raises the floor: an unsigned version (development
  // opt-in) is whatever its publisher typed.
  if (mini.trusted) await recordMiniVersion(record.file, record.repository, mini.payload.manifest.version, log);
  const miniModule = loadModule<MiniModule>(mini.payload, ['main'], mini.ref);

  // Without a trusted cache the mini gets a fresh private folder (0700, nobody else can have
  // planted anything in it), removed when it is done.
  const cacheDir = cacheRoot === undefined ? await mkdtemp(join(tmpdir(), 'run-docker-')) : join(cacheRoot, 'mini');
  try {
    return await miniModule.main({
      ...base,
      argv,
      cacheDir,
      tiny: { reference: formatImageRef(config.tiny.ref), id: tinyImage.id, version: tinyPayload.manifest.version },
      mini: { reference: formatImageRef(mini.ref), id: mini.image.id, version: mini.payload.manifest.version },
    });
  } finally {
    if (cacheRoot === undefined) await rm(cacheDir, { recursive: true, force: true });
  }
}

/** The image for an exact reference, pulled when absent (never with --local). */
async function ensureImage({ docker, pull }: ShimSource, ref: ImageRef, local: boolean, what: string): Promise<LocalImage> {
  const present = await inspectImage(docker, ref);
  if (present) return present;
  if (local) {
    throw new RunDockerError(
      `the ${what} "${formatImageRef(ref)}" is not on this host, and --local forbids pulling it`,
      'Run once without --local to pull it, or "docker load" it onto this host.',
    );
  }
  await pull(ref);
  const pulled = await inspectImage(docker, ref);
  if (!pulled) throw new RunDockerError(`the ${what} "${formatImageRef(ref)}" was pulled but the engine cannot find it`, 'Try again; if it persists, check "docker images".');
  return pulled;
}

/** A pinned mini runs even when older than the floor (that is how a host rolls back on
 *  purpose), but a tag must still be the version its signature names. */
async function loadPinnedMini(source: ShimSource, trust: Trust, mini: ConfigValue, local: boolean): Promise<LoadedMini> {
  const image = await ensureImage(source, mini.ref, local, `mini image pinned by ${mini.source}`);
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

async function obtainOrExplain(source: ShimSource, ref: ImageRef, image: LocalImage, kind: 'tiny'): Promise<VerifiedPayload>;
async function obtainOrExplain(source: ShimSource, ref: ImageRef, image: LocalImage, kind: 'mini', trust: Trust): Promise<{ payload: VerifiedPayload; trusted: boolean }>;
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
          ? 'Pin a mini signed with a key the pinned tiny trusts (scripts/publish mini --signing-key).'
          : `Configure a ${kind} image published by scripts/publish.`;
    throw new RunDockerError(`the ${kind} image "${formatImageRef(ref)}" cannot be used: ${error.message}`, hint);
  }
}

function loadModule<T>(payload: VerifiedPayload, functions: string[], ref: ImageRef): T {
  const exports = compilePayload(payload.entrySource, payload.entryPath) as Record<string, unknown>;
  const missing = functions.filter((name) => typeof exports?.[name] !== 'function');
  if (missing.length > 0) {
    throw new RunDockerError(
      `the payload of "${formatImageRef(ref)}" does not export ${missing.map((name) => `"${name}"`).join(', ')}`,
      'Publish it again with scripts/publish.',
    );
  }
  return exports as T;
}
