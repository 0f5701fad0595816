/**
 * The newest mini, or when it cannot be used, older minis newest first (docs/trust.md,
 * "When the newest mini cannot be used"): local ones for free, a bounded number pulled.
 */
import type { BaseContext, LocatorModule } from '../contract/contract';
import { compareTagOrder } from '../common/compare-tag-order';
import { formatImageRef, formatRepository, type ImageRef } from '../common/image-ref';
import { inspectImage } from '../common/inspect-image';
import { RunDockerError } from '../common/run-docker-error';
import {
  describeMismatch,
  obtainTrustedMini,
  type LoadedMini,
  type ShimSource,
  type Trust,
} from './obtain-trusted-mini';
import { MAX_FALLBACK_PULLS, selectFallbackMinis, type FallbackPlan } from './select-fallback-minis';
import { PayloadRejected } from './verify-payload';

/** The highest version of this mini repository the host has run (mini-version-record.ts). */
export interface VersionFloor {
  file: string;
  repository: string;
  version?: string;
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
export async function loadNewestMini(
  source: ShimSource,
  trust: Trust,
  base: BaseContext,
  locator: LocatorModule,
  repositoryRef: ImageRef,
  floor: VersionFloor,
): Promise<LoadedMini> {
  const repository = formatRepository(repositoryRef);
  const printed = new Set<string>();
  // Several tags of one image (an image ID) are one verdict: its payload is read once per call.
  const verdicts: Verdicts = new Map();
  const newest = await locator.findNewestTag(withWarningsOnce(base, printed), repository);
  const first = await tryMini(
    source,
    trust,
    { ...repositoryRef, tag: newest.tag },
    newest.presentLocally,
    floor.version,
    verdicts,
  );
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
    const outcome = await tryMini(source, trust, ref, candidate.presentLocally, floor.version, verdicts);
    if (!isRefusal(outcome)) {
      const instead = candidate.presentLocally
        ? 'running the newest usable mini on this host instead'
        : `running the older mini "${candidate.tag}" from the registry instead`;
      const also =
        skipped.length > 0 ? `; also skipped ${countOf(skipped.length, 'older mini')}: ${summarise(skipped)}` : '';
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

/** What obtainTrustedMini made of each image ID tried in this call. */
type Verdicts = Map<string, Promise<Awaited<ReturnType<typeof obtainTrustedMini>>>>;

/** One candidate: refused by its tag alone when it is older than the floor (no pull), else
 *  pulled if absent, verified (once per image ID: `verdicts`), and its signed version
 *  compared with its tag. */
async function tryMini(
  source: ShimSource,
  trust: Trust,
  ref: ImageRef & { tag: string },
  presentLocally: boolean,
  floor: string | undefined,
  verdicts: Verdicts,
): Promise<LoadedMini | Refusal> {
  if (floor !== undefined && (compareTagOrder(ref.tag, floor) ?? -1) < 0) {
    return { ref, reason: 'rollback', message: `it is older than ${floor}, which this host has already run` };
  }
  try {
    if (!presentLocally) await source.pull(ref);
    const image = await inspectImage(source.engine, ref);
    if (!image) return { ref, reason: 'pull', message: 'the engine cannot find it after its pull' };
    let verdict = verdicts.get(image.id);
    if (verdict === undefined) {
      verdict = obtainTrustedMini(source, trust, image, ref);
      verdicts.set(image.id, verdict);
    }
    const { payload, trusted } = await verdict;
    if (payload.manifest.version !== ref.tag)
      return { ref, reason: 'mismatch', message: `it ${describeMismatch(ref.tag, payload.manifest.version)}` };
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
function noUsableMini(
  repository: string,
  newest: Refusal,
  skipped: readonly Refusal[],
  plan: FallbackPlan,
  floor: VersionFloor,
  shimVersion: string,
): RunDockerError {
  const parts = [`the newest, ${describeRefusal(newest)}`];
  if (skipped.length > 0) parts.push(`${countOf(skipped.length, 'older mini')} skipped: ${summarise(skipped)}`);
  if (plan.belowFloor > 0)
    parts.push(
      `${countOf(plan.belowFloor, 'older mini')} below ${floor.version}, which this host has already run, not tried`,
    );
  if (plan.notPulled > 0)
    parts.push(
      `${countOf(plan.notPulled, 'older mini')} in the registry not pulled (at most ${MAX_FALLBACK_PULLS} are tried)`,
    );
  const pinOlder = `pin a mini with RUN_DOCKER_MINI=${repository}:TAG`;
  const hints: Record<Refusal['reason'], string> = {
    incompatible: `Update the shim (see docs/install.md of run-docker), or publish a mini that supports shim ${shimVersion} (scripts/publish mini --shim-range)`,
    untrusted:
      'Publish a mini signed with a key the pinned tiny trusts (scripts/publish mini --signing-key), or pin a tiny that trusts its key',
    mismatch: `Delete the tag "${newest.ref.tag}" from the registry and publish the good payload again as a new version (scripts/publish mini)`,
    rollback: `Publish the good payload again as a new version (scripts/publish mini), or ${pinOlder} to roll back on purpose; this host's record is "${floor.file}"`,
    corrupt: 'Publish a good mini again (scripts/publish mini)',
    pull: 'Check that the registry serves it, or run with --local',
  };
  const tail = newest.reason === 'rollback' ? '.' : plan.notPulled > 0 ? `, or ${pinOlder}.` : '.';
  return new RunDockerError(`no usable mini of "${repository}": ${parts.join('; ')}`, hints[newest.reason] + tail);
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
