import { buildRunSpec, defaultContainerName, type RunSpecInput } from '../../payload/run/build-run-spec';
import type { HostFacts } from '../../payload/run/host-facts';
import type { RunOptions } from '../../payload/run/invocation';
import { findPasswdUser } from '../../payload/run/image-user';
import { parseInvocation } from '../../payload/run/parse-invocation';
import { formatShellCommand } from '../../common/format-shell-command';
import { formatBindMount, renderDockerRunArgs } from '../../payload/run/render-docker-run-args';

// The options of a plain `run-docker IMAGE`: what parse-invocation.test.ts pins down.
const parsed = parseInvocation(['img']);
if (parsed.kind !== 'run') throw new Error('expected a run');
const options: RunOptions = parsed.options;
const host: HostFacts = {
  platform: 'linux',
  home: '/home/ann lee',
  uid: 1234,
  gid: 1234,
  user: 'ann',
  uname: 'Linux box 6.1.0 #1 SMP x86_64',
  timezone: 'Europe/Berlin',
  stdinIsTerminal: false,
  stdoutIsTerminal: false,
  now: new Date('2026-11-28T10:15:00Z'),
  uniqueSuffix: 'a1b2',
};
const dockerUser = { name: 'docker-user', uid: 1000, gid: 1000, home: '/home/docker-user' };
const image = {
  reference: 'reg:5000/team/app:20261128-101500',
  repository: 'reg:5000/team/app',
  name: 'app',
  version: '20261128-101500',
};

function input(overrides: Partial<RunSpecInput> = {}): RunSpecInput {
  return {
    options,
    command: [],
    image,
    host,
    sourceDir: undefined,
    imageUser: dockerUser,
    notebookToken: 'tok',
    ...overrides,
  };
}
const envOf = (spec: ReturnType<typeof buildRunSpec>) => Object.fromEntries(spec.env);

