/**
 * The newest mini, or when it cannot be used, older minis newest first (docs/trust.md,
 * "When the newest mini cannot be used"): local ones for free, a bounded number pulled.
 * A trusted mini whose staged rollout has not reached this host is passed over the same way,
 * without a warning (docs/releasing.md).
 */
import type { BaseContext, LocatedTag, LocatorModule } from '../contract/contract';
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
import { describeHeldBack, type HeldBack } from './release-policy';
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
  reason: PayloadRejected['reason'] | 'mismatch' | 'rollback' | 'pull' | 'halted';
  /** Completes "the mini … cannot be used: " (or "cannot be pulled: " for 'pull'). */
  message: string;
}

/**
 * The newest mini; when it cannot be used (not pulled, corrupt, untrusted, for another shim,
 * signed as another version than its tag, older than what this host has run, halted), older
 * minis, newest first: all those on the host, and at most MAX_FALLBACK_PULLS from the
 * registry. One warning line (the first refused one's, with a summary of others skipped); if
 * none can be used, one error line that names the real fix. A trusted mini whose rollout has
 * not reached this host is passed over the same way, but is no refusal: no warning, and when
 * it is all there is, NothingAdmitted.
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
  const listing = withWarningsOnce(base, printed);
  // One listing serves the newest and every older candidate (a host waiting for a staged
  // mini needs both on every call); a tiny without listTagsNewestFirst lists local ones later.
  const listed = locator.listTagsNewestFirst ? await locator.listTagsNewestFirst(listing, repository) : undefined;
  const newest = listed?.[0] ?? (await locator.findNewestTag(listing, repository));
  const first = await tryMini(
    source,
    trust,
    { ...repositoryRef, tag: newest.tag },
    newest.presentLocally,
    floor.version,
    verdicts,
  );
  if (isLoaded(first)) return first;

  // A registry that just failed a pull would fail the next ones too, each after dockerd's
  // retries: then only minis on the host are candidates.
  const localOnly = base.local || (isRefusal(first) && first.reason === 'pull');
  const tags = listed
    ? listed.filter((located) => !localOnly || located.presentLocally)
    : (await locator.listLocalTagsNewestFirst(listing, repository)).map((tag) => ({ tag, presentLocally: true }));
  const plan = selectFallbackMinis(tags, {
    rejectedTag: newest.tag,
    floor: floor.version,
    ...(trust.release ? { halted: trust.release.halted } : {}),
  });
  const heldBack: HeldBack[] = isRefusal(first) ? [] : [first.held];
  // The first refused mini (the newest, unless it was only held back) names the warning.
  let refused: Refusal | undefined = isRefusal(first) ? first : undefined;
  const skipped: Refusal[] = [];
  let pullFailed = false;
  for (const candidate of plan.candidates) {
    if (pullFailed && !candidate.presentLocally) continue;
    const ref = { ...repositoryRef, tag: candidate.tag };
    const outcome = await tryMini(source, trust, ref, candidate.presentLocally, floor.version, verdicts);
    if (isLoaded(outcome)) {
      if (refused) source.log.warn(describeFallback(refused, newest, candidate, skipped));
      return heldBack.length > 0 ? { ...outcome, heldBack } : outcome;
    }
    if (!isRefusal(outcome)) {
      heldBack.push(outcome.held);
      continue;
    }
    if (refused) skipped.push(outcome);
    else refused = outcome;
    if (outcome.reason === 'pull') pullFailed = true;
  }
  // Only waiting for rollouts is no failure; older minis left out for other reasons (below the
  // record, halted, past the pull bound) are, as when nothing is staged.
  if (!refused && plan.belowFloor + plan.halted + plan.notPulled === 0) throw nothingAdmitted(repository, heldBack);
  throw noUsableMini(repository, refused, newest, heldBack, skipped, plan, floor, source.shimVersion);
}

/** The warning when an older mini runs because `refused` (the newest, or the first one after held-back ones) could not. */
function describeFallback(refused: Refusal, newest: LocatedTag, ran: LocatedTag, skipped: readonly Refusal[]): string {
  const instead = ran.presentLocally
    ? 'running the newest usable mini on this host instead'
    : `running the older mini "${ran.tag}" from the registry instead`;
  const also =
    skipped.length > 0 ? `; also skipped ${countOf(skipped.length, 'older mini')}: ${summarise(skipped)}` : '';
  const which = refused.ref.tag === newest.tag ? 'the newest mini' : 'the mini';
  return `${which} ${describeRefusal(refused)}; ${refusalAdvice(refused)}${instead}${also}`;
}

/**
 * Every usable mini waits for a rollout to reach this host: not a failure, so the caller runs
 * the built-in payload without a warning, and --version says why (docs/releasing.md).
 */
export class NothingAdmitted extends RunDockerError {
  constructor(message: string) {
    super(message, 'It runs once a rollout step admits this host (docs/releasing.md); pin a mini to run one now.');
  }
}

function nothingAdmitted(repository: string, heldBack: readonly HeldBack[]): NothingAdmitted {
  return new NothingAdmitted(
    `no mini of "${repository}" has reached this host yet: ${heldBack.map(describeHeldBack).join('; ')}`,
  );
}

