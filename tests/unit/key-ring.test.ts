import { KeyRing } from '../../shim/key-ring';
import { keyStatement, makeSigningKey } from '../helpers/payload-images';

const old = makeSigningKey();
const next = makeSigningKey();
const thief = makeSigningKey();
const ids = (ring: KeyRing) => ring.keys.map((key) => key.keyId).sort();

describe('KeyRing', () => {
  it('follows a rotation signed by a key it trusts: the new key is added, the old one retired', () => {
    const ring = new KeyRing([old.trusted]);
    expect(ring.follow([keyStatement([next], [old.trusted.keyId], old)])).toEqual([]);
    expect(ids(ring)).toEqual([next.trusted.keyId]);
    expect(ring.isRetired(old.trusted.keyId)).toBe(true);
    expect(ring.changed).toBe(true);
  });

  it("follows a chain from the tiny's keys, each statement signed by a key trusted at that point", () => {
    const third = makeSigningKey();
    const ring = new KeyRing([old.trusted]);
    const chain = [keyStatement([next], [old.trusted.keyId], old), keyStatement([third], [next.trusted.keyId], next)];
    expect(ring.follow(chain)).toEqual([]);
    expect(ids(ring)).toEqual([third.trusted.keyId]);
    // A host that followed it before passes over it: nothing changes, nothing to check.
    const again = new KeyRing([old.trusted], ring.current);
    expect(again.follow(chain)).toEqual([]);
    expect(again.changed).toBe(false);
  });

  it('never lets a retired key sign a statement again, nor be added back by anyone', () => {
    const ring = new KeyRing([old.trusted], { added: [next.trusted], retired: [old.trusted.keyId] });
    expect(ring.follow([keyStatement([thief], [next.trusted.keyId], old)])).toEqual([
      `statement 1 is signed by key ${old.trusted.keyId}, which this host has seen retired`,
    ]);
    // The trusted new key adding the retired one back: passed over, nothing changes.
    expect(ring.follow([keyStatement([old], [], next)])).toEqual([]);
    expect(ids(ring)).toEqual([next.trusted.keyId]);
    expect(ring.changed).toBe(false);
  });

  it('ignores unsigned, foreign-signed, forged and malformed statements, and says why for each', () => {
    const ring = new KeyRing([old.trusted]);
    const forged = keyStatement([thief], [], old);
    const problems = ring.follow([
      keyStatement([thief], [], undefined),
      keyStatement([thief], [], thief),
      { ...forged, add: [next.trusted] },
      { ...forged, add: [{ ...thief.trusted, keyId: next.trusted.keyId }] },
      { add: 'all', retire: [] },
    ]);
    expect(problems).toEqual([
      'statement 1 is not signed',
      `statement 2 is signed by key ${thief.trusted.keyId}, which this host does not trust`,
      `statement 3 has a signature by key ${old.trusted.keyId} that does not verify`,
      'statement 4 adds a key whose ID is not its own',
      'statement 5 is malformed',
    ]);
    expect(ids(ring)).toEqual([old.trusted.keyId]);
    expect(ring.changed).toBe(false);
  });

  it("keeps the tiny's other keys when one is retired", () => {
    const other = makeSigningKey();
    const ring = new KeyRing([old.trusted, other.trusted]);
    ring.follow([keyStatement([], [old.trusted.keyId], other)]);
    expect(ids(ring)).toEqual([other.trusted.keyId]);
  });
});
