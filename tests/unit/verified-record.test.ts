/**
 * Verification records (shim/verified-record.ts): the pure parts, and the signature of a
 * cached mini checked once per key (shim/obtain-trusted-mini.ts) on an engine in memory.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseImageRef } from '../../common/image-ref';
import { obtainTrustedMini, type ShimSource } from '../../shim/obtain-trusted-mini';
import {
  isUnchanged,
  parseVerifiedRecord,
  recordOf,
  SETTLED_AFTER_MS,
  verifiedRecordPath,
} from '../../shim/verified-record';
import { isSignatureKnownGood, PayloadRejected } from '../../shim/verify-payload';
import { createFakeEngine } from '../helpers/fake-engine';
import { makeSigningKey, miniImage } from '../helpers/payload-images';

const stamp = (identity: string, changedAtMs: number) => ({ identity, changedAtMs });

describe('records', () => {
  it('keep only files settled for SETTLED_AFTER_MS, and say unchanged only for the same identity', () => {
    const stamps = new Map([
      ['manifest.json', stamp('1:2:3:4:5', 10_000)],
      ['run.js', stamp('1:3:9:9:9', 10_000 + 1)],
    ]);
    const record = recordOf(stamps, 10_000 + SETTLED_AFTER_MS);
    expect(record).toEqual({ files: { 'manifest.json': '1:2:3:4:5' } });
    expect(isUnchanged(record, 'manifest.json', stamp('1:2:3:4:5', 0))).toBe(true);
    expect(isUnchanged(record, 'manifest.json', stamp('1:2:3:4:6', 0))).toBe(false);
    expect(isUnchanged(record, 'run.js', stamp('1:3:9:9:9', 0))).toBe(false);
    expect(isUnchanged(undefined, 'run.js', stamp('1:3:9:9:9', 0))).toBe(false);
  });

  it('parse only in their own shape', () => {
    const key = { keyId: 'k', publicKey: 'cHVi' };
    expect(parseVerifiedRecord(JSON.stringify({ files: { 'run.js': 'a' }, signedBy: key }))).toEqual({
      files: { 'run.js': 'a' },
      signedBy: key,
    });
    for (const text of [
      '',
      'null',
      '[]',
      '{"files": {"run.js": 1}}',
      '{"files": {}, "signedBy": {"keyId": 1}}',
      '{"signedBy": {}}',
    ]) {
      expect(parseVerifiedRecord(text)).toBeUndefined();
    }
  });

  it('vouch for a signature only with the very key the tiny still trusts under that ID', () => {
    const signer = makeSigningKey();
    const other = makeSigningKey();
    const manifest = { signature: { keyId: signer.trusted.keyId, value: 'sig' } } as never;
    expect(isSignatureKnownGood(manifest, [signer.trusted], signer.trusted)).toBe(true);
    expect(isSignatureKnownGood(manifest, [other.trusted], signer.trusted)).toBe(false);
    expect(
      isSignatureKnownGood(
        manifest,
        [{ keyId: signer.trusted.keyId, publicKey: other.trusted.publicKey }],
        signer.trusted,
      ),
    ).toBe(false);
    expect(isSignatureKnownGood(manifest, [signer.trusted], undefined)).toBe(false);
    expect(isSignatureKnownGood({ signature: null } as never, [signer.trusted], signer.trusted)).toBe(false);
  });
});

describe('the signature of a cached mini', () => {
  let cacheRoot: string;
  beforeEach(async () => {
    cacheRoot = await mkdtemp(join(tmpdir(), 'run-docker-verified-'));
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await rm(cacheRoot, { recursive: true, force: true });
  });

  it('is checked once per key, and again when the tiny stops trusting that key', async () => {
    const engine = createFakeEngine();
    const signer = makeSigningKey();
    const id = engine.addImage('mini:1', miniImage({ version: '20260101-000000', signer }));
    const source: ShimSource = {
      engine,
      cacheRoot,
      shimVersion: '1.0.0',
      log: { warn: () => undefined, debug: () => undefined },
      pull: async () => undefined,
    };
    const ref = parseImageRef('mini:1');
    const image = (await engine.inspectImage(id))!;
    await obtainTrustedMini(source, { keys: [signer.trusted], allowUnsigned: false }, image, ref); // extracted
    jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 5_000); // the files have settled
    const crypto = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    const verifies = jest.spyOn(crypto, 'verify');

    await obtainTrustedMini(source, { keys: [signer.trusted], allowUnsigned: false }, image, ref);
    expect(verifies).toHaveBeenCalledTimes(1);
    expect(JSON.parse(await readFile(verifiedRecordPath(cacheRoot, id), 'utf8'))).toMatchObject({
      signedBy: signer.trusted,
    });
    verifies.mockClear();
    expect(await obtainTrustedMini(source, { keys: [signer.trusted], allowUnsigned: false }, image, ref)).toMatchObject(
      { trusted: true },
    );
    expect(verifies).not.toHaveBeenCalled();

    // The same key ID with other bytes (a tiny that replaced the key): checked, and refused.
    const impostor = { keyId: signer.trusted.keyId, publicKey: makeSigningKey().trusted.publicKey };
    const refused = await obtainTrustedMini(source, { keys: [impostor], allowUnsigned: false }, image, ref).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(PayloadRejected);
    expect(refused).toMatchObject({ reason: 'untrusted' });
    expect(verifies).toHaveBeenCalledTimes(1);
    // A tiny without that key at all: refused without a record to lean on.
    await expect(
      obtainTrustedMini(source, { keys: [makeSigningKey().trusted], allowUnsigned: false }, image, ref),
    ).rejects.toMatchObject({ reason: 'untrusted' });
  });
});
