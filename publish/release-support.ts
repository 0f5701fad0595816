/**
 * What scripts/publish needs to release minis that build on earlier ones (docs/releasing.md):
 * halts, roll-forwards (`--from`), key rotations and the chain of key statements every later
 * mini carries. It reads published minis exactly as a host does (the shim's own bounded,
 * manifest-first reader: shim/read-image-payload.ts) and verifies them with the shim's checks,
 * so a publisher never re-signs a payload a host would refuse. Bundled as
 * dist/release-support.js (scripts/build.mjs).
 */
import type { EngineClient, Logger, PayloadManifest, TrustedKey } from '../contract/contract';
import { MANIFEST_FILE, PAYLOAD_DIR } from '../contract/contract';
import { withExtractionContainer } from '../common/copy-from-image';
import { compareTagOrder } from '../common/compare-tag-order';
import { formatBytes } from '../common/read-tar-files';
import { readImagePayload } from '../shim/read-image-payload';
import { checkBuildSignature, checkEntry, checkSignature, PayloadRejected, sha256Hex } from '../shim/verify-payload';

import { rolloutPercentAt } from '../common/rollout-schedule';
import { NOTICES, NOTICES_LIMIT_BYTES } from './check-payload-sizes';

export { formatRolloutSteps, parseRolloutOption } from '../common/rollout-schedule';
// scripts/publish holds what it builds to the bounds hosts (and it) read payloads with.
export { checkPayloadSizes } from './check-payload-sizes';

/** The first shim version that follows rollouts, halts and key statements. */
export const RELEASES_SHIM_VERSION = '0.2.0';

/** A published mini as read from its image, its files checked against its manifest. */
export interface PublishedMini {
  reference: string;
  manifest: PayloadManifest;
  /** The run entry, the build entry (when it has one) and the third-party notices, by name. */
  files: Map<string, Buffer>;
}

/**
 * The payload of the mini `reference` (on this engine already): manifest against the image
 * label, entries against the manifest, within the shim's bounds; plus its notices file, which
 * no manifest names (bounded too). Error (one line) when it cannot be used.
 */
export async function readPublishedMini(engine: EngineClient, reference: string, log: Logger): Promise<PublishedMini> {
  const image = await engine.inspectImage(reference);
  if (!image) throw new Error(`"${reference}" is not on this engine`);
  try {
    const payload = await readImagePayload({ engine, log }, image, 'mini');
    const { manifest } = payload;
    const entry = payload.files.get(manifest.entry);
    checkEntry(manifest, entry);
    const files = new Map([[manifest.entry, entry]]);
    if (manifest.build) {
      const build = payload.files.get(manifest.build.entry);
      checkEntry({ entry: manifest.build.entry, sha256: manifest.build.sha256 }, build, 'build entry');
      files.set(manifest.build.entry, build);
    }
    const notices = await withExtractionContainer(engine, image.id, (copy) =>
      copy(`${PAYLOAD_DIR}/${NOTICES}`, {
        maxArchiveBytes: NOTICES_LIMIT_BYTES + 64 * 1024,
        maxFileBytes: NOTICES_LIMIT_BYTES,
      }),
    ).catch(() => undefined);
    const noticesBytes = notices?.files.get(NOTICES);
    if (noticesBytes === undefined)
      throw new Error(`it has no ${PAYLOAD_DIR}/${NOTICES} of at most ${formatBytes(NOTICES_LIMIT_BYTES)}`);
    files.set(NOTICES, noticesBytes);
    return { reference, manifest, files };
  } catch (error) {
    throw new Error(`the mini "${reference}" cannot be used: ${(error as Error).message}`);
  }
}

/**
 * Whether a published mini is the publisher's: its run payload (and build payload) signed by
 * one of `keys` (the signing key's own, those given with --trust-key, those its chain added).
 * Undefined when it is; else why not.
 */
export function checkPublishedSignature(mini: PublishedMini, keys: readonly TrustedKey[]): string | undefined {
  try {
    checkSignature(mini.manifest, keys);
    const { build } = mini.manifest;
    if (build) checkBuildSignature({ ...mini.manifest, build }, keys);
    return undefined;
  } catch (error) {
    if (error instanceof PayloadRejected)
      return error.message.replace('the pinned tiny does not trust', 'publish was not given');
    throw error;
  }
}

/** The keys a mini's chain of key statements added (the publisher trusts them for its own minis). */
export function keysAddedByChain(manifest: PayloadManifest): TrustedKey[] {
  return (manifest.keys ?? []).flatMap((statement) => statement.add);
}

/**
 * The shim range of a mini that only shims ≥ RELEASES_SHIM_VERSION can follow (a schedule, a
 * key added by a chain): `range` narrowed to them, or the same range when it already is.
 * Older shims then skip the mini as "needs another shim" (one warning, their newest other
 * mini runs) instead of failing its signature.
 */
export function narrowShimRange(range: string, admitsOlder: (range: string) => boolean): string {
  if (!admitsOlder(range)) return range;
  return range
    .split('||')
    .map((part) => `${part.trim()} >=${RELEASES_SHIM_VERSION}`.trim())
    .join(' || ');
}

/**
 * Which published mini a halt of `version` goes back to (pure): the newest tag older than it
 * that is not halted, in `tagsNewestFirst` order. Error when `version` is not the newest (a
 * halt sends every host back, past anything newer too: docs/releasing.md) or is not there.
 */
export function planHalt(
  tagsNewestFirst: readonly string[],
  version: string,
  halted: ReadonlySet<string>,
): { candidates: string[] } {
  const newest = tagsNewestFirst[0];
  if (!tagsNewestFirst.includes(version))
    throw new Error(`there is no mini ${version} in the repository to halt (its newest is ${newest ?? 'none'})`);
  if (newest !== version)
    throw new Error(
      `mini ${version} is not the newest (${newest} is): a halt sends every host back past the newer ones too; halt ${newest}, or publish a good payload with "scripts/publish mini --from VERSION"`,
    );
  const candidates = tagsNewestFirst.filter((tag) => (compareTagOrder(tag, version) ?? 0) < 0 && !halted.has(tag));
  if (candidates.length === 0) throw new Error(`no mini older than ${version} is left to go back to`);
  return { candidates };
}

/** Why a mini is not yet for every host (completing "…, and "), or undefined when it is: no schedule, or at 100% at `nowMs`. */
export function describeUnfinishedRollout(manifest: PayloadManifest, nowMs: number): string | undefined {
  if (manifest.rollout === undefined) return undefined;
  const percent = rolloutPercentAt(manifest.rollout, nowMs);
  return percent >= 100 ? undefined : `it is still rolling out (at ${percent}%)`;
}

export { compareTagOrder, sha256Hex, MANIFEST_FILE };
