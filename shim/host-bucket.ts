/**
 * A host's bucket in staged rollouts (docs/releasing.md): 0–99, the same on every call for one
 * host and one mini repository, and spread evenly over a fleet. Pure.
 *
 * A hash of the host's identity and the repository: only the bucket is ever shown, never the
 * identity (systemd's machine-id(5) asks that a machine ID be exposed only through such a
 * derivation). Not sha256: the bucket is needed on every call of a host that waits for a
 * staged mini, and loading node:crypto costs such a call ~10 ms (docs/performance.md) that
 * the rest of a warm call avoids; nothing here needs a hash that resists an attacker (anyone
 * may choose a bucket: `channel: canary` is bucket 0). FNV-1a over the UTF-8 bytes, then
 * MurmurHash3's 32-bit finaliser, so that identities differing in one character (host-1,
 * host-2) land far apart.
 */
export type Channel = 'stable' | 'canary';
export const CHANNELS: readonly Channel[] = ['stable', 'canary'];

/** The bucket of `hostId` for `repository` (formatRepository form); canary hosts are bucket 0, admitted first. */
export function computeHostBucket(channel: Channel, hostId: string, repository: string): number {
  if (channel === 'canary') return 0;
  // 2^32 mod 100 = 96: no bucket is favoured by more than 1 in 40 million.
  return mix32(fnv1a32(`run-docker-rollout-bucket-v1\n${hostId}\n${repository}`)) % 100;
}

function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** MurmurHash3's fmix32: every input bit changes each output bit with probability ~1/2. */
function mix32(value: number): number {
  let hash = value;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}
