/**
 * A mini payload the pinned tiny's keys vouch for, and the types the shim's ways of
 * choosing a mini (pinned, newest, older fallbacks) share.
 */
import type { TrustedKey } from '../contract/contract';
import { formatImageRef, type ImageRef } from '../common/image-ref';
import type { LocalImage } from '../common/inspect-image';
import { obtainPayload, type PayloadSource, type VerifiedPayload } from './obtain-payload';
import type { HeldBack, ReleasePolicy } from './release-policy';
import { recordOf, writeVerifiedRecord } from './verified-record';
import { checkSignature, isSignatureKnownGood, PayloadRejected } from './verify-payload';

/** Which mini payloads may run: signed by a key the pinned tiny carries, or anything if allowed. */
export interface Trust {
  /** The pinned tiny's keys. */
  keys: TrustedKey[];
  allowUnsigned: boolean;
  /**
   * The repository's releases as this host follows them (release-policy.ts): its key ring
   * (the tiny's keys after signed rotations) then decides, and halts and schedules apply.
   */
  release?: ReleasePolicy;
}

/** The keys a mini must be signed with now: the tiny's, after the rotations this host has followed. */
export function currentKeys(trust: Trust): TrustedKey[] {
  return trust.release ? trust.release.ring.keys : trust.keys;
}

export interface LoadedMini {
  ref: ImageRef;
  image: LocalImage;
  payload: VerifiedPayload;
  /** Its signature verified against tiny's keys (false only under allowUnsigned). */
  trusted: boolean;
  /** Newer trusted minis passed over because their rollout has not reached this host yet, newest first. */
  heldBack?: HeldBack[];
}

/** Pulls exactly `ref` with the credentials `docker login` stored for its registry, showing progress. */
export type Pull = (ref: ImageRef) => Promise<void>;

export interface ShimSource extends PayloadSource {
  pull: Pull;
}

/** A verified mini payload signed by a trusted key, or any verified one where the host allows that
 *  (with a warning); PayloadRejected('untrusted') otherwise. `trusted`: its signature verified. */
export async function obtainTrustedMini(
  source: ShimSource,
  trust: Trust,
  image: LocalImage,
  ref: ImageRef,
): Promise<{ payload: VerifiedPayload; trusted: boolean }> {
  const payload = await obtainPayload(source, image, 'mini').catch((error: unknown) => {
    // Made for another shim: what it halts is still bad for this one.
    if (error instanceof PayloadRejected && error.manifest)
      trust.release?.followHalts(error.manifest, formatImageRef(ref), source.log);
    throw error;
  });
  const { record } = payload;
  // A mini signed by a newly added key carries the statement that adds it: followed first.
  trust.release?.followStatements(payload.manifest, formatImageRef(ref), source.log);
  const keys = currentKeys(trust);
  // Checked by an earlier call with a key still trusted, and not changed since (verified-record.ts).
  if (record && isSignatureKnownGood(payload.manifest, keys, record.signedBy)) return { payload, trusted: true };
  try {
    const signedBy = payload.manifest.signature?.keyId;
    if (signedBy !== undefined && trust.release?.ring.isRetired(signedBy))
      throw new PayloadRejected(
        `it is signed by key ${signedBy}, which a key rotation this host has seen retired`,
        'untrusted',
      );
    const key = checkSignature(payload.manifest, keys);
    if (record) await writeVerifiedRecord(record.file, recordOf(record.stamps, Date.now(), key), source.log);
    return { payload, trusted: true };
  } catch (error) {
    if (!(error instanceof PayloadRejected) || !trust.allowUnsigned) throw error;
    source.log.warn(
      `RUNNING UNTRUSTED CODE: mini "${formatImageRef(ref)}" ${error.message}, and this host allows that (RUN_DOCKER_ALLOW_UNSIGNED / allowUnsigned); never do this on a host that matters`,
    );
    return { payload, trusted: false };
  }
}

/** Completes "the mini … " when its tag is not the version its signature names. */
export function describeMismatch(tag: string, version: string): string {
  return `was signed as version ${version}, not ${tag}: an older mini pushed again under a newer tag is refused`;
}
