import { resolveShimConfig } from '../../shim/resolve-shim-config';
import { buildConfigRows, formatConfigRows, type ConfigFacts } from '../../shim/show-config';
import { hasProjectTableHeader } from '../../common/find-project-file';

const defaults = { tiny: 'localhost:5000/run-docker/tiny:0.1.0', mini: 'localhost:5000/run-docker/mini' };
const file = {
  path: '/home/u/.config/run-docker/config.json',
  content: { mini: 'reg.example/rd/mini', allowUnsigned: true },
};

function facts(
  env: Record<string, string>,
  exists = true,
  engine: { host: string; source: string } | { error: string } = {
    host: 'unix:///var/run/docker.sock',
    source: 'default',
  },
) {
  return {
    engine,
    shimVersion: '0.1.0',
    config: resolveShimConfig(env, exists ? file : { path: file.path, content: undefined }, defaults),
    configFiles: [
      { path: file.path, source: 'default', scope: 'user' as const, exists },
      { path: '/etc/run-docker/config.json', source: 'default', scope: 'system' as const, exists: false },
    ],
    project: { file: '/home/u/work/src/hello/pyproject.toml' },
    cacheRoot: { dir: '/home/u/.cache/run-docker', source: 'default' },
    stateDir: { dir: '/home/u/.local/state/run-docker', source: 'default' },
    dockerConfig: { path: '/etc/docker-config/config.json', source: 'env DOCKER_CONFIG' },
  };
}

describe('buildConfigRows', () => {
  it('gives each value with where it came from: env, file or default', () => {
    const rows = buildConfigRows(facts({ RUN_DOCKER_TINY: 'reg.example/rd/tiny:1.2.3' }));
    expect(rows).toEqual([
      { key: 'shim', value: '0.1.0', source: 'built in' },
      { key: 'tiny', value: 'reg.example/rd/tiny:1.2.3', source: 'env RUN_DOCKER_TINY' },
      { key: 'mini', value: 'reg.example/rd/mini', source: `file ${file.path}` },
      {
        key: 'payload',
        value: 'newest trusted mini of reg.example/rd/mini that has reached this host, else built-in',
        source: 'from tiny and mini',
      },
      { key: 'allowUnsigned', value: 'true', source: `file ${file.path}` },
      { key: 'cli', value: 'by engine: podman for Podman (when installed), else docker', source: 'default' },
      { key: 'channel', value: 'stable', source: 'default' },
      { key: 'config file', value: file.path, source: 'default' },
      { key: 'system config', value: '/etc/run-docker/config.json', source: 'default; not present' },
      {
        key: 'project file',
        value: '/home/u/work/src/hello/pyproject.toml',
        source: 'for ".": the nearest pyproject.toml with [tool.run-docker], from the current folder up',
      },
      { key: 'payload cache', value: '/home/u/.cache/run-docker', source: 'default' },
      { key: 'state', value: '/home/u/.local/state/run-docker', source: 'default' },
      { key: 'docker config', value: '/etc/docker-config/config.json', source: 'env DOCKER_CONFIG' },
      { key: 'engine', value: 'unix:///var/run/docker.sock', source: 'default' },
    ]);
  });

  it('names the project file "." stands for, none, or why the nearest one cannot be used', () => {
    const project = (value: ConfigFacts['project']) =>
      buildConfigRows({ ...facts({}), project: value }).find((row) => row.key === 'project file')?.value;
    expect(project({})).toBe('none');
    expect(project({ error: 'the project file "/srv/pyproject.toml" is not used: …' })).toBe(
      'unusable: the project file "/srv/pyproject.toml" is not used: …',
    );
  });

  it('names the engine and the context or variable that chose it, or why it cannot be used', () => {
    const engine = (value: Parameters<typeof facts>[2]) =>
      buildConfigRows(facts({}, true, value)).find((row) => row.key === 'engine');
    expect(engine({ host: 'tcp://10.0.0.5:2376', source: 'DOCKER_HOST' })).toEqual({
      key: 'engine',
      value: 'tcp://10.0.0.5:2376',
      source: 'env DOCKER_HOST',
    });
    expect(engine({ host: 'ssh://me@h', source: 'context "remote" (DOCKER_CONTEXT)' })?.source).toBe(
      'context "remote" (DOCKER_CONTEXT)',
    );
    expect(engine({ error: 'the docker context "x" (from DOCKER_CONTEXT) does not exist' })?.value).toBe(
      'unusable: the docker context "x" (from DOCKER_CONTEXT) does not exist',
    );
  });

  it('as root, says where the cache and the state are when not where HOME says, and why, or that there is none', () => {
    const rows = buildConfigRows({
      ...facts({}),
      cacheRoot: {
        dir: '/root/.cache/run-docker',
        source: "root's home in the user database",
        passedOver: {
          dir: '/home/u/.cache/run-docker',
          why: 'sits in the folder "/home/u", which can be changed by uid 1000, its owner',
        },
      },
      stateDir: { dir: undefined, source: 'default', why: '"/home/u/.local/state/run-docker" sits in …' },
    });
    expect(rows.filter((row) => row.key === 'payload cache' || row.key === 'state')).toEqual([
      {
        key: 'payload cache',
        value: '/root/.cache/run-docker',
        source:
          'root\'s home in the user database; "/home/u/.cache/run-docker" sits in the folder "/home/u", which can be changed by uid 1000, its owner',
      },
      { key: 'state', value: 'none', source: 'as root: "/home/u/.local/state/run-docker" sits in …' },
    ]);
  });

  it('says when the config file is not there, and env beats it for allowUnsigned', () => {
    const rows = buildConfigRows(facts({ RUN_DOCKER_ALLOW_UNSIGNED: '0' }, false));
    expect(rows.find((row) => row.key === 'config file')?.source).toBe('default; not present');
    expect(rows.find((row) => row.key === 'allowUnsigned')).toEqual({
      key: 'allowUnsigned',
      value: 'false',
      source: 'env RUN_DOCKER_ALLOW_UNSIGNED',
    });
    expect(rows.find((row) => row.key === 'mini')).toEqual({
      key: 'mini',
      value: 'localhost:5000/run-docker/mini',
      source: 'default',
    });
  });
});

