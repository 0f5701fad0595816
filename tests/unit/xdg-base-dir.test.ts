import { selectXdgBaseDir } from '../../common/xdg-base-dir';

describe('selectXdgBaseDir', () => {
  it('takes an absolute XDG_*_HOME and says so', () => {
    expect(selectXdgBaseDir('XDG_CACHE_HOME', { XDG_CACHE_HOME: '/var/cache/u' }, '/home/u')).toEqual({
      dir: '/var/cache/u',
      source: 'env XDG_CACHE_HOME',
    });
  });

  it.each([
    ['XDG_CONFIG_HOME', '/home/u/.config'],
    ['XDG_CACHE_HOME', '/home/u/.cache'],
    ['XDG_STATE_HOME', '/home/u/.local/state'],
  ] as const)('ignores a relative or empty %s, as the spec says, for the default below the home', (variable, fallback) => {
    for (const value of [undefined, '', 'relative/dir', './x']) {
      expect(selectXdgBaseDir(variable, { [variable]: value }, '/home/u')).toEqual({ dir: fallback, source: 'default' });
    }
  });

  it('reads only its own variable', () => {
    expect(selectXdgBaseDir('XDG_STATE_HOME', { XDG_CONFIG_HOME: '/etc/u', XDG_CACHE_HOME: '/c' }, '/home/u').dir).toBe('/home/u/.local/state');
  });
});
