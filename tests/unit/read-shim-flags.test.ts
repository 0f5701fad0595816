import { isVersionRequest, readShimFlags } from '../../shim/read-shim-flags';
import { ARGV_CASES } from '../argv-cases';

describe('readShimFlags against the shared argv cases (tests/argv-cases.ts)', () => {
  it.each(ARGV_CASES.map((entry) => [entry.argv, entry]))('%j', (_argv, entry) => {
    const { end, ...flags } = readShimFlags(entry.argv);
    expect(flags).toEqual({ ...entry.flags, ...entry.shim?.flags });
    // Never IMAGE, nor anything after it.
    if (entry.image !== undefined) expect(end).toBeLessThanOrEqual(entry.image);
  });

  it('lists a difference from the grammar only where there is one, with its reason', () => {
    for (const { argv, flags, shim } of ARGV_CASES.filter((entry) => entry.shim)) {
      const stale = Object.entries(shim?.flags ?? {}).filter(
        ([key, value]) => flags[key as keyof typeof flags] === value,
      );
      expect({ argv, stale, because: shim?.because !== '' }).toEqual({ argv, stale: [], because: true });
    }
  });
});

describe('readShimFlags', () => {
  it('reads nothing from an empty argv', () => {
    expect(readShimFlags([])).toEqual({ local: false, quiet: false, showConfig: false, end: 0 });
  });

  it('stops at the first argument that does not start with "-", at "--" and at a lone "-"', () => {
    expect(readShimFlags(['--rm', '-it', 'img', '--local']).end).toBe(2);
    expect(readShimFlags(['--local', '--', '-q']).end).toBe(1);
    expect(readShimFlags(['-', '-q']).end).toBe(0);
    expect(readShimFlags(['', '--local'])).toEqual({ local: false, quiet: false, showConfig: false, end: 0 });
    expect(readShimFlags(['--local', '-q', '--show-config']).end).toBe(3);
  });

  it('counts only the exact words, never a look-alike, a value or a group', () => {
    for (const arg of [
      '--local=true',
      '--locality',
      '-local',
      '--quiet=1',
      '-qd',
      '-dq',
      '--show-config=yes',
      '---local',
      '-Q',
    ]) {
      expect(readShimFlags([arg, 'img'])).toEqual({ local: false, quiet: false, showConfig: false, end: 1 });
    }
  });
});

describe('isVersionRequest', () => {
  it('reads --version among the leading options only, by the same rule as the flags', () => {
    expect(isVersionRequest(['--version'])).toBe(true);
    expect(isVersionRequest(['--local', '-q', '--version'])).toBe(true);
    expect(isVersionRequest(['img', '--version'])).toBe(false);
    expect(isVersionRequest(['--', '--version'])).toBe(false);
    expect(isVersionRequest(['-e', 'A=1', '--version'])).toBe(false);
    expect(isVersionRequest(['--version=1'])).toBe(false);
    expect(isVersionRequest([])).toBe(false);
  });
});