describe('the payload row', () => {
  const payloadOf = (env: Record<string, string>, defaultsUsed: { tiny?: string; mini?: string } = {}) =>
    buildConfigRows({ ...facts({}), config: resolveShimConfig(env, undefined, defaultsUsed) }).find(
      (row) => row.key === 'payload',
    )?.value;

  it('says a fresh install (nothing configured, nothing baked in) runs the built-in payload', () => {
    const rows = buildConfigRows({ ...facts({}), config: resolveShimConfig({}, undefined, {}) });
    expect(rows.slice(1, 4)).toEqual([
      { key: 'tiny', value: 'none', source: 'default' },
      { key: 'mini', value: 'none', source: 'default' },
      { key: 'payload', value: 'built into shim 0.1.0 (no tiny configured)', source: 'from tiny and mini' },
    ]);
  });

  it('names the mini a configured tiny leads to, and when the built-in payload takes over', () => {
    const tiny = 'reg.example/rd/tiny:1.2.3';
    expect(payloadOf({ RUN_DOCKER_TINY: tiny })).toBe('built into shim 0.1.0 (no mini configured)');
    expect(payloadOf({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: 'reg.example/rd/mini:20261128-101500' })).toBe(
      'pinned mini reg.example/rd/mini:20261128-101500, or built-in if the tiny is unusable',
    );
    expect(payloadOf({}, defaults)).toBe(
      'newest trusted mini of localhost:5000/run-docker/mini that has reached this host, else built-in',
    );
  });
});

describe('the release rows', () => {
  const release = {
    repository: 'reg.example/rd/mini',
    bucket: 37,
    hostIdSource: '/etc/machine-id',
    stateFile: '/home/u/.local/state/run-docker/releases.json',
    state: { keys: { added: [{ keyId: 'aaaa111122223333', publicKey: 'MCow' }], retired: ['bbbb'] }, halted: [] },
  };

  it('give the channel, the bucket and where the identity came from (never the identity), rotations and halts', () => {
    const rows = buildConfigRows({ ...facts({ RUN_DOCKER_CHANNEL: 'stable' }), release });
    const at = rows.findIndex((row) => row.key === 'channel');
    expect(rows.slice(at, at + 4)).toEqual([
      { key: 'channel', value: 'stable', source: 'env RUN_DOCKER_CHANNEL' },
      { key: 'rollout bucket', value: '37 of 0-99 for reg.example/rd/mini', source: 'host ID from /etc/machine-id' },
      { key: 'key rotations', value: 'added aaaa111122223333; retired bbbb', source: `file ${release.stateFile}` },
      { key: 'halted minis', value: 'none seen', source: `file ${release.stateFile}` },
    ]);
  });

  it('say the bucket is not known yet on a host with no identity yet', () => {
    const rows = buildConfigRows({
      ...facts({}),
      release: { ...release, bucket: undefined, hostIdSource: 'none yet' },
    });
    expect(rows.find((row) => row.key === 'rollout bucket')).toEqual({
      key: 'rollout bucket',
      value: 'not yet known for reg.example/rd/mini',
      source: 'host ID from none yet',
    });
  });

  it('say a canary host is bucket 0 whatever its identity', () => {
    const rows = buildConfigRows({ ...facts({ RUN_DOCKER_CHANNEL: 'canary' }), release: { ...release, bucket: 0 } });
    expect(rows.find((row) => row.key === 'rollout bucket')?.source).toBe('canary: always 0');
  });
});

describe('formatConfigRows', () => {
  it('aligns keys and values in columns, one line per row, source in parentheses', () => {
    const text = formatConfigRows([
      { key: 'tiny', value: 'a/tiny:1', source: 'default' },
      { key: 'allowUnsigned', value: 'false', source: 'env RUN_DOCKER_ALLOW_UNSIGNED' },
    ]);
    expect(text).toBe('tiny           a/tiny:1  (default)\nallowUnsigned  false     (env RUN_DOCKER_ALLOW_UNSIGNED)\n');
  });
});

describe('hasProjectTableHeader', () => {
  it('finds the [tool.run-docker] header in its spellings, and nothing else', () => {
    const has = (text: string) => hasProjectTableHeader(Buffer.from(text));
    expect(has('[project]\nname = "x"\n\n[tool.run-docker]\nimage = "a/b"\n')).toBe(true);
    expect(has('[ tool . "run-docker" ]  # ours\n')).toBe(true);
    expect(has("[tool.'run-docker']\n")).toBe(true);
    expect(has('[tool.run-dockerx]\n')).toBe(false);
    expect(has('[tool.ruff]\n# [tool.run-docker]\n')).toBe(false);
    expect(has('[tool.run-docker.extra]\n')).toBe(false);
  });
});
