import { configFileLocations } from '../../shim/read-config-file';
import { describeTagPinnedTiny, isLocalMode, resolveShimConfig } from '../../shim/resolve-shim-config';
import { readShimFlags } from '../../shim/read-shim-flags';

const defaults = { tiny: 'localhost:5000/run-docker/tiny:0.1.0', mini: 'localhost:5000/run-docker/mini' };
const digest = `sha256:${'b'.repeat(64)}`;

describe('resolveShimConfig', () => {
  it('uses the built-in defaults when nothing is set', () => {
    const config = resolveShimConfig({}, undefined, defaults);
    expect(config.tiny).toEqual({
      ref: expect.objectContaining({ path: 'run-docker/tiny', tag: '0.1.0' }) as unknown,
      source: 'default',
    });
    expect(config.mini?.source).toBe('default');
  });

  it('has no tiny and no mini when nothing is set and nothing was baked in at build time', () => {
    expect(resolveShimConfig({}, undefined, {})).toMatchObject({ tiny: undefined, mini: undefined });
    expect(resolveShimConfig({ RUN_DOCKER_TINY: 'reg.example/rd/tiny:1.2.3' }, undefined, {}).tiny?.source).toBe(
      'env RUN_DOCKER_TINY',
    );
  });

  it('prefers env over the config file over the defaults, key by key', () => {
    const file = {
      path: '/home/u/.config/run-docker/config.json',
      content: { tiny: `reg.example/rd/tiny@${digest}`, mini: 'reg.example/rd/mini' },
    };
    const config = resolveShimConfig({ RUN_DOCKER_MINI: '127.0.0.1:5000/x/mini:20261128-101500' }, file, defaults);
    expect(config.tiny?.source).toBe(`file ${file.path}`);
    expect(config.tiny?.ref.digest).toBe(digest);
    expect(config.mini?.source).toBe('env RUN_DOCKER_MINI');
    expect(config.mini?.ref.tag).toBe('20261128-101500');
  });

  it('ignores empty env values', () => {
    expect(resolveShimConfig({ RUN_DOCKER_TINY: '' }, undefined, defaults).tiny?.source).toBe('default');
  });

  it('names the source of a malformed reference', () => {
    expect(() => resolveShimConfig({ RUN_DOCKER_TINY: 'Bad Ref' }, undefined, defaults)).toThrow(
      /^RUN_DOCKER_TINY "Bad Ref" is not a valid image reference/,
    );
    expect(() => resolveShimConfig({}, { path: '/c.json', content: { mini: 'x:' } }, defaults)).toThrow(
      /"mini" in \/c.json "x:"/,
    );
  });

  it('refuses a tiny that is not pinned', () => {
    expect(() => resolveShimConfig({ RUN_DOCKER_TINY: 'rd/tiny' }, undefined, defaults)).toThrow(
      /has no tag or digest/,
    );
    // The whole repository, registry included, so the reader knows which tiny is meant.
    expect(() => resolveShimConfig({ RUN_DOCKER_TINY: 'reg.example:5000/rd/tiny' }, undefined, defaults)).toThrow(
      'the tiny image "reg.example:5000/rd/tiny" (from env RUN_DOCKER_TINY) has no tag or digest',
    );
  });

  it('rejects config files that are not an object of strings', () => {
    expect(() => resolveShimConfig({}, { path: '/c.json', content: [1] }, defaults)).toThrow(/must hold a JSON object/);
    expect(() => resolveShimConfig({}, { path: '/c.json', content: { tiny: 3 } }, defaults)).toThrow(
      /"tiny" in the config file "\/c.json" must be a string/,
    );
  });
});