describe('buildRunSpec', () => {
  it('runs a prod image in the home folder with data and log mapped and the host described', () => {
    const spec = buildRunSpec(input());
    expect(spec.workdir).toBe('/home/docker-user');
    expect(spec.mounts).toEqual([
      { source: '/home/ann lee/work/data', target: '/home/docker-user/data' },
      { source: '/home/ann lee/work/log', target: '/home/docker-user/log' },
    ]);
    expect(spec.hostDirsToCreate).toEqual([
      { path: '/home/ann lee/work/data', option: '--hostdatadir' },
      { path: '/home/ann lee/work/log', option: '--hostlogdir' },
    ]);
    expect(envOf(spec)).toEqual({
      HOME: '/home/docker-user',
      USER: 'docker-user',
      IMAGE_NAME: 'reg:5000/team/app',
      IMAGE_VERSION: '20261128-101500',
      HOSTUSER: '1234:1234',
      HOST_UNAME: 'Linux box 6.1.0 #1 SMP x86_64',
      HOST_WHOAMI: 'ann',
      TZ: 'Europe/Berlin',
      DATADIR: '/home/docker-user/data',
      LOGDIR: '/home/docker-user/log',
      JUPYTER_RUNTIME_DIR: '/tmp/jupyter-runtime',
    });
    expect(spec).toMatchObject({
      remove: true,
      detach: false,
      interactive: true,
      tty: false,
      shmSize: '1g',
      memory: undefined,
    });
    expect(spec.name).toBe('ann-20261128-101500-a1b2');
  });

  it('maps the source folder for a dev run', () => {
    const spec = buildRunSpec(input({ sourceDir: '/home/ann lee/work/src/app' }));
    expect(spec.workdir).toBe('/home/docker-user/src');
    expect(spec.mounts).toContainEqual({ source: '/home/ann lee/work/src/app', target: '/home/docker-user/src' });
    expect(envOf(spec).PYTHONPATH).toBe('/home/docker-user/src/src');
  });

  it('runs a non-root host user as their own uid with docker-user home and group', () => {
    const spec = buildRunSpec(input());
    expect(spec.user).toBe('1234:1234');
    expect(spec.groupAdd).toEqual(['1000']);
    expect(spec.createdDirsOwner).toBeUndefined();
  });

  it('runs a root host user as docker-user, never as root', () => {
    const spec = buildRunSpec(input({ host: { ...host, uid: 0, gid: 0 } }));
    expect(spec.user).toBe('1000:1000');
    expect(spec.groupAdd).toEqual([]);
    expect(envOf(spec).JUPYTER_RUNTIME_DIR).toBeUndefined();
    expect(spec.createdDirsOwner).toEqual({ uid: 1000, gid: 1000 });
  });

  it('a host user with docker-user uid needs nothing extra', () => {
    const spec = buildRunSpec(input({ host: { ...host, uid: 1000, gid: 1000 } }));
    expect(spec.user).toBe('1000:1000');
    expect(spec.groupAdd).toEqual([]);
    expect(envOf(spec).JUPYTER_RUNTIME_DIR).toBeUndefined();
  });

  it('--root runs as root in /root', () => {
    const spec = buildRunSpec(input({ options: { ...options, root: true }, imageUser: undefined, sourceDir: '/s' }));
    expect(spec.user).toBe('0:0');
    expect(envOf(spec)).toMatchObject({
      HOME: '/root',
      USER: 'root',
      PYTHONPATH: '/root/src/src',
      DATADIR: '/root/data',
    });
    expect(spec.workdir).toBe('/root/src');
  });

  it('"no" turns a mapping off and points its variable to /tmp; a folder replaces the default', () => {
    const folders = { hostDataDir: { kind: 'none' }, hostLogDir: { kind: 'dir', path: '/var/log/app' } } as const;
    const spec = buildRunSpec(input({ options: { ...options, ...folders } }));
    expect(envOf(spec).DATADIR).toBe('/tmp');
    expect(spec.mounts).toEqual([{ source: '/var/log/app', target: '/home/docker-user/log' }]);
    expect(spec.hostDirsToCreate).toEqual([{ path: '/var/log/app', option: '--hostlogdir' }]);
  });

  it('marks --local and leaves TZ out when the host has none', () => {
    const spec = buildRunSpec(input({ options: { ...options, local: true }, host: { ...host, timezone: undefined } }));
    expect(envOf(spec).DOCKER_LOCAL_MODE).toBe('1');
    expect('TZ' in envOf(spec)).toBe(false);
  });

  it('asks for a TTY only when stdin and stdout are both terminals', () => {
    expect(buildRunSpec(input({ host: { ...host, stdinIsTerminal: true, stdoutIsTerminal: true } })).tty).toBe(true);
    expect(buildRunSpec(input({ host: { ...host, stdinIsTerminal: true } })).tty).toBe(false);
  });

  it('keeps a detached container with a restart policy, and removes others', () => {
    expect(buildRunSpec(input({ options: { ...options, detach: true, restart: 'unless-stopped' } }))).toMatchObject({
      remove: false,
      interactive: false,
    });
    expect(buildRunSpec(input({ options: { ...options, detach: true } })).remove).toBe(true);
    expect(buildRunSpec(input({ options: { ...options, restart: 'always' } })).remove).toBe(true);
  });

  it('starts Jupyter on the chosen port, published on loopback only, with a token kept out of argv', () => {
    const spec = buildRunSpec(input({ command: ['notebook'], options: { ...options, nbPort: 9999 } }));
    expect(spec.command).toEqual([
      'jupyter',
      'notebook',
      '--no-browser',
      '--ip=0.0.0.0',
      '--port=9999',
      '--notebook-dir=/home/docker-user',
    ]);
    expect(spec.publish).toEqual(['127.0.0.1:9999:9999']);
    expect(spec.env).toContainEqual(['JUPYTER_TOKEN', undefined]);
    expect(spec.secretEnv).toEqual({ JUPYTER_TOKEN: 'tok' });
    expect(spec.notebookUrl).toBe('http://127.0.0.1:9999/?token=tok');
    expect(renderDockerRunArgs(spec).join(' ')).not.toContain('tok');
  });

  it('adds --allow-root to a notebook under --root', () => {
    const spec = buildRunSpec(
      input({ command: ['notebook'], options: { ...options, root: true }, imageUser: undefined }),
    );
    expect(spec.command).toContain('--allow-root');
  });

  it('turns off pytest cache for py.test and pytest', () => {
    expect(buildRunSpec(input({ command: ['py.test', 'tests'] })).command).toEqual([
      'py.test',
      '-p',
      'no:cacheprovider',
      'tests',
    ]);
    expect(buildRunSpec(input({ command: ['pytest'] })).command).toEqual(['pytest', '-p', 'no:cacheprovider']);
    expect(buildRunSpec(input({ command: ['python', 'pytest'] })).command).toEqual(['python', 'pytest']);
  });

  it('needs the image user unless --root', () => {
    expect(() => buildRunSpec(input({ imageUser: undefined }))).toThrow();
  });
});

