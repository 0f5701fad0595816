import { checkPayloadSizes, NOTICES_LIMIT_BYTES } from '../../publish/check-payload-sizes';
import { MANIFEST_LIMIT_BYTES, PAYLOAD_FILE_LIMIT_BYTES } from '../../shim/read-image-payload';

const MINI = { kind: 'mini' as const, entry: 'run.js', build: { entry: 'build.js', sha256: '', signature: null } };
const TINY = { kind: 'tiny' as const, entry: 'locate.js' };
const file = (name: string, bytes: number) => ({ name, bytes, from: `dist/payload/x/${name}` });

describe('checkPayloadSizes', () => {
  it('passes every file at its bound, and says nothing', () => {
    expect(
      checkPayloadSizes(
        [
          file('manifest.json', MANIFEST_LIMIT_BYTES),
          file('run.js', PAYLOAD_FILE_LIMIT_BYTES),
          file('THIRD-PARTY-NOTICES.txt', NOTICES_LIMIT_BYTES),
        ],
        MINI,
      ),
    ).toEqual({});
  });

  it("refuses the manifest, an entry, a build entry and a mini's notices one byte past their bounds", () => {
    expect(checkPayloadSizes([file('manifest.json', MANIFEST_LIMIT_BYTES + 1)], MINI).refusal).toBe(
      `the payload file "manifest.json" (dist/payload/x/manifest.json) is ${MANIFEST_LIMIT_BYTES + 1} bytes, over the 64 KiB (65536 bytes) every shim reads a manifest with: every host would refuse this mini`,
    );
    expect(checkPayloadSizes([file('locate.js', PAYLOAD_FILE_LIMIT_BYTES + 1)], TINY).refusal).toBe(
      `the payload file "locate.js" (dist/payload/x/locate.js) is 8388609 bytes, over the 8 MiB (8388608 bytes) every shim reads an entry with: every host would refuse this tiny`,
    );
    expect(checkPayloadSizes([file('build.js', PAYLOAD_FILE_LIMIT_BYTES + 1)], MINI).refusal).toMatch(
      /^the payload file "build\.js" .* every shim reads a build entry with: build-docker would refuse this mini on every host$/,
    );
    expect(checkPayloadSizes([file('THIRD-PARTY-NOTICES.txt', NOTICES_LIMIT_BYTES + 1)], MINI).refusal).toBe(
      `the payload file "THIRD-PARTY-NOTICES.txt" (dist/payload/x/THIRD-PARTY-NOTICES.txt) is ${NOTICES_LIMIT_BYTES + 1} bytes, over the 1 MiB (1048576 bytes) publish reads a published mini's notices with: it could never be republished (--from, halt, rotate-key)`,
    );
  });

  it("leaves tiny's notices, which no reader bounds, alone", () => {
    expect(checkPayloadSizes([file('THIRD-PARTY-NOTICES.txt', NOTICES_LIMIT_BYTES + 1)], TINY)).toEqual({});
  });

  it('warns, without refusing, when the folder is past what shims read from an export', () => {
    const verdict = checkPayloadSizes(
      [file('run.js', PAYLOAD_FILE_LIMIT_BYTES), file('build.js', PAYLOAD_FILE_LIMIT_BYTES), file('manifest.json', 1)],
      MINI,
    );
    expect(verdict).toEqual({
      warning: `the payload folder is ${2 * PAYLOAD_FILE_LIMIT_BYTES + 1} bytes, over the 16 MiB of an image a shim reads from its export: hosts will copy it out of a created container instead, which is slower`,
    });
  });
});