describe('describeTagPinnedTiny', () => {
  it('warns of a tiny pinned by tag only, naming it, where it came from and how to pin it by digest', () => {
    const byTag = resolveShimConfig({ RUN_DOCKER_TINY: 'reg.example/rd/tiny:1.2.3' }, undefined, {}).tiny;
    expect(describeTagPinnedTiny(byTag)).toBe(
      `the tiny image "reg.example/rd/tiny:1.2.3" (from env RUN_DOCKER_TINY) is pinned by tag, not by digest: whoever can push that tag chooses the keys this host trusts; pin it as reg.example/rd/tiny@sha256:… ("docker image inspect --format '{{index .RepoDigests 0}}' reg.example/rd/tiny:1.2.3" prints it)`,
    );
    expect(describeTagPinnedTiny(resolveShimConfig({}, undefined, defaults).tiny)).toMatch(
      /^the tiny image "localhost:5000\/run-docker\/tiny:0\.1\.0" \(from default\) is pinned by tag/,
    );
  });

  it('says nothing of a tiny pinned by digest (with or without a tag), or of none', () => {
    for (const tiny of [`reg.example/rd/tiny@${digest}`, `reg.example/rd/tiny:1.2.3@${digest}`])
      expect(describeTagPinnedTiny(resolveShimConfig({ RUN_DOCKER_TINY: tiny }, undefined, {}).tiny)).toBeUndefined();
    expect(describeTagPinnedTiny(resolveShimConfig({}, undefined, {}).tiny)).toBeUndefined();
  });
});

describe('isLocalMode', () => {
  it('honours --local among the leading options, never after IMAGE, and RUN_DOCKER_LOCAL=1', () => {
    expect(isLocalMode(readShimFlags(['--local', 'img']), {})).toBe(true);
    expect(isLocalMode(readShimFlags(['--rm', '--local', 'img']), {})).toBe(true);
    expect(isLocalMode(readShimFlags(['img', 'sh', '--local']), {})).toBe(false);
    expect(isLocalMode(readShimFlags(['img', 'sh', '--local']), { RUN_DOCKER_LOCAL: '1' })).toBe(true);
    expect(isLocalMode(readShimFlags(['img']), { RUN_DOCKER_LOCAL: '1' })).toBe(true);
    expect(isLocalMode(readShimFlags(['img', '--locality']), { RUN_DOCKER_LOCAL: '0' })).toBe(false);
  });
});

describe('system-wide config files', () => {
  const user = { path: '/home/u/.config/run-docker/config.json', content: { mini: 'reg.example/user/mini' } };
  const system = {
    path: '/etc/run-docker/config.json',
    content: {
      tiny: 'reg.example/rd/tiny@sha256:' + 'a'.repeat(64),
      mini: 'reg.example/fleet/mini',
      allowUnsigned: false,
    },
  };
  const absent = { path: '/etc/xdg/run-docker/config.json', content: undefined };

  it('takes each key from env, else the user file, else the system files in order, else the default', () => {
    const config = resolveShimConfig({}, [user, absent, system], defaults);
    expect(config.tiny).toMatchObject({ source: `file ${system.path}` });
    expect(config.mini).toMatchObject({ source: `file ${user.path}`, ref: { path: 'user/mini' } });
    expect(config.allowUnsigned).toBe(false);
    expect(config.allowUnsignedSource).toBe(`file ${system.path}`);
    expect(resolveShimConfig({ RUN_DOCKER_MINI: 'reg.example/env/mini' }, [user, system], defaults).mini?.source).toBe(
      'env RUN_DOCKER_MINI',
    );
    expect(resolveShimConfig({}, [absent], defaults).tiny?.source).toBe('default');
  });

  it('looks in $XDG_CONFIG_DIRS (absolute entries only), then /etc/run-docker, after the user file', () => {
    expect(configFileLocations({ XDG_CONFIG_DIRS: '/opt/conf:relative:/etc/xdg' }, '/home/u')).toEqual([
      { path: '/home/u/.config/run-docker/config.json', source: 'default', scope: 'user' },
      { path: '/opt/conf/run-docker/config.json', source: 'env XDG_CONFIG_DIRS', scope: 'system' },
      { path: '/etc/xdg/run-docker/config.json', source: 'env XDG_CONFIG_DIRS', scope: 'system' },
      { path: '/etc/run-docker/config.json', source: 'default', scope: 'system' },
    ]);
    expect(configFileLocations({}, '/home/u').map((location) => location.path)).toEqual([
      '/home/u/.config/run-docker/config.json',
      '/etc/run-docker/config.json',
    ]);
  });
});

