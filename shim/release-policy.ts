/**
 * What this host follows of a mini repository's releases in one call (docs/releasing.md):
 * its channel and bucket in staged rollouts, the keys it trusts after signed rotations
 * (key-ring.ts), and the versions signed halts stopped. Made once per call by run-shim.ts
 * from the config and the host's release state (release-state.ts); what a call learns from
 * the minis it reads is written back at its end.
 */
import type { Logger, PayloadManifest, Rollout } from '../contract/contract';
import { compareTagOrder } from '../common/compare-tag-order';
import { admissionTime, rolloutPercentAt } from '../common/rollout-schedule';
import { computeHostBucket, type Channel } from './host-bucket';
import { KeyRing } from './key-ring';
import type { ReleaseState } from './release-state';
import { checkHalts } from './verify-payload';

export class ReleasePolicy {
  readonly ring: KeyRing;
  readonly halted: Set<string>;
  /** Halted versions this call learnt: written to the release state at its end. */
  haltsChanged = false;
  private bucketValue: Promise<number> | undefined;
  /** Statements already warned about in this call (a mini read twice warns once). */
  private readonly warned = new Set<string>();

  constructor(
    readonly repository: string,
    readonly channel: Channel,
    readonly nowMs: number,
    baseKeys: ConstructorParameters<typeof KeyRing>[0],
    state: ReleaseState,
    /** The host's identity, read when a bucket is first needed (read-host-id.ts). */
    private readonly hostId: () => Promise<string>,
  ) {
    this.ring = new KeyRing(baseKeys, state.keys);
    this.halted = new Set(state.halted);
  }

  /** This host's bucket for the repository (0–99; canary 0), computed on first need. */
  bucket(): Promise<number> {
    this.bucketValue ??= this.hostId().then((id) => computeHostBucket(this.channel, id, this.repository));
    return this.bucketValue;
  }

  /** Whether anything this call learnt must be written to the release state. */
  get changed(): boolean {
    return this.ring.changed || this.haltsChanged;
  }

  get state(): ReleaseState {
    return { keys: this.ring.current, halted: [...this.halted] };
  }

  /**
   * Follows a mini's signed statements before its own signature is checked: its key chain
   * (a mini signed by a newly added key carries the statement that adds it), then its halts,
   * checked against the keys trusted after that chain. A statement that cannot be followed
   * is ignored with one warning; the mini itself is judged by its own signature.
   */
  followStatements(manifest: PayloadManifest, name: string, log: Logger): void {
    if (manifest.keys !== undefined) {
      const problems = this.ring.follow(manifest.keys);
      if (problems.length > 0)
        this.warnOnce(log, `the key statements of the mini "${name}" are ignored in part: ${problems.join('; ')}`);
    }
    this.followHalts(manifest, name, log);
  }

  /**
   * Follows a mini's signed halts alone: for a mini made for another shim, whose key
   * statements are not followed (retiring the key of every mini this shim can run, for a
   * mini it cannot, would leave it none), but whose halts say which versions are bad.
   */
  followHalts(manifest: PayloadManifest, name: string, log: Logger): void {
    const { halts } = manifest;
    if (halts === undefined) return;
    // Followed before: no signature to check (and no node:crypto to load) on a warm call.
    const lower = halts.versions.filter((version) => (compareTagOrder(version, manifest.version) ?? 0) < 0);
    if (lower.every((version) => this.halted.has(version))) return;
    const verdict = checkHalts({ ...manifest, halts }, this.ring.keys);
    if ('problem' in verdict) {
      this.warnOnce(log, `the halt statement of the mini "${name}" is ignored: it ${verdict.problem}`);
      return;
    }
    for (const version of verdict.versions) {
      if (this.halted.has(version)) continue;
      this.halted.add(version);
      this.haltsChanged = true;
    }
  }

  /**
   * Whether this host may run a mini now: a mini without a schedule always; one this host
   * has run (`floor`, the rollback record) always, so a clock set back never strands it; else
   * when its bucket is below the schedule's percentage now. When it may not: the facts for
   * --version.
   */
  async admit(manifest: PayloadManifest, floor: string | undefined): Promise<HeldBack | undefined> {
    const { rollout } = manifest;
    if (rollout === undefined || manifest.version === floor) return undefined;
    const percent = rolloutPercentAt(rollout, this.nowMs);
    if (percent >= 100) return undefined;
    const bucket = await this.bucket();
    if (bucket < percent) return undefined;
    return { version: manifest.version, percent, from: admissionTime(rollout, bucket) };
  }

  /** The admission a staged mini that runs had: for --version. */
  async describeAdmission(rollout: Rollout | undefined, version: string, floor: string | undefined): Promise<string> {
    if (rollout === undefined) return 'no rollout schedule: every host';
    const percent = rolloutPercentAt(rollout, this.nowMs);
    if (percent >= 100) return 'staged, now at 100%';
    if (version === floor) return `staged, now at ${percent}%; this host has run it before`;
    return `staged, now at ${percent}%, which admits bucket ${await this.bucket()}`;
  }

  private warnOnce(log: Logger, line: string): void {
    if (this.warned.has(line)) return;
    this.warned.add(line);
    log.warn(line);
  }
}

/** A trusted mini whose rollout has not reached this host yet: passed over, without a warning. */
export interface HeldBack {
  version: string;
  /** The schedule's percentage now. */
  percent: number;
  /** When this host's bucket is admitted (UTC), if any step admits it. */
  from?: string;
}

/** "20261203-000000 (at 25%; this host from 2026-12-08T04:00:00Z)" */
export function describeHeldBack(held: HeldBack): string {
  const from = held.from === undefined ? 'no step admits this host' : `this host from ${held.from}`;
  return `${held.version} (at ${held.percent}%; ${from})`;
}
