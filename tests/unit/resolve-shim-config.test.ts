import { isLocalMode, resolveShimConfig } from '../../shim/resolve-shim-config';

const defaults = { tiny: 'localhost:5000/run-docker/tiny:0.1.0', mini: 'localhost:5000/run-docker/mini' };
const digest = `sha256:${'b'.repeat(64)}`;

describe('resolveShimConfig', () => {
  it('uses the built-in defaults when nothing is set', () => {
    const config = resolveShimConfig({}, undefined, defaults);
    expect(config.tiny).toEqual({ ref: expect.objectContaining({ path: 'run-docker/tiny', tag: '0.1.0' }), source: 'default' });
    expect(config.mini.source).toBe('default');
  });

  it('prefers env over the config file over the defaults, key by key', () => {
    const file = { path: '/home/u/.config/run-docker/config.json', content: { tiny: `reg.example/rd/tiny@${digest}`, mini: 'reg.example/rd/mini' } };
    const config = resolveShimConfig({ RUN_DOCKER_MINI: '127.0.0.1:5000/x/mini:20261128-101500' }, file, defaults);
    expect(config.tiny.source).toBe(`file ${file.path}`);
    expect(config.tiny.ref.digest).toBe(digest);
    expect(config.mini.source).toBe('env RUN_DOCKER_MINI');
    expect(config.mini.ref.tag).toBe('20261128-101500');
  });

  it('ignores empty env values', () => {
    expect(resolveShimConfig({ RUN_DOCKER_TINY: '' }, undefined, defaults).tiny.source).toBe('default');
  });

  it('names the source of a malformed reference', () => {
    expect(() => resolveShimConfig({ RUN_DOCKER_TINY: 'Bad Ref' }, undefined, defaults)).toThrow(/^RUN_DOCKER_TINY "Bad Ref" is not a valid image reference/);
    expect(() => resolveShimConfig({}, { path: '/c.json', content: { mini: 'x:' } }, defaults)).toThrow(/"mini" in \/c.json "x:"/);
  });

  it('refuses a tiny that is not pinned', () => {
    expect(() => resolveShimConfig({ RUN_DOCKER_TINY: 'rd/tiny' }, undefined, defaults)).toThrow(/has no tag or digest/);
    // The whole repository, registry included, so the reader knows which tiny is meant.
    expect(() => resolveShimConfig({ RUN_DOCKER_TINY: 'reg.example:5000/rd/tiny' }, undefined, defaults)).toThrow(
      'the tiny image "reg.example:5000/rd/tiny" (from env RUN_DOCKER_TINY) has no tag or digest',
    );
  });

  it('rejects config files that are not an object of strings', () => {
    expect(() => resolveShimConfig({}, { path: '/c.json', content: [1] }, defaults)).toThrow(/must hold a JSON object/);
    expect(() => resolveShimConfig({}, { path: '/c.json', content: { tiny: 3 } }, defaults)).toThrow(/"tiny" in the config file "\/c.json" must be a string/);
  });
});

describe('isLocalMode', () => {
  it('honours --local anywhere, and RUN_DOCKER_LOCAL=1', () => {
    expect(isLocalMode(['--local', 'img'], {})).toBe(true);
    expect(isLocalMode(['img', 'sh', '--local'], {})).toBe(true);
    expect(isLocalMode(['img'], { RUN_DOCKER_LOCAL: '1' })).toBe(true);
    expect(isLocalMode(['img', '--locality'], { RUN_DOCKER_LOCAL: '0' })).toBe(false);
  });
});