describe('the cli setting (docs/engines.md)', () => {
  const file = (content: unknown) => ({ path: '/home/u/.config/run-docker/config.json', content });
  it('comes from RUN_DOCKER_CLI, else the config file, else is left to the run payload', () => {
    expect(resolveShimConfig({}, file({}), {}).cli).toBeUndefined();
    expect(resolveShimConfig({}, file({ cli: 'podman' }), {}).cli).toEqual({
      value: 'podman',
      source: 'file /home/u/.config/run-docker/config.json',
    });
    expect(resolveShimConfig({ RUN_DOCKER_CLI: 'docker' }, file({ cli: 'podman' }), {}).cli).toEqual({
      value: 'docker',
      source: 'env RUN_DOCKER_CLI',
    });
  });

  it('names the setting in one line when it is not a CLI run-docker knows', () => {
    expect(() => resolveShimConfig({ RUN_DOCKER_CLI: 'nerdctl' }, undefined, {})).toThrow(
      'RUN_DOCKER_CLI must be "docker" or "podman", not "nerdctl"',
    );
    expect(() => resolveShimConfig({}, file({ cli: 1 }), {})).toThrow(
      '"cli" in the config file "/home/u/.config/run-docker/config.json" must be "docker" or "podman", not 1',
    );
  });
});

describe('the release settings (docs/releasing.md)', () => {
  const user = { path: '/home/u/.config/run-docker/config.json', content: { hostId: 'web-042' } };
  const system = { path: '/etc/run-docker/config.json', content: { channel: 'canary', hostId: 'fleet-7' } };

  it('follow stable with no host ID of their own by default', () => {
    const config = resolveShimConfig({}, undefined, defaults);
    expect(config.channel).toEqual({ value: 'stable', source: 'default' });
    expect(config.hostId).toBeUndefined();
  });

  it('take the channel and the host ID from env, else the user file, else the system file', () => {
    expect(resolveShimConfig({}, [user, system], defaults)).toMatchObject({
      channel: { value: 'canary', source: `file ${system.path}` },
      hostId: { id: 'web-042', source: `file ${user.path}` },
    });
    expect(
      resolveShimConfig({ RUN_DOCKER_CHANNEL: 'stable', RUN_DOCKER_HOST_ID: 'ci-1' }, [user, system], defaults),
    ).toMatchObject({
      channel: { value: 'stable', source: 'env RUN_DOCKER_CHANNEL' },
      hostId: { id: 'ci-1', source: 'env RUN_DOCKER_HOST_ID' },
    });
  });

  it.each([
    [
      { RUN_DOCKER_CHANNEL: 'beta' },
      undefined,
      /the channel "beta" \(from env RUN_DOCKER_CHANNEL\) is not one run-docker knows/,
    ],
    [
      {},
      { path: '/c.json', content: { channel: 7 } },
      /"channel" from the config file "\/c.json" must be 1 to 256 printable/,
    ],
    [
      { RUN_DOCKER_HOST_ID: 'web 042' },
      undefined,
      /"hostId" from env RUN_DOCKER_HOST_ID must be 1 to 256 printable characters without spaces/,
    ],
    [{}, { path: '/c.json', content: { hostId: 'x'.repeat(257) } }, /"hostId" from the config file "\/c.json"/],
  ])('refuse a bad value in one line: %j %j', (env, file, message) => {
    expect(() => resolveShimConfig(env, file, defaults)).toThrow(message);
  });
});
