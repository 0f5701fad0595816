import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { CONTRACT_VERSION, signedBuildPayloadText, signedHaltsText, signedPayloadText } from '../../contract/contract';
import {
  checkBuildSignature,
  checkEntry,
  checkHalts,
  checkShimCompatible,
  checkSignature,
  parseManifest,
  PayloadRejected,
  sha256Hex,
} from '../../shim/verify-payload';
import { makeSigningKey, type SigningKey } from '../helpers/payload-images';

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
    ['signed by an untrusted key', () => signed(other), /which this host does not trust/],
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

describe('release fields (docs/releasing.md)', () => {
  const key = makeSigningKey();
  const rollout = { start: '2026-12-07T04:00:00Z', steps: [{ percent: 5, afterSeconds: 0 }] };
  const staged = { ...manifest, shim: '>=0.2.0 <1.0.0', rollout };
  const signedBy = (content: object) => ({
    ...content,
    signature: {
      keyId: key.trusted.keyId,
      value: sign(null, Buffer.from(signedPayloadText(content as never)), key.privateKey).toString('base64'),
    },
  });

  it('sign a staged mini over the v2 text, which holds the schedule', () => {
    expect(signedPayloadText(staged as never)).toBe(
      `run-docker-payload-v2\n${CONTRACT_VERSION}\nmini\n20261128-101500\nrun.js\n${manifest.sha256}\n>=0.2.0 <1.0.0\n2026-12-07T04:00:00Z\n5%@0s`,
    );
    expect(signedPayloadText(manifest as never).split('\n')[0]).toBe('run-docker-payload-v1');
    expect(() => checkSignature(signedBy(staged) as never, [key.trusted])).not.toThrow();
  });

  it.each([
    ['stripped of its schedule (to reach every host at once)', () => ({ ...signedBy(staged), rollout: undefined })],
    [
      'with a schedule that admits more hosts',
      () => ({ ...signedBy(staged), rollout: { ...rollout, steps: [{ percent: 100, afterSeconds: 0 }] } }),
    ],
    ['with a schedule added to a mini signed without one', () => ({ ...signedBy(manifest), rollout })],
  ])('refuse a mini %s as untrusted', (_name, make) => {
    const error = rejection(() => checkSignature(make() as never, [key.trusted]));
    expect(error.reason).toBe('untrusted');
    expect(error.message).toMatch(/does not verify/);
  });

  it.each([
    ['a malformed rollout', { rollout: { start: 'soon', steps: [] } }, 'its manifest has a malformed rollout'],
    [
      'a malformed halt statement',
      { halts: { versions: ['../x'], signature: null } },
      'its manifest has a malformed halt statement',
    ],
    ['key statements that are no list', { keys: { add: [] } }, 'its manifest has malformed key statements'],
  ])('make a manifest with %s corrupt', (_name, fields, message) => {
    const content = bytes({ ...manifest, ...fields });
    const error = rejection(() => parseManifest(content, sha256Hex(content), 'mini'));
    expect(error.message).toBe(message);
    expect(error.reason).toBe('corrupt');
  });

  it('count a halt only when a trusted key signed it, and only for versions before the mini that carries it', () => {
    const versions = ['20261128-000000', '20261127-000000', '20991231-000000'];
    const halts = (by?: SigningKey) => ({
      versions,
      signature: by
        ? {
            keyId: by.trusted.keyId,
            value: sign(
              null,
              Buffer.from(signedHaltsText({ ...manifest, halts: { versions } } as never)),
              by.privateKey,
            ).toString('base64'),
          }
        : null,
    });
    expect(checkHalts({ ...manifest, halts: halts(key) } as never, [key.trusted])).toEqual({
      versions: ['20261128-000000', '20261127-000000'],
    });
    expect(checkHalts({ ...manifest, halts: halts() } as never, [key.trusted])).toEqual({ problem: 'is not signed' });
    const stranger = makeSigningKey();
    expect(checkHalts({ ...manifest, halts: halts(stranger) } as never, [key.trusted])).toEqual({
      problem: `is signed by key ${stranger.trusted.keyId}, which this host does not trust`,
    });
    // Moved to another version: the signature names the mini that carries it.
    expect(checkHalts({ ...manifest, version: '20261129-000000', halts: halts(key) } as never, [key.trusted])).toEqual({
      problem: `has a signature by key ${key.trusted.keyId} that does not verify`,
    });
  });
});