describe('buildRunSpec per engine mode (docs/engines.md)', () => {
  it('runs as the host user with --userns=keep-id on rootless Podman through its own CLI', () => {
    const spec = buildRunSpec(input({ engine: { userMapping: 'keep-id' } }));
    expect(spec).toMatchObject({ user: '1234:1234', groupAdd: ['1000'], userns: 'keep-id', remove: true });
    expect(renderDockerRunArgs(spec).slice(0, 7)).toEqual([
      'run',
      '--init',
      '--rm',
      '--interactive',
      '--userns',
      'keep-id',
      '--name',
    ]);
  });

  it("runs as uid 0 on a rootless engine without keep-id: the engine's root is the host user", () => {
    const spec = buildRunSpec(input({ engine: { userMapping: 'root-is-user' } }));
    expect(spec).toMatchObject({ user: '0:0', groupAdd: [], userns: undefined, createdDirsOwner: undefined });
    expect(envOf(spec)).toMatchObject({
      HOME: '/home/docker-user',
      USER: 'docker-user',
      DATADIR: '/home/docker-user/data',
    });
    expect(envOf(spec).JUPYTER_RUNTIME_DIR).toBeUndefined();
    // Jupyter refuses uid 0 without --allow-root.
    expect(buildRunSpec(input({ command: ['notebook'], engine: { userMapping: 'root-is-user' } })).command).toContain(
      '--allow-root',
    );
    expect(buildRunSpec(input({ command: ['notebook'] })).command).not.toContain('--allow-root');
    // Docker Desktop maps file owners in its VM whatever the engine: docker-user, as before.
    expect(
      buildRunSpec(input({ host: { ...host, platform: 'darwin' }, engine: { userMapping: 'root-is-user' } })).user,
    ).toBe('1000:1000');
  });

  it('leaves --rm out of a foreground run that run-docker removes after the exit; a detached run keeps it', () => {
    const engine = { userMapping: 'shared' as const, removeAfterExit: true };
    expect(buildRunSpec(input({ engine }))).toMatchObject({ remove: false, removeAfterExit: true });
    expect(renderDockerRunArgs(buildRunSpec(input({ engine })))).not.toContain('--rm');
    expect(buildRunSpec(input({ engine, options: { ...options, detach: true } }))).toMatchObject({
      remove: true,
      removeAfterExit: false,
    });
    expect(buildRunSpec(input())).toMatchObject({ remove: true, removeAfterExit: false });
  });

  it("gives Podman's CLI the init path run-docker chose", () => {
    const spec = buildRunSpec(input({ engine: { userMapping: 'shared', initPath: '/usr/bin/tini-static' } }));
    expect(renderDockerRunArgs(spec).slice(0, 4)).toEqual(['run', '--init', '--init-path', '/usr/bin/tini-static']);
  });
});

describe('defaultContainerName', () => {
  it('is unique within one second and stays within docker name characters', () => {
    const now = new Date('2026-11-28T10:15:00Z');
    expect(defaultContainerName({ user: 'Ann Lee', now, uniqueSuffix: '0001' })).toBe('Ann_Lee-20261128-101500-0001');
    expect(defaultContainerName({ user: '.x', now, uniqueSuffix: 'ff' })).toBe('x-20261128-101500-ff');
    expect(defaultContainerName({ user: '', now, uniqueSuffix: 'ff' })).toBe('user-20261128-101500-ff');
  });
});

describe('renderDockerRunArgs', () => {
  it('renders every part, with the user options last before the image', () => {
    const spec = buildRunSpec(
      input({
        command: ['sh', '-c', 'echo "a  b"'],
        options: { ...options, memory: '4g', dockerArgs: ['--env', 'X=1', '--workdir', '/w'] },
      }),
    );
    const args = renderDockerRunArgs(spec);
    expect(args.slice(0, 4)).toEqual(['run', '--init', '--rm', '--interactive']);
    expect(args).toEqual(
      expect.arrayContaining(['--user', '1234:1234', '--group-add', '1000', '--memory', '4g', '--shm-size', '1g']),
    );
    expect(args).toContain('type=bind,source=/home/ann lee/work/data,target=/home/docker-user/data');
    expect(args.slice(-8)).toEqual(['--env', 'X=1', '--workdir', '/w', image.reference, 'sh', '-c', 'echo "a  b"']);
  });

  it('quotes --mount fields that hold a comma or a quote', () => {
    expect(formatBindMount({ source: '/a,b "c"', target: '/t' })).toBe('type=bind,"source=/a,b ""c""",target=/t');
  });
});

describe('formatShellCommand', () => {
  it('quotes only what a shell would split or expand', () => {
    expect(formatShellCommand(['docker', 'run', '--env', 'A=1', 'sh', '-c', `echo "a  b" it's $HOME`])).toBe(
      `docker run --env A=1 sh -c 'echo "a  b" it'\\''s $HOME'`,
    );
    expect(formatShellCommand([''])).toBe(`''`);
  });
});

describe('findPasswdUser', () => {
  it('finds docker-user and ignores others and malformed lines', () => {
    const passwd = 'root:x:0:0:root:/root:/bin/sh\nbroken\ndocker-user:x:1000:1001::/home/docker-user:/bin/bash\n';
    expect(findPasswdUser(passwd, 'docker-user')).toEqual({
      name: 'docker-user',
      uid: 1000,
      gid: 1001,
      home: '/home/docker-user',
    });
    expect(findPasswdUser(passwd, 'nobody')).toBeUndefined();
    expect(findPasswdUser('docker-user:x:abc:1::/h:', 'docker-user')).toBeUndefined();
  });
});
