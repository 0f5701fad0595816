/**
 * One call of the shim: the pinned tiny locates the newest mini, whose verified payload
 * then runs with the user's arguments. Everything it needs is passed in (main.ts reads
 * the process once), so tests and other hosts can drive it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import {
  CONTRACT_VERSION,
  type BaseContext,
  type LocatorModule,
  type Logger,
  type MiniModule,
  type PayloadKind,
  type TrustedKey,
} from '../contract/contract';
import { formatImageRef, formatRepository, isPinned, type ImageRef } from '../common/image-ref';
import { inspectImage, type LocalImage } from '../common/inspect-image';
import { readRegistryAuth } from '../common/credentials/read-registry-auth';
import { pullImage, readPullStallMs } from '../common/pull-image';
import { RunDockerError } from '../common/run-docker-error';
import { withPullProgress, type ProgressTarget } from '../common/with-pull-progress';
import { compilePayload } from './compile-payload';
import { cacheRootDir, prepareCache } from './payload-cache';
import { obtainPayload, type PayloadSource, type VerifiedPayload } from './obtain-payload';
import { configFilePath, readConfigFile } from './read-config-file';
import { isLocalMode, resolveShimConfig, type ConfigValue, type ShimDefaults } from './resolve-shim-config';
import { checkSignature, PayloadRejected } from './verify-payload';

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

/** Which mini payloads may run: signed by a key the pinned tiny carries, or anything if allowed. */
interface Trust {
  keys: TrustedKey[];
  allowUnsigned: boolean;
}

interface LoadedMini {
  ref: ImageRef;
  image: LocalImage;
  payload: VerifiedPayload;
}

export async function runShim(deps: ShimDeps): Promise<number> {
  const { argv, env, docker, log, shimVersion, progress } = deps;
  const local = isLocalMode(argv, env);
  const config = resolveShimConfig(env, await readConfigFile(configFilePath(env, deps.homeDir)), deps.defaults);
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
  const mini = isPinned(config.mini.ref)
    ? await loadPinnedMini(source, trust, config.mini, local)
    : await loadNewestMini(source, trust, base, locator, config.mini.ref);
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

/** Pulls exactly `ref` with the credentials `docker login` stored for its registry, showing progress. */
type Pull = (ref: ImageRef) => Promise<void>;

interface ShimSource extends PayloadSource {
  pull: Pull;
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

async function loadPinnedMini(source: ShimSource, trust: Trust, mini: ConfigValue, local: boolean): Promise<LoadedMini> {
  const image = await ensureImage(source, mini.ref, local, `mini image pinned by ${mini.source}`);
  const payload = await obtainOrExplain(source, mini.ref, image, 'mini', trust);
  return { ref: mini.ref, image, payload };
}

/** A verified mini payload signed by a trusted key, or any verified one where the host allows that
 *  (with a warning); PayloadRejected('untrusted') otherwise. */
async function obtainTrustedMini(source: ShimSource, trust: Trust, image: LocalImage, ref: ImageRef): Promise<VerifiedPayload> {
  const payload = await obtainPayload(source, image, 'mini');
  try {
    checkSignature(payload.manifest, trust.keys);
  } catch (error) {
    if (!(error instanceof PayloadRejected) || !trust.allowUnsigned) throw error;
    source.log.warn(`RUNNING UNTRUSTED CODE: mini "${formatImageRef(ref)}" ${error.message}, and this host allows that (RUN_DOCKER_ALLOW_UNSIGNED / allowUnsigned); never do this on a host that matters`);
  }
  return payload;
}

/**
 * The newest mini; when it cannot be pulled or used (needs a newer shim, fails
 * verification), one warning and the newest usable mini already on this host.
 */
async function loadNewestMini(
  source: ShimSource,
  trust: Trust,
  base: BaseContext,
  locator: LocatorModule,
  repositoryRef: ImageRef,
): Promise<LoadedMini> {
  const repository = formatRepository(repositoryRef);
  const newest = await locator.findNewestTag(base, repository);
  const ref = { ...repositoryRef, tag: newest.tag };
  try {
    if (!newest.presentLocally) await source.pull(ref);
    const image = await inspectImage(source.docker, ref);
    if (!image) throw new RunDockerError(`the mini image "${formatImageRef(ref)}" is missing after its pull`, 'Try again.');
    return { ref, image, payload: await obtainTrustedMini(source, trust, image, ref) };
  } catch (error) {
    if (!(error instanceof PayloadRejected) && !(error instanceof RunDockerError)) throw error;
    const why = error instanceof PayloadRejected ? `cannot be used: ${error.message}` : `cannot be pulled: ${error.message}`;
    const hint =
      error instanceof PayloadRejected && error.reason === 'incompatible'
        ? 'update the shim (npm install -g run-docker); '
        : error instanceof PayloadRejected && error.reason === 'untrusted'
          ? 'publish it signed with a key the pinned tiny trusts; '
          : '';
    source.log.warn(`the newest mini "${formatImageRef(ref)}" ${why}; ${hint}running the newest usable mini on this host instead`);
    return loadNewestUsableLocalMini(source, trust, base, locator, repositoryRef, newest.tag);
  }
}

async function loadNewestUsableLocalMini(
  source: ShimSource,
  trust: Trust,
  base: BaseContext,
  locator: LocatorModule,
  repositoryRef: ImageRef,
  rejectedTag: string,
): Promise<LoadedMini> {
  const repository = formatRepository(repositoryRef);
  for (const tag of await locator.listLocalTagsNewestFirst(base, repository)) {
    if (tag === rejectedTag) continue;
    const ref = { ...repositoryRef, tag };
    const image = await inspectImage(source.docker, ref);
    if (!image) continue;
    try {
      return { ref, image, payload: await obtainTrustedMini(source, trust, image, ref) };
    } catch (error) {
      if (!(error instanceof PayloadRejected)) throw error;
      source.log.debug(`mini "${formatImageRef(ref)}" skipped: ${error.message}`);
    }
  }
  throw new RunDockerError(
    `no usable mini image of "${repository}" is on this host`,
    'Update the shim (npm install -g run-docker), or publish a signed mini that supports this shim (scripts/publish mini --signing-key).',
  );
}

async function obtainOrExplain(
  source: ShimSource,
  ref: ImageRef,
  image: LocalImage,
  kind: PayloadKind,
  trust?: Trust,
): Promise<VerifiedPayload> {
  try {
    return trust ? await obtainTrustedMini(source, trust, image, ref) : await obtainPayload(source, image, kind);
  } catch (error) {
    if (!(error instanceof PayloadRejected)) throw error;
    const hint =
      error.reason === 'incompatible'
        ? `Update the shim (npm install -g run-docker) or configure a ${kind} image made for shim ${source.shimVersion}.`
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
