/**
 * Pure checks of a payload's files against what its image promises. The expected
 * manifest digest comes from an image label, and the image ID is the sha256 of the
 * config holding that label: so a file in the cache can be trusted only if it matches.
 */
import { compareTagOrder } from '../common/compare-tag-order';
import { loadCrypto } from '../common/lazy-builtins';
import { isRollout } from '../common/rollout-schedule';
import { isValidShimRange, satisfiesShimRange } from './satisfies-shim-range';
import {
  CONTRACT_VERSION,
  signedBuildPayloadText,
  signedHaltsText,
  signedPayloadText,
  type BuildEntry,
  type HaltStatement,
  type PayloadKind,
  type PayloadManifest,
  type TrustedKey,
} from '../contract/contract';

export function sha256Hex(bytes: Uint8Array | string): string {
  return loadCrypto().createHash('sha256').update(bytes).digest('hex');
}

/** Why a payload cannot be used: re-extraction may help for a bad cache, not for a bad image. */
export class PayloadRejected extends Error {
  constructor(
    message: string,
    readonly reason: 'corrupt' | 'incompatible' | 'untrusted',
    /** The manifest of a mini refused for another shim: its signed halts still count (release-policy.ts). */
    readonly manifest?: PayloadManifest,
  ) {
    super(message);
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const PLAIN_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function parseManifest(bytes: Uint8Array, expectedSha256: string, kind: PayloadKind): PayloadManifest {
  if (sha256Hex(bytes) !== expectedSha256) {
    throw new PayloadRejected('its manifest does not match the digest in the image label', 'corrupt');
  }
  return readManifestFields(bytes, kind);
}

/** parseManifest without the digest: only for bytes whose digest matched before (verified-record.ts). */
export function readManifestFields(bytes: Uint8Array, kind: PayloadKind): PayloadManifest {
  let manifest: Partial<PayloadManifest>;
  try {
    manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<PayloadManifest>;
  } catch {
    throw new PayloadRejected('its manifest is not JSON', 'corrupt');
  }
  if (typeof manifest !== 'object' || manifest === null)
    throw new PayloadRejected('its manifest is not an object', 'corrupt');
  if (typeof manifest.contract !== 'number')
    throw new PayloadRejected('its manifest has no contract version', 'corrupt');
  if (manifest.contract !== CONTRACT_VERSION) {
    throw new PayloadRejected(
      `it uses contract version ${manifest.contract} and this shim speaks version ${CONTRACT_VERSION}`,
      'incompatible',
    );
  }
  if (manifest.kind !== kind) throw new PayloadRejected(`it is a "${manifest.kind}" payload, not "${kind}"`, 'corrupt');
  if (typeof manifest.entry !== 'string' || !PLAIN_FILE_NAME.test(manifest.entry)) {
    throw new PayloadRejected('its manifest names no valid entry file', 'corrupt');
  }
  if (typeof manifest.sha256 !== 'string' || !SHA256_HEX.test(manifest.sha256)) {
    throw new PayloadRejected('its manifest has no valid sha256', 'corrupt');
  }
  if (typeof manifest.version !== 'string' || manifest.version === '') {
    throw new PayloadRejected('its manifest has no version', 'corrupt');
  }
  if (typeof manifest.shim !== 'string' || !isValidShimRange(manifest.shim)) {
    throw new PayloadRejected('its manifest has no valid shim version range', 'corrupt');
  }
  const signature = manifest.signature ?? null;
  if (signature !== null && (typeof signature.keyId !== 'string' || typeof signature.value !== 'string')) {
    throw new PayloadRejected('its manifest has a malformed signature', 'corrupt');
  }
  if (manifest.trustedKeys !== undefined && !isTrustedKeyList(manifest.trustedKeys)) {
    throw new PayloadRejected('its manifest has malformed trusted keys', 'corrupt');
  }
  if (manifest.build !== undefined && !isBuildEntry(manifest.build, manifest.entry)) {
    throw new PayloadRejected('its manifest names no valid build entry', 'corrupt');
  }
  // Release fields (docs/releasing.md): a schedule the shim cannot follow is no schedule to
  // guess at; statements are checked one by one where they are followed (key-ring.ts, checkHalts).
  if (manifest.rollout !== undefined && !isRollout(manifest.rollout)) {
    throw new PayloadRejected('its manifest has a malformed rollout', 'corrupt');
  }
  if (manifest.halts !== undefined && !isHaltStatement(manifest.halts)) {
    throw new PayloadRejected('its manifest has a malformed halt statement', 'corrupt');
  }
  if (manifest.keys !== undefined && !Array.isArray(manifest.keys)) {
    throw new PayloadRejected('its manifest has malformed key statements', 'corrupt');
  }
  return { ...manifest, signature } as PayloadManifest;
}

/** The optional build entry: a plain file name other than the run entry's, a sha256, a signature or null. */
function isBuildEntry(value: unknown, runEntry: string): value is BuildEntry {
  const build = value as Partial<BuildEntry> | null;
  if (typeof build !== 'object' || build === null) return false;
  if (
    typeof build.entry !== 'string' ||
    !PLAIN_FILE_NAME.test(build.entry) ||
    build.entry === runEntry ||
    build.entry === 'manifest.json'
  )
    return false;
  if (typeof build.sha256 !== 'string' || !SHA256_HEX.test(build.sha256)) return false;
  const signature = build.signature ?? null;
  return signature === null || (typeof signature.keyId === 'string' && typeof signature.value === 'string');
}

/** At most this many halted versions in one statement: a halt names a few bad releases. */
const MAX_HALTED_VERSIONS = 256;

function isHaltStatement(value: unknown): value is HaltStatement {
  const halts = value as Partial<Record<keyof HaltStatement, unknown>> | null;
  if (typeof halts !== 'object' || halts === null || !Array.isArray(halts.versions)) return false;
  if (halts.versions.length > MAX_HALTED_VERSIONS) return false;
  if (!halts.versions.every((version) => typeof version === 'string' && compareTagOrder(version, version) === 0))
    return false;
  const signature: { keyId?: unknown; value?: unknown } | null = halts.signature ?? null;
  return signature === null || (typeof signature.keyId === 'string' && typeof signature.value === 'string');
}

function isTrustedKeyList(value: unknown): value is TrustedKey[] {
  return (
    Array.isArray(value) &&
    value.every((key: unknown) => {
      const { keyId, publicKey } = (key ?? {}) as Partial<Record<keyof TrustedKey, unknown>>;
      return typeof keyId === 'string' && typeof publicKey === 'string';
    })
  );
}

/** The manifest's ed25519 signature must come from one of `trustedKeys` (tiny's); the key it verified with. */
export function checkSignature(manifest: PayloadManifest, trustedKeys: readonly TrustedKey[]): TrustedKey {
  if (!manifest.signature) throw new PayloadRejected('it is not signed', 'untrusted');
  const key = trustedKeys.find((candidate) => candidate.keyId === manifest.signature!.keyId);
  if (!key)
    throw new PayloadRejected(
      `it is signed by key ${manifest.signature.keyId}, which this host does not trust`,
      'untrusted',
    );
  const valid = verifiesWith(key, signedPayloadText(manifest), manifest.signature.value);
  if (!valid) throw new PayloadRejected(`its signature by key ${key.keyId} does not verify`, 'untrusted');
  return key;
}

/**
 * Pure: whether the manifest's signature is known to verify with a key in `trustedKeys`
 * without checking it again: `verifiedWith` is the key it verified with before, for these
 * very manifest bytes (verified-record.ts), and the trusted key of that ID is that same key.
 * A key the tiny no longer carries, or carries with other bytes, means checking again.
 */
export function isSignatureKnownGood(
  manifest: PayloadManifest,
  trustedKeys: readonly TrustedKey[],
  verifiedWith: TrustedKey | undefined,
): boolean {
  if (!verifiedWith || manifest.signature?.keyId !== verifiedWith.keyId) return false;
  return trustedKeys.some((key) => key.keyId === verifiedWith.keyId && key.publicKey === verifiedWith.publicKey);
}

/**
 * The build entry's own ed25519 signature (signedBuildPayloadText) must come from one of
 * `trustedKeys`, as checkSignature for the run entry.
 */
export function checkBuildSignature(
  manifest: PayloadManifest & { build: BuildEntry },
  trustedKeys: readonly TrustedKey[],
): void {
  const signature = manifest.build.signature;
  if (!signature) throw new PayloadRejected('its build payload is not signed', 'untrusted');
  const key = trustedKeys.find((candidate) => candidate.keyId === signature.keyId);
  if (!key)
    throw new PayloadRejected(
      `its build payload is signed by key ${signature.keyId}, which this host does not trust`,
      'untrusted',
    );
  if (!verifiesWith(key, signedBuildPayloadText(manifest), signature.value)) {
    throw new PayloadRejected(`the signature of its build payload by key ${key.keyId} does not verify`, 'untrusted');
  }
}

/** Whether `signature` (base64) is `key`'s ed25519 signature of `text`. */
export function verifiesWith(key: TrustedKey, text: string, signature: string): boolean {
  try {
    const { createPublicKey, verify } = loadCrypto();
    const publicKey = createPublicKey({ key: Buffer.from(key.publicKey, 'base64'), format: 'der', type: 'spki' });
    return verify(null, Buffer.from(text), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * The versions a mini's halt statement halts, when a key in `trustedKeys` signed it; only
 * versions lower than the mini's own count (a halt stops what came before it, never what
 * comes after). `problem` completes "its halt statement … is ignored" otherwise.
 */
export function checkHalts(
  manifest: PayloadManifest & { halts: HaltStatement },
  trustedKeys: readonly TrustedKey[],
): { versions: string[] } | { problem: string } {
  const { signature } = manifest.halts;
  if (!signature) return { problem: 'is not signed' };
  const key = trustedKeys.find((candidate) => candidate.keyId === signature.keyId);
  if (!key) return { problem: `is signed by key ${signature.keyId}, which this host does not trust` };
  if (!verifiesWith(key, signedHaltsText(manifest), signature.value))
    return { problem: `has a signature by key ${key.keyId} that does not verify` };
  return {
    versions: manifest.halts.versions.filter((version) => (compareTagOrder(version, manifest.version) ?? 0) < 0),
  };
}

export function checkShimCompatible(manifest: PayloadManifest, shimVersion: string): void {
  if (!satisfiesShimRange(shimVersion, manifest.shim)) {
    throw new PayloadRejected(
      `it needs shim ${manifest.shim} and this shim is ${shimVersion}`,
      'incompatible',
      manifest,
    );
  }
}

export function checkEntry<T extends Uint8Array>(
  manifest: Pick<PayloadManifest, 'entry' | 'sha256'>,
  entryBytes: T | undefined,
  what = 'entry',
): asserts entryBytes is T {
  if (entryBytes === undefined) throw new PayloadRejected(`its ${what} "${manifest.entry}" is missing`, 'corrupt');
  if (sha256Hex(entryBytes) !== manifest.sha256) {
    throw new PayloadRejected(`its ${what} "${manifest.entry}" does not match the manifest's sha256`, 'corrupt');
  }
}
