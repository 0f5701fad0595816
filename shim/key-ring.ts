/**
 * The keys this host trusts to sign the minis of one repository (docs/releasing.md, "Key
 * rotation"): the pinned tiny's keys, plus the keys signed key statements added, minus every
 * key ID one retired. Retirements are kept for good (release-state.ts), so a retired key can
 * never sign a mini or a statement again on a host that has seen its retirement, nor be added
 * back by anyone. Pure but for ed25519 checks.
 */
import { signedKeyStatementText, type KeyStatement, type TrustedKey } from '../contract/contract';
import { sha256Hex, verifiesWith } from './verify-payload';

/** What a host remembers of rotations, per mini repository. */
export interface KeyState {
  added: TrustedKey[];
  retired: string[];
}

/** Statements a mini may carry: a chain of rotations is a few; more is not a chain. */
export const MAX_KEY_STATEMENTS = 64;
const MAX_KEYS_PER_STATEMENT = 16;
const KEY_ID = /^[0-9a-f]{16}$/;

export class KeyRing {
  private state: KeyState;
  /** Whether follow() changed the state since it was read: then release-state.ts writes it. */
  changed = false;

  constructor(
    private readonly base: readonly TrustedKey[],
    state: KeyState = { added: [], retired: [] },
  ) {
    this.state = { added: [...state.added], retired: [...state.retired] };
  }

  /** The keys trusted now: the tiny's and those added, without any retired one. */
  get keys(): TrustedKey[] {
    const retired = new Set(this.state.retired);
    const keys: TrustedKey[] = [];
    for (const key of [...this.base, ...this.state.added])
      if (!retired.has(key.keyId) && !keys.some((known) => known.keyId === key.keyId)) keys.push(key);
    return keys;
  }

  /** Whether a rotation this host has seen retired `keyId`. */
  isRetired(keyId: string): boolean {
    return this.state.retired.includes(keyId);
  }

  get current(): KeyState {
    return { added: [...this.state.added], retired: [...this.state.retired] };
  }

  /**
   * Follows a mini's chain of key statements, oldest first. A statement already followed is
   * passed over; one that would change something is followed only when a key trusted at that
   * point signed it. The rest are ignored: what was wrong with each (for one warning), empty
   * when nothing was.
   */
  follow(statements: readonly unknown[]): string[] {
    const problems: string[] = [];
    for (const [index, value] of statements.slice(0, MAX_KEY_STATEMENTS).entries()) {
      const problem = this.followOne(value);
      if (problem !== undefined) problems.push(`statement ${index + 1} ${problem}`);
    }
    if (statements.length > MAX_KEY_STATEMENTS)
      problems.push(`${statements.length - MAX_KEY_STATEMENTS} statements past the first ${MAX_KEY_STATEMENTS}`);
    return problems;
  }

  /** Why the statement was not followed (completing "statement N "), or undefined. */
  private followOne(value: unknown): string | undefined {
    if (!isKeyStatement(value)) return 'is malformed';
    const retired = new Set(this.state.retired);
    const trusted = this.keys;
    const adds = value.add.filter(
      (key) => !retired.has(key.keyId) && !trusted.some((known) => known.keyId === key.keyId),
    );
    const retires = value.retire.filter((keyId) => !retired.has(keyId));
    // Followed before (or it only adds keys retired since): nothing to check, and no
    // node:crypto to load on a warm call.
    if (adds.length === 0 && retires.length === 0) return undefined;
    if (!adds.every(hasOwnKeyId)) return 'adds a key whose ID is not its own';
    const { signature } = value;
    if (!signature) return 'is not signed';
    const signer = trusted.find((key) => key.keyId === signature.keyId);
    if (!signer)
      return retired.has(signature.keyId)
        ? `is signed by key ${signature.keyId}, which this host has seen retired`
        : `is signed by key ${signature.keyId}, which this host does not trust`;
    if (!verifiesWith(signer, signedKeyStatementText(value), signature.value))
      return `has a signature by key ${signer.keyId} that does not verify`;
    this.state = {
      added: [...this.state.added.filter((key) => !retires.includes(key.keyId)), ...adds],
      retired: [...this.state.retired, ...retires],
    };
    this.changed = true;
    return undefined;
  }
}

/** Whether a key's ID is the one its bytes give: the first 16 hex digits of the sha256 of its DER. */
function hasOwnKeyId(key: TrustedKey): boolean {
  return sha256Hex(Buffer.from(key.publicKey, 'base64')).slice(0, 16) === key.keyId;
}

/** A statement's shape (ID and bytes of added keys are compared by hasOwnKeyId, when it matters). */
function isKeyStatement(value: unknown): value is KeyStatement {
  const statement = value as Partial<Record<keyof KeyStatement, unknown>> | null;
  if (typeof statement !== 'object' || statement === null) return false;
  const { add, retire, signature } = statement;
  if (!Array.isArray(add) || !Array.isArray(retire)) return false;
  if (add.length + retire.length > MAX_KEYS_PER_STATEMENT) return false;
  if (!retire.every((keyId) => typeof keyId === 'string' && KEY_ID.test(keyId))) return false;
  const keysValid = add.every((key: unknown) => {
    const { keyId, publicKey } = (key ?? {}) as Partial<Record<keyof TrustedKey, unknown>>;
    return typeof keyId === 'string' && KEY_ID.test(keyId) && typeof publicKey === 'string';
  });
  if (!keysValid) return false;
  const { keyId, value: signed } = (signature ?? {}) as Partial<Record<'keyId' | 'value', unknown>>;
  return signature === null || (typeof keyId === 'string' && typeof signed === 'string');
}
