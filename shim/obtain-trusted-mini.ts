/**
 * A mini payload the pinned tiny's keys vouch for, and the types the shim's ways of
 * choosing a mini (pinned, newest, older fallbacks) share.
 */
import type { TrustedKey } from '../contract/contract';
import { formatImageRef, type ImageRef } from '../common/image-ref';
import type { LocalImage } from '../common/inspect-image';
import { obtainPayload, type PayloadSource, type VerifiedPayload } from './obtain-payload';
import { recordOf, writeVerifiedRecord } from './verified-record';
import { checkSignature, isSignatureKnownGood, PayloadRejected } from './verify-payload';

/** Which mini payloads may run: signed by a key the pinned tiny carries, or anything if allowed. */
export interface Trust {
  keys: TrustedKey[];
  allowUnsigned: boolean;
}

export interface LoadedMini {
  ref: ImageRef;
  image: LocalImage;
  payload: VerifiedPayload;
  /** Its signature verified against tiny's keys (false only under allowUnsigned). */
  trusted: boolean;
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
  const payload = await obtainPayload(source, image, 'mini');
  const { record } = payload;
  // Checked by an earlier call with the key the tiny still trusts, and not changed since (verified-record.ts).
  if (record && isSignatureKnownGood(payload.manifest, trust.keys, record.signedBy)) return { payload, trusted: true };
  try {
    const key = checkSignature(payload.manifest, trust.keys);
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