/** A trusted mini that is not for this host yet (release-policy.ts). */
interface Held {
  ref: ImageRef;
  held: HeldBack;
}

type Outcome = LoadedMini | Refusal | Held;

function isRefusal(outcome: Outcome): outcome is Refusal {
  return 'reason' in outcome;
}

function isLoaded(outcome: Outcome): outcome is LoadedMini {
  return 'payload' in outcome;
}

/** What obtainTrustedMini made of each image ID tried in this call. */
type Verdicts = Map<string, Promise<Awaited<ReturnType<typeof obtainTrustedMini>>>>;

/** One candidate: refused by its tag alone when it is older than the floor or halted (no
 *  pull), else pulled if absent, verified (once per image ID: `verdicts`), its signed version
 *  compared with its tag, and held back when its rollout has not reached this host. */
async function tryMini(
  source: ShimSource,
  trust: Trust,
  ref: ImageRef & { tag: string },
  presentLocally: boolean,
  floor: string | undefined,
  verdicts: Verdicts,
): Promise<Outcome> {
  if (floor !== undefined && (compareTagOrder(ref.tag, floor) ?? -1) < 0) {
    return { ref, reason: 'rollback', message: `it is older than ${floor}, which this host has already run` };
  }
  if (trust.release?.halted.has(ref.tag)) return { ref, reason: 'halted', message: 'a signed halt stopped it' };
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
    // Statements read just now may halt this very version (a halt carried by an older mini).
    if (trust.release?.halted.has(ref.tag)) return { ref, reason: 'halted', message: 'a signed halt stopped it' };
    const held = await trust.release?.admit(payload.manifest, floor);
    if (held) return { ref, held };
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
      return 'publish it signed with a key this host trusts; ';
    case 'mismatch':
      return 'delete that tag from the registry; ';
    case 'rollback':
      return 'pin a tag to roll back on purpose; ';
    case 'halted':
      return '';
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

/**
 * Nothing usable: one line that says what was tried and the fix for the first refused mini's
 * problem (none refused: the newer minis wait for their rollouts, and the older ones were left
 * out by the record, a halt or the pull bound).
 */
function noUsableMini(
  repository: string,
  refused: Refusal | undefined,
  newest: LocatedTag,
  heldBack: readonly HeldBack[],
  skipped: readonly Refusal[],
  plan: FallbackPlan,
  floor: VersionFloor,
  shimVersion: string,
): RunDockerError {
  const parts =
    refused?.ref.tag === newest.tag
      ? [`the newest, ${describeRefusal(refused)}`]
      : [
          `${countOf(heldBack.length, 'newer mini')} not for this host yet (${heldBack.map(describeHeldBack).join('; ')})`,
          ...(refused ? [describeRefusal(refused)] : []),
        ];
  if (skipped.length > 0) parts.push(`${countOf(skipped.length, 'older mini')} skipped: ${summarise(skipped)}`);
  if (plan.belowFloor > 0)
    parts.push(
      `${countOf(plan.belowFloor, 'older mini')} below ${floor.version}, which this host has already run, not tried`,
    );
  if (plan.halted > 0) parts.push(`${countOf(plan.halted, 'older mini')} halted, not tried`);
  if (plan.notPulled > 0)
    parts.push(
      `${countOf(plan.notPulled, 'older mini')} in the registry not pulled (at most ${MAX_FALLBACK_PULLS} are tried)`,
    );
  const pinOlder = `pin a mini with RUN_DOCKER_MINI=${repository}:TAG`;
  const hints: Record<Refusal['reason'], string> = {
    incompatible: `Update the shim (see docs/install.md of run-docker), or publish a mini that supports shim ${shimVersion} (scripts/publish mini --shim-range)`,
    untrusted:
      'Publish a mini signed with a key this host trusts (scripts/publish mini --signing-key), or pin a tiny that trusts its key',
    mismatch: `Delete the tag "${refused?.ref.tag ?? ''}" from the registry and publish the good payload again as a new version (scripts/publish mini)`,
    rollback: `Publish the good payload again as a new version (scripts/publish mini), or ${pinOlder} to roll back on purpose; this host's record is "${floor.file}"`,
    halted: `Publish a good payload as a new version (scripts/publish mini --from VERSION; docs/releasing.md), or ${pinOlder}`,
    corrupt: 'Publish a good mini again (scripts/publish mini)',
    pull: 'Check that the registry serves it, or run with --local',
  };
  const reason = refused?.reason ?? (plan.belowFloor > 0 ? 'rollback' : plan.halted > 0 ? 'halted' : undefined);
  if (reason === undefined)
    return new RunDockerError(
      `no usable mini of "${repository}": ${parts.join('; ')}`,
      `Wait for a rollout step that admits this host (docs/releasing.md), or ${pinOlder}.`,
    );
  const tail = reason === 'rollback' || reason === 'halted' ? '.' : plan.notPulled > 0 ? `, or ${pinOlder}.` : '.';
  return new RunDockerError(`no usable mini of "${repository}": ${parts.join('; ')}`, hints[reason] + tail);
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
