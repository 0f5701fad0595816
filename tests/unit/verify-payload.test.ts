import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { CONTRACT_VERSION, signedBuildPayloadText, signedPayloadText } from '../../contract/contract';
import {
  checkBuildSignature,
  checkEntry,
  checkShimCompatible,
  checkSignature,
  parseManifest,
  PayloadRejected,
  sha256Hex,
} from '../../shim/verify-payload';

const entry = Buffer.from('exports.main = async () => 0;');
const manifest = {
  contract: CONTRACT_VERSION,
  kind: 'mini',
  version: '20261128-101500',
  entry: 'run.js',
  sha256: sha256Hex(entry),
  shim: '>=0.1.0 <1.0.0',
  signature: null,
};
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

function rejection(action: () => unknown): PayloadRejected {
  try {
    action();
  } catch (error) {
    if (error instanceof PayloadRejected) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('parseManifest', () => {
  it('accepts a manifest whose digest matches the image label', () => {
    const manifestBytes = bytes(manifest);
    expect(parseManifest(manifestBytes, sha256Hex(manifestBytes), 'mini')).toEqual(manifest);
  });

  it('rejects a manifest that differs from the label as corrupt', () => {
    const error = rejection(() => parseManifest(bytes({ ...manifest, shim: '*' }), sha256Hex(bytes(manifest)), 'mini'));
    expect(error.reason).toBe('corrupt');
  });

  it.each([
    ['not JSON', Buffer.from('{not json'), /not JSON/],
    ['wrong kind', bytes({ ...manifest, kind: 'tiny' }), /not "mini"/],
    ['path-like entry', bytes({ ...manifest, entry: '../x.js' }), /no valid entry/],
    ['bad sha256', bytes({ ...manifest, sha256: 'abc' }), /no valid sha256/],
    ['bad range', bytes({ ...manifest, shim: 'soon' }), /shim version range/],
    ['no version', bytes({ ...manifest, version: '' }), /no version/],
  ])('rejects a manifest with %s', (_name, content, message) => {
    const error = rejection(() => parseManifest(content, sha256Hex(content), 'mini'));
    expect(error.message).toMatch(message);
    expect(error.reason).toBe('corrupt');
  });

  it('calls a newer contract version incompatible, not corrupt', () => {
    const content = bytes({ ...manifest, contract: CONTRACT_VERSION + 1 });
    expect(rejection(() => parseManifest(content, sha256Hex(content), 'mini')).reason).toBe('incompatible');
  });

  it('refuses a payload of contract version 1 (ctx.docker, a dockerode client) as incompatible', () => {
    const content = bytes({ ...manifest, contract: 1 });
    const error = rejection(() => parseManifest(content, sha256Hex(content), 'mini'));
    expect({ reason: error.reason, message: error.message }).toEqual({
      reason: 'incompatible',
      message: 'it uses contract version 1 and this shim speaks version 2',
    });
  });
});

describe('checkShimCompatible', () => {
  it('accepts shims inside the range and rejects others with the range in the message', () => {
    expect(() => checkShimCompatible(manifest as never, '0.4.2')).not.toThrow();
    const error = rejection(() => checkShimCompatible({ ...manifest, shim: '>=99.0.0' } as never, '0.1.0'));
    expect(error.reason).toBe('incompatible');
    expect(error.message).toBe('it needs shim >=99.0.0 and this shim is 0.1.0');
  });
});

describe('checkEntry', () => {
  it('accepts the exact entry and rejects a changed or missing one', () => {
    expect(() => checkEntry(manifest as never, entry)).not.toThrow();
    expect(rejection(() => checkEntry(manifest as never, Buffer.concat([entry, Buffer.from('\n')]))).message).toMatch(
      /does not match/,
    );
    expect(rejection(() => checkEntry(manifest as never, undefined)).message).toMatch(/missing/);
  });
});

describe('checkSignature', () => {
  const pair = () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const der = publicKey.export({ type: 'spki', format: 'der' });
    return {
      privateKey,
      trusted: {
        keyId: createHash('sha256').update(der).digest('hex').slice(0, 16),
        publicKey: der.toString('base64'),
      },
    };
  };
  const signer = pair();
  const other = pair();
  const signed = (by: ReturnType<typeof pair>, content = manifest) => ({
    ...content,
    signature: {
      keyId: by.trusted.keyId,
      value: sign(null, Buffer.from(signedPayloadText(content as never)), by.privateKey).toString('base64'),
    },
  });

  it('accepts a signature by a trusted key', () => {
    expect(() => checkSignature(signed(signer) as never, [other.trusted, signer.trusted])).not.toThrow();
  });

  it.each([
    ['unsigned', () => ({ ...manifest, signature: null }), /it is not signed/],
    ['signed by an untrusted key', () => signed(other), /which the pinned tiny does not trust/],
    ['with a changed shim range after signing', () => ({ ...signed(signer), shim: '*' }), /does not verify/],
    [
      'with a changed entry digest after signing',
      () => ({ ...signed(signer), sha256: 'f'.repeat(64) }),
      /does not verify/,
    ],
    [
      'with a garbage signature',
      () => ({ ...manifest, signature: { keyId: signer.trusted.keyId, value: 'AAAA' } }),
      /does not verify/,
    ],
  ])('refuses a manifest %s as untrusted', (_name, make, message) => {
    const error = rejection(() => checkSignature(make() as never, [signer.trusted]));
    expect(error.reason).toBe('untrusted');
    expect(error.message).toMatch(message);
  });
});

describe('the build entry', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const trusted = {
    keyId: createHash('sha256').update(der).digest('hex').slice(0, 16),
    publicKey: der.toString('base64'),
  };
  const buildBytes = Buffer.from('exports.main = async () => 7;');
  const build = { entry: 'build.js', sha256: sha256Hex(buildBytes), signature: null };
  const signature = (text: string) => ({
    keyId: trusted.keyId,
    value: sign(null, Buffer.from(text), privateKey).toString('base64'),
  });
  const withBuild = { ...manifest, build };
  const signed = {
    ...withBuild,
    signature: signature(signedPayloadText(withBuild as never)),
    build: { ...build, signature: signature(signedBuildPayloadText(withBuild as never)) },
  };

  it('is optional, and a manifest with one still verifies its run signature as before', () => {
    const content = bytes(signed);
    expect(parseManifest(content, sha256Hex(content), 'mini').build).toEqual(signed.build);
    expect(() => checkSignature(signed as never, [trusted])).not.toThrow();
    expect(() => checkBuildSignature(signed as never, [trusted])).not.toThrow();
    expect(() => checkEntry(signed.build, buildBytes, 'build entry')).not.toThrow();
    expect(rejection(() => checkEntry(signed.build, entry, 'build entry')).message).toBe(
      'its build entry "build.js" does not match the manifest\'s sha256',
    );
  });

  it.each([
    ['a path-like entry', { ...build, entry: '../build.js' }],
    ["the run entry's name", { ...build, entry: 'run.js' }],
    ['a bad sha256', { ...build, sha256: 'abc' }],
    ['a malformed signature', { ...build, signature: 'yes' }],
    ['not an object', 'build.js'],
  ])('with %s makes the manifest corrupt', (_name, value) => {
    const content = bytes({ ...manifest, build: value });
    const error = rejection(() => parseManifest(content, sha256Hex(content), 'mini'));
    expect(error.message).toBe('its manifest names no valid build entry');
    expect(error.reason).toBe('corrupt');
  });

  it.each([
    ['unsigned', { ...signed, build: { ...signed.build, signature: null } }, /its build payload is not signed/],
    [
      'with a changed digest after signing',
      { ...signed, build: { ...signed.build, sha256: 'f'.repeat(64) } },
      /signature of its build payload .* does not verify/,
    ],
    ['with a changed version after signing', { ...signed, version: '20991231-000000' }, /does not verify/],
    [
      'signed with the run signature (one cannot stand in for the other)',
      { ...signed, build: { ...signed.build, signature: signed.signature } },
      /does not verify/,
    ],
  ])('refuses a build entry %s as untrusted', (_name, content, message) => {
    const error = rejection(() => checkBuildSignature(content as never, [trusted]));
    expect(error.reason).toBe('untrusted');
    expect(error.message).toMatch(message);
  });
});
