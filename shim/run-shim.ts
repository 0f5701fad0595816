/**
 * One call of the shim: the pinned tiny locates the newest mini, whose verified payload
 * then runs with the user's arguments. Everything it needs is passed in (main.ts reads
 * the process once), so tests and other hosts can drive it.
 */
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
import { compareTagOrder } from '../common/compare-tag-order';
import { formatImageRef, formatRepository, isPinned, type ImageRef } from '../common/image-ref';
import { inspectImage, type LocalImage } from '../common/inspect-image';
import { readRegistryAuth } from '../common/credentials/read-registry-auth';
import { pullImage } from '../common/pull-image';
import { RunDockerError } from '../common/run-docker-error';
import { withPullProgress, type ProgressTarget } from '../common/with-pull-progress';
import { compilePayload } from './compile-payload';
import { cacheRootDir } from './payload-cache';
import { obtainPayload, type PayloadSource, type VerifiedPayload } from './obtain-payload';
import { configFilePath, readConfigFile } from './read-config-file';
import { isLocalMode, resolveShimConfig, type ConfigValue, type ShimDefaults } from './resolve-shim-config';
import { miniVersionRecordPath, readHighestMiniVersion, recordMiniVersion } from './mini-version-record';
import { MAX_FALLBACK_PULLS, selectFallbackMinis, type FallbackPlan } from './select-fallback-minis';
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
  /** Its signature verified against tiny's keys (false only under allowUnsigned). */
  trusted: boolean;
}

export async function runShim(deps: ShimDeps): Promise<number> {
  const { argv, env, docker, log, shimVersion, progress } = deps;
  const local = isLocalMode(argv, env);
  const config = resolveShimConfig(env, await readConfigFile(configFilePath(env, deps.homeDir)), deps.defaults);
  const cacheRoot = cacheRootDir(env, deps.homeDir).dir;
  const pull: Pull = async (ref) => {
    const auth = await readRegistryAuth(ref.registry, { env, homeDir: deps.homeDir, log });
    await withPullProgress(progress, (onEvent) => pullImage(docker, ref, { auth, onEvent }));
  };
  const source: ShimSource = { docker, cacheRoot, shimVersion, log, pull };
  const base: BaseContext = { contract: CONTRACT_VERSION, shimVersion, local, env, log, docker };

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

  return miniModule.main({
    ...base,
    argv,
    cacheDir: join(cacheRoot, 'mini'),
    tiny: { reference: formatImageRef(config.tiny.ref), id: tinyImage.id, version: tinyPayload.manifest.version },
    mini: { reference: formatImageRef(mini.ref), id: mini.image.id, version: mini.payload.manifest.version },
  });
}

/** Pulls exactly `ref` with the credentials `docker login` stored for its registry, showing progress. */
type Pull = (ref: ImageRef) => Promise<void>;

interface ShimSource extends PayloadSource {
  pull: Pull;
}

/** The highest version of this mini repository the host has run (mini-version-record.ts). */
interface VersionFloor {
  file: string;
  repository: string;
  version?: string;
}

/** The locator is asked twice when the newest mini cannot be used: what it warned about the
 *  first time (an unreachable registry) is not printed again. */
