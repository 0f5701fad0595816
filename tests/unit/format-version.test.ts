import { formatVersion } from '../../payload/run/format-version';

const tiny = { reference: '127.0.0.1:5000/rd/tiny:0.1.0', id: 'sha256:aa', version: '0.1.0' };
const builtIn = { reference: 'built-in', id: 'built-in', version: '0.1.0' };

describe('formatVersion', () => {
  it('names the tiny and the mini from images, as before', () => {
    const mini = { reference: '127.0.0.1:5000/rd/mini:20261128-101500', id: 'sha256:bb', version: '20261128-101500' };
    expect(formatVersion({ shimVersion: '0.1.0', tiny, mini }, '0.1.0')).toBe(
      'run-docker shim 0.1.0\ntiny 127.0.0.1:5000/rd/tiny:0.1.0 (0.1.0)\nmini 127.0.0.1:5000/rd/mini:20261128-101500 (20261128-101500, payload 0.1.0)\n',
    );
  });

  it('says the payload is built into the shim, and why', () => {
    expect(
      formatVersion(
        {
          shimVersion: '0.1.0',
          tiny: builtIn,
          mini: builtIn,
          payloadSource: { builtIn: true, reason: 'no tiny configured' },
        },
        '0.1.0',
      ),
    ).toBe('run-docker shim 0.1.0\ntiny none\nmini built into shim 0.1.0 (no tiny configured)\n');
    // The tiny was fine, but no mini could be used: its locator ran, so it is named.
    expect(
      formatVersion(
        {
          shimVersion: '0.1.0',
          tiny,
          mini: builtIn,
          payloadSource: { builtIn: true, reason: 'no usable mini of "x"' },
        },
        '0.1.0',
      ),
    ).toBe(
      'run-docker shim 0.1.0\ntiny 127.0.0.1:5000/rd/tiny:0.1.0 (0.1.0)\nmini built into shim 0.1.0 (no usable mini of "x")\n',
    );
  });

  it('adds where this host stands in rollouts when the shim says so (0.2.0 and later)', () => {
    const mini = { reference: '127.0.0.1:5000/rd/mini:20261128-101500', id: 'sha256:bb', version: '20261128-101500' };
    const release = { channel: 'stable' as const, bucket: 37, reason: 'the newest mini (staged, now at 100%)' };
    expect(formatVersion({ shimVersion: '0.2.0', tiny, mini, release }, '0.2.0').split('\n').slice(3)).toEqual([
      'release channel stable, bucket 37: the newest mini (staged, now at 100%)',
      '',
    ]);
  });
});