function withWarningsOnce(base: BaseContext, printed: Set<string>): BaseContext {
  return {
    ...base,
    log: {
      warn: (line) => {
        if (printed.has(line)) return;
        printed.add(line);
        base.log.warn(line);
      },
      debug: (line) => base.log.debug(line),
    },
  };
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

function describeMismatch(tag: string, version: string): string {
  return `was signed as version ${version}, not ${tag}: an older mini pushed again under a newer tag is refused`;
}

/** A verified mini payload signed by a trusted key, or any verified one where the host allows that
 *  (with a warning); PayloadRejected('untrusted') otherwise. `trusted`: its signature verified. */
async function obtainTrustedMini(source: ShimSource, trust: Trust, image: LocalImage, ref: ImageRef): Promise<{ payload: VerifiedPayload; trusted: boolean }> {
  const payload = await obtainPayload(source, image, 'mini');
  try {
    checkSignature(payload.manifest, trust.keys);
    return { payload, trusted: true };
  } catch (error) {
    if (!(error instanceof PayloadRejected) || !trust.allowUnsigned) throw error;
    source.log.warn(`RUNNING UNTRUSTED CODE: mini "${formatImageRef(ref)}" ${error.message}, and this host allows that (RUN_DOCKER_ALLOW_UNSIGNED / allowUnsigned); never do this on a host that matters`);
    return { payload, trusted: false };
  }
}

/** Why one candidate mini was not run. */
interface Refusal {
  ref: ImageRef;
  reason: PayloadRejected['reason'] | 'mismatch' | 'rollback' | 'pull';
  /** Completes "the mini … cannot be used: " (or "cannot be pulled: " for 'pull'). */
  message: string;
}

/**
 * The newest mini; when it cannot be used (not pulled, corrupt, untrusted, for another shim,
 * signed as another version than its tag, older than what this host has run), older minis,
 * newest first: all those on the host, and at most MAX_FALLBACK_PULLS from the registry.
 * One warning line (the newest's, with a summary of older ones skipped); if none can be
 * used, one error line that names the real fix.
 */
async function loadNewestMini(
  source: ShimSource,
  trust: Trust,
  base: BaseContext,
  locator: LocatorModule,
  repositoryRef: ImageRef,
  floor: VersionFloor,
): Promise<LoadedMini> {
  const repository = formatRepository(repositoryRef);
  const printed = new Set<string>();
  const newest = await locator.findNewestTag(withWarningsOnce(base, printed), repository);
  const first = await tryMini(source, trust, { ...repositoryRef, tag: newest.tag }, newest.presentLocally, floor.version);
  if (!isRefusal(first)) return first;

  // A registry that just failed a pull would fail the next ones too, each after dockerd's
  // retries: then only minis on the host are candidates.
  const listing = withWarningsOnce({ ...base, local: base.local || first.reason === 'pull' }, printed);
  const tags = locator.listTagsNewestFirst
    ? await locator.listTagsNewestFirst(listing, repository)
    : (await locator.listLocalTagsNewestFirst(listing, repository)).map((tag) => ({ tag, presentLocally: true }));
  const plan = selectFallbackMinis(tags, { rejectedTag: newest.tag, floor: floor.version });
  const skipped: Refusal[] = [];
  let pullFailed = false;
  for (const candidate of plan.candidates) {
    if (pullFailed && !candidate.presentLocally) continue;
    const ref = { ...repositoryRef, tag: candidate.tag };
    const outcome = await tryMini(source, trust, ref, candidate.presentLocally, floor.version);
    if (!isRefusal(outcome)) {
      const instead = candidate.presentLocally ? 'running the newest usable mini on this host instead' : `running the older mini "${candidate.tag}" from the registry instead`;
      const also = skipped.length > 0 ? `; also skipped ${countOf(skipped.length, 'older mini')}: ${summarise(skipped)}` : '';
      source.log.warn(`the newest mini ${describeRefusal(first)}; ${refusalAdvice(first)}${instead}${also}`);
      return outcome;
    }
    skipped.push(outcome);
    if (outcome.reason === 'pull') pullFailed = true;
  }
  throw noUsableMini(repository, first, skipped, plan, floor, source.shimVersion);
}

function isRefusal(outcome: LoadedMini | Refusal): outcome is Refusal {
  return 'reason' in outcome;
}

/** One candidate: refused by its tag alone when it is older than the floor (no pull), else
 *  pulled if absent, verified, and its signed version compared with its tag. */
async function tryMini(source: ShimSource, trust: Trust, ref: ImageRef & { tag: string }, presentLocally: boolean, floor: string | undefined): Promise<LoadedMini | Refusal> {
  if (floor !== undefined && (compareTagOrder(ref.tag, floor) ?? -1) < 0) {
    return { ref, reason: 'rollback', message: `it is older than ${floor}, which this host has already run` };
  }
  try {
    if (!presentLocally) await source.pull(ref);
    const image = await inspectImage(source.docker, ref);
    if (!image) return { ref, reason: 'pull', message: 'the engine cannot find it after its pull' };
    const { payload, trusted } = await obtainTrustedMini(source, trust, image, ref);
    if (payload.manifest.version !== ref.tag) return { ref, reason: 'mismatch', message: `it ${describeMismatch(ref.tag, payload.manifest.version)}` };
    return { ref, image, payload, trusted };
  } catch (error) {
    if (error instanceof PayloadRejected) return { ref, reason: error.reason, message: error.message };
    if (error instanceof RunDockerError) return { ref, reason: 'pull', message: error.message };
    throw error;
  }
}

function describeRefusal(refusal: Refusal): string {
  return `"${formatImageRef(refusal.ref)}" cannot be ${refusal.reason === 'pull' ? 'pulled' : 'used'}: ${refusal.message}`;
}

/** What to do about one refused mini, ending in "; " (or nothing). */
function refusalAdvice(refusal: Refusal): string {
  switch (refusal.reason) {
    case 'incompatible':
      return 'update the shim (see docs/install.md of run-docker); ';
    case 'untrusted':
      return 'publish it signed with a key the pinned tiny trusts; ';
    case 'mismatch':
      return 'delete that tag from the registry; ';
    case 'rollback':
      return 'pin a tag to roll back on purpose; ';
    case 'corrupt':
    case 'pull':
      return '';
  }
}

function summarise(refusals: readonly Refusal[]): string {
  const shown = refusals.slice(0, 3).map((refusal) => `${refusal.ref.tag} (${refusal.message})`);
  return shown.join('; ') + (refusals.length > shown.length ? `; and ${refusals.length - shown.length} more` : '');
}

function countOf(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Nothing usable: one line that says what was tried and the fix for the newest's problem. */
function noUsableMini(repository: string, newest: Refusal, skipped: readonly Refusal[], plan: FallbackPlan, floor: VersionFloor, shimVersion: string): RunDockerError {
  const parts = [`the newest, ${describeRefusal(newest)}`];
  if (skipped.length > 0) parts.push(`${countOf(skipped.length, 'older mini')} skipped: ${summarise(skipped)}`);
  if (plan.belowFloor > 0) parts.push(`${countOf(plan.belowFloor, 'older mini')} below ${floor.version}, which this host has already run, not tried`);
  if (plan.notPulled > 0) parts.push(`${countOf(plan.notPulled, 'older mini')} in the registry not pulled (at most ${MAX_FALLBACK_PULLS} are tried)`);
  const pinOlder = `pin a mini with RUN_DOCKER_MINI=${repository}:TAG`;
  const hints: Record<Refusal['reason'], string> = {
    incompatible: `Update the shim (see docs/install.md of run-docker), or publish a mini that supports shim ${shimVersion} (scripts/publish mini --shim-range)`,
    untrusted: 'Publish a mini signed with a key the pinned tiny trusts (scripts/publish mini --signing-key), or pin a tiny that trusts its key',
    mismatch: `Delete the tag "${newest.ref.tag}" from the registry and publish the good payload again as a new version (scripts/publish mini)`,
    rollback: `Publish the good payload again as a new version (scripts/publish mini), or ${pinOlder} to roll back on purpose; this host's record is "${floor.file}"`,
    corrupt: 'Publish a good mini again (scripts/publish mini)',
    pull: 'Check that the registry serves it, or run with --local',
  };
  const tail = newest.reason === 'rollback' ? '.' : plan.notPulled > 0 ? `, or ${pinOlder}.` : '.';
  return new RunDockerError(`no usable mini of "${repository}": ${parts.join('; ')}`, hints[newest.reason] + tail);
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
