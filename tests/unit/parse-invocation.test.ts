import { formatUserFacingError, RunDockerError } from '../../common/run-docker-error';
import type { Invocation, RunOptions } from '../../payload/run/invocation';
import { parseInvocation } from '../../payload/run/parse-invocation';
import { DEFAULT_NB_PORT, DEFAULT_SHM_SIZE, defaultRunOptions } from '../../payload/run/run-defaults';
import { ARGV_CASES } from '../argv-cases';

const defaults: RunOptions = defaultRunOptions();

function run(image: string, command: string[] = [], options: Partial<RunOptions> = {}): Invocation {
  return { kind: 'run', options: { ...defaults, ...options }, image, command };
}

function runOf(argv: string[]): Extract<Invocation, { kind: 'run' }> {
  const invocation = parseInvocation(argv);
  if (invocation.kind !== 'run') throw new Error(`expected a run, got ${invocation.kind}`);
  return invocation;
}

function dockerArgsOf(argv: string[]): string[] {
  return runOf(argv).options.dockerArgs;
}

/** The RunDockerError thrown, as the user sees it. */
function errorOf(argv: string[]): { message: string; hint: string; exitCode: number; line: string } {
  try {
    parseInvocation(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(RunDockerError);
    const { message, hint, exitCode } = error as RunDockerError;
    return { message, hint, exitCode, line: formatUserFacingError(error as RunDockerError) };
  }
  throw new Error(`expected an error for ${JSON.stringify(argv)}`);
}

describe('parseInvocation: IMAGE and COMMAND', () => {
  it('takes the first argument as IMAGE and the rest as the command', () => {
    expect(parseInvocation(['team/app', 'python', '-m', 'app'])).toEqual(run('team/app', ['python', '-m', 'app']));
  });

  it('runs the default command when only IMAGE is given', () => {
    expect(parseInvocation(['team/app'])).toEqual(run('team/app'));
  });

  it('keeps IMAGE exactly as given, with a tag, a digest or a registry port', () => {
    const digest = `127.0.0.1:5000/team/app@sha256:${'a'.repeat(64)}`;
    expect(runOf([digest]).image).toBe(digest);
    expect(runOf(['127.0.0.1:5000/team/app:20261101-120000']).image).toBe('127.0.0.1:5000/team/app:20261101-120000');
  });

  it('uses the defaults when no option is given: the documented port, /dev/shm size and folders', () => {
    expect(runOf(['img']).options).toEqual(defaults);
    expect(defaults).toMatchObject({
      nbPort: 8888,
      shmSize: '1g',
      hostDataDir: { kind: 'default' },
      hostLogDir: { kind: 'default' },
      hostSrcDir: undefined,
      memory: undefined,
      name: undefined,
      restart: undefined,
      dockerArgs: [],
    });
    expect([DEFAULT_NB_PORT, DEFAULT_SHM_SIZE]).toEqual([8888, '1g']);
  });

  it('gives each run its own defaults: filling one in does not change the next', () => {
    runOf(['-e', 'A=1', 'img']);
    expect(runOf(['img']).options.dockerArgs).toEqual([]);
  });

  it('keeps the command exactly: quotes, spaces and run-docker-like options after IMAGE', () => {
    const argv = ['--local', '-v', '/a b:/c', 'img', 'sh', '-c', 'echo "a  b"', '--local'];
    expect(parseInvocation(argv)).toEqual(
      run('img', ['sh', '-c', 'echo "a  b"', '--local'], { local: true, dockerArgs: ['--volume', '/a b:/c'] }),
    );
  });

  it('passes --help, --version, -h, -d and --rm after IMAGE to the container', () => {
    expect(parseInvocation(['img', '--help'])).toEqual(run('img', ['--help']));
    expect(parseInvocation(['img', '--version'])).toEqual(run('img', ['--version']));
    expect(parseInvocation(['img', '-h', '-d', '--rm', '--frobnicate'])).toEqual(
      run('img', ['-h', '-d', '--rm', '--frobnicate']),
    );
  });

  it('passes empty and unusual arguments of the command on untouched', () => {
    const command = ['', ' ', '--', '-', 'a\nb', "it's", '$HOME', '*'];
    expect(runOf(['img', ...command]).command).toEqual(command);
  });

  it('ends the options at "--": the next argument is IMAGE, even one that looks like an option', () => {
    expect(parseInvocation(['--root', '--', 'img', '--root'])).toEqual(run('img', ['--root'], { root: true }));
    expect(parseInvocation(['--', '-img'])).toEqual(run('-img'));
    expect(parseInvocation(['--', '--', 'x'])).toEqual(run('--', ['x']));
  });

  it('takes a lone "-" as IMAGE, as pflag does', () => {
    expect(runOf(['-', 'x']).image).toBe('-');
  });

  it('reports a missing IMAGE', () => {
    for (const argv of [[], ['--local'], ['-e', 'A=1'], ['--'], ['--root', '--'], ['']]) {
      const error = errorOf(argv);
      expect(error.message).toBe('no image given');
      expect(error.hint).toMatch(/run-docker \[OPTIONS\] IMAGE/);
      expect(error.exitCode).toBe(125);
    }
  });
});

describe('parseInvocation: --completion', () => {
  it('asks for a completion script for bash or zsh, before IMAGE only', () => {
    expect(parseInvocation(['--completion', 'bash'])).toEqual({ kind: 'completion', shell: 'bash' });
    expect(parseInvocation(['--completion=zsh'])).toEqual({ kind: 'completion', shell: 'zsh' });
    expect(parseInvocation(['img', '--completion', 'bash'])).toEqual(run('img', ['--completion', 'bash']));
  });

  it('refuses another shell, and needs a value', () => {
    expect(errorOf(['--completion', 'fish']).line).toBe(
      'run-docker: invalid value "fish" for "--completion". Use bash or zsh.',
    );
    expect(errorOf(['--completion']).message).toBe('the option "--completion" needs a value');
  });
});

describe("parseInvocation: -h is docker's --hostname before IMAGE, help only alone", () => {
  it('reads -h VALUE as docker run does (--hostname), in every pflag form', () => {
    for (const args of [
      ['-h', 'web', 'img'],
      ['-hweb', 'img'],
      ['-h=web', 'img'],
      ['--hostname', 'web', 'img'],
      ['-ith', 'web', 'img'],
    ]) {
      const invocation = parseInvocation(args);
      expect(invocation).toMatchObject({ kind: 'run', image: 'img' });
      expect((invocation as { options: { dockerArgs: string[] } }).options.dockerArgs).toEqual(
        expect.arrayContaining(['--hostname', 'web']),
      );
    }
  });

  it('answers help for -h alone, and asks for the value when -h ends the options', () => {
    expect(parseInvocation(['-h'])).toEqual({ kind: 'help' });
    expect(() => parseInvocation(['--local', '-h'])).toThrow('the option "-h" needs a value');
  });
});

describe('parseInvocation: --help and --version', () => {
  it('returns help for -h and --help, version for --version', () => {
    expect(parseInvocation(['--help'])).toEqual({ kind: 'help' });
    expect(parseInvocation(['-h'])).toEqual({ kind: 'help' });
    expect(parseInvocation(['--version'])).toEqual({ kind: 'version' });
  });

  it('lets --help and --version anywhere before IMAGE win', () => {
    expect(parseInvocation(['--local', '-e', 'A=1', '--help', 'img', 'cmd'])).toEqual({ kind: 'help' });
    expect(parseInvocation(['--root', '--version', 'img'])).toEqual({ kind: 'version' });
    expect(parseInvocation(['--local', '--version'])).toEqual({ kind: 'version' });
    expect(parseInvocation(['-i', '--help'])).toEqual({ kind: 'help' });
  });

  it('takes the first of --help and --version', () => {
    expect(parseInvocation(['--version', '--help'])).toEqual({ kind: 'version' });
    expect(parseInvocation(['--help', '--version'])).toEqual({ kind: 'help' });
  });

  it('wins over invalid values and a missing image, and over errors after it', () => {
    expect(parseInvocation(['--nb-port', 'abc', '--help'])).toEqual({ kind: 'help' });
    expect(parseInvocation(['--user', 'x', '--version'])).toEqual({ kind: 'version' });
    expect(parseInvocation(['--help', '--frobnicate'])).toEqual({ kind: 'help' });
  });

  it('does not take --help as the value of an option', () => {
    expect(parseInvocation(['-e', '--help', 'img'])).toEqual(run('img', [], { dockerArgs: ['--env', '--help'] }));
  });

  it('treats "-h" as help, not docker\'s --hostname, which keeps its long form', () => {
    expect(dockerArgsOf(['--hostname', 'box', 'img'])).toEqual(['--hostname', 'box']);
    expect(dockerArgsOf(['--hostname=box', 'img'])).toEqual(['--hostname', 'box']);
  });
});

describe('parseInvocation: run-docker options', () => {
  it('reads the flags', () => {
    expect(runOf(['--local', '--root', '-d', '--dry-run', '-q', 'img']).options).toEqual({
      ...defaults,
      local: true,
      root: true,
      detach: true,
      dryRun: true,
      quiet: true,
    });
    expect(runOf(['--detach', '--quiet', 'img']).options).toEqual({ ...defaults, detach: true, quiet: true });
  });

  it('reads values in both forms, --opt value and --opt=value', () => {
    const spaced = [
      '--nb-port',
      '9000',
      '--hostdatadir',
      '/d',
      '--hostlogdir',
      'no',
      '--hostsrcdir',
      'src',
      '--memory',
      '8g',
      '--shm-size',
      '2g',
      '--name',
      'my-box',
      '-d',
      '--restart',
      'unless-stopped',
      'img',
    ];
    const joined = [
      '--nb-port=9000',
      '--hostdatadir=/d',
      '--hostlogdir=no',
      '--hostsrcdir=src',
      '--memory=8g',
      '--shm-size=2g',
      '--name=my-box',
      '-d',
      '--restart=unless-stopped',
      'img',
    ];
    const expected = run('img', [], {
      nbPort: 9000,
      hostDataDir: { kind: 'dir', path: '/d' },
      hostLogDir: { kind: 'none' },
      hostSrcDir: 'src',
      memory: '8g',
      shmSize: '2g',
      name: 'my-box',
      restart: 'unless-stopped',
      detach: true,
    });
    expect(parseInvocation(spaced)).toEqual(expected);
    expect(parseInvocation(joined)).toEqual(expected);
  });

  it('reads --name=x', () => {
    expect(runOf(['--name=x1', 'img']).options.name).toBe('x1');
  });

  it('reads -m in every short form', () => {
    for (const argv of [
      ['-m', '4g', 'img'],
      ['-m4g', 'img'],
      ['-m=4g', 'img'],
      ['-dm', '4g', 'img'],
      ['-dm4g', 'img'],
    ]) {
      expect(runOf(argv).options.memory).toBe('4g');
    }
    expect(runOf(['-dm', '4g', 'img']).options.detach).toBe(true);
  });

  it('reads "no" for the data and log folders as none; a folder value is kept as given', () => {
    expect(runOf(['--hostdatadir', 'no', '--hostlogdir', './log dir', 'img']).options).toMatchObject({
      hostDataDir: { kind: 'none' },
      hostLogDir: { kind: 'dir', path: './log dir' },
    });
    expect(runOf(['--hostdatadir', './no', 'img']).options.hostDataDir).toEqual({ kind: 'dir', path: './no' });
  });

  it('lets the last of a repeated option win', () => {
    expect(runOf(['--nb-port', '9000', '--nb-port=9001', '--name', 'ab', '--name', 'cd', 'img']).options).toMatchObject(
      { nbPort: 9001, name: 'cd' },
    );
  });

  it("takes run-docker's own options, not docker's, for --memory, --shm-size, --name, --restart, -d, -q", () => {
    expect(
      dockerArgsOf(['--memory', '1g', '--shm-size', '1g', '--name', 'ab', '--restart', 'always', '-d', '-q', 'img']),
    ).toEqual([]);
  });

  it('accepts valid port numbers at the ends of the range', () => {
    expect(runOf(['--nb-port', '1', 'img']).options.nbPort).toBe(1);
    expect(runOf(['--nb-port', '65535', 'img']).options.nbPort).toBe(65535);
  });

  it('rejects a --nb-port that is not a port number', () => {
    for (const value of ['abc', '0', '65536', '-1', '80.5', '1e3', '', ' 80', '0x50']) {
      const error = errorOf(['--nb-port', value, 'img']);
      expect(error.message).toBe(`invalid value "${value}" for "--nb-port"`);
      expect(error.hint).toMatch(/1 to 65535/);
    }
    expect(errorOf(['--nb-port=abc', 'img']).line).toBe(
      'run-docker: invalid value "abc" for "--nb-port". Give a port number from 1 to 65535 (default 8888).',
    );
  });

  it('accepts memory and shm sizes as docker does', () => {
    for (const value of ['512', '512m', '8g', '8G', '1.5g', '100k', '64b', '8GB', '2GiB', '1t']) {
      expect(runOf(['--memory', value, '--shm-size', value, 'img']).options).toMatchObject({
        memory: value,
        shmSize: value,
      });
    }
  });

  it('rejects sizes docker would not accept', () => {
    for (const value of ['', 'lots', '8x', '-1', '8 gigs', '.5g', '1.2.3g']) {
      expect(errorOf(['--memory', value, 'img']).message).toBe(`invalid value "${value}" for "--memory"`);
      expect(errorOf(['--shm-size', value, 'img']).message).toBe(`invalid value "${value}" for "--shm-size"`);
    }
    expect(errorOf(['-m', 'lots', 'img']).message).toBe('invalid value "lots" for "-m"');
  });

  it('accepts the restart policies and rejects others', () => {
    for (const policy of ['no', 'always', 'unless-stopped', 'on-failure', 'on-failure:3']) {
      expect(runOf(['-d', '--restart', policy, 'img']).options.restart).toBe(policy);
    }
    for (const policy of ['', 'sometimes', 'on-failure:', 'on-failure:x', 'Always']) {
      const error = errorOf(['--restart', policy, 'img']);
      expect(error.message).toBe(`invalid value "${policy}" for "--restart"`);
      expect(error.hint).toMatch(/unless-stopped/);
    }
  });

  it('refuses a restart policy without -d in its own words, instead of docker\'s "conflicting options"', () => {
    for (const policy of ['always', 'unless-stopped', 'on-failure:3']) {
      const error = errorOf(['--restart', policy, 'img']);
      expect(error.message).toBe(
        `"--restart ${policy}" needs -d: a restart policy keeps a detached container, and a foreground run is removed when it ends`,
      );
      expect(error.hint).toBe(`Add -d (run-docker -d --restart ${policy} IMAGE …), or leave --restart out.`);
    }
    // "no" keeps nothing, so it needs no -d; -d after --restart counts as well.
    expect(runOf(['--restart', 'no', 'img']).options.restart).toBe('no');
    expect(runOf(['--restart', 'always', '-d', 'img']).options).toMatchObject({ restart: 'always', detach: true });
  });

  it('accepts container names docker accepts and rejects the others', () => {
    for (const name of ['ab', 'a1', 'my_box.1-2', '9lives'])
      expect(runOf(['--name', name, 'img']).options.name).toBe(name);
    // The engine rejects one-letter names ("Invalid container name (Q)"): checked on Engine API 1.41.
    for (const name of ['', 'x', '-box', '_box', 'a b', 'a/b', 'ä1']) {
      expect(errorOf(['--name', name, 'img']).message).toBe(`invalid value "${name}" for "--name"`);
    }
  });

  it('rejects empty folders', () => {
    expect(errorOf(['--hostdatadir', '', 'img']).message).toBe('invalid value "" for "--hostdatadir"');
    expect(errorOf(['--hostlogdir=', 'img']).message).toBe('invalid value "" for "--hostlogdir"');
    expect(errorOf(['--hostsrcdir', '', 'img']).message).toBe('invalid value "" for "--hostsrcdir"');
  });

  it("rejects a value given to one of run-docker's flags", () => {
    expect(errorOf(['--root=true', 'img']).message).toBe('the option "--root" takes no value');
    expect(errorOf(['--local=1', 'img']).message).toBe('the option "--local" takes no value');
    expect(errorOf(['-d=false', 'img']).message).toBe('the option "-d" takes no value');
  });

  it('reports an invalid value before a missing image', () => {
    expect(errorOf(['--nb-port', 'abc']).message).toBe('invalid value "abc" for "--nb-port"');
  });

  it('reports a missing value, naming the option as written', () => {
    expect(errorOf(['--nb-port']).message).toBe('the option "--nb-port" needs a value');
    expect(errorOf(['--name']).message).toBe('the option "--name" needs a value');
    expect(errorOf(['-m']).message).toBe('the option "-m" needs a value');
    expect(errorOf(['-dm']).message).toBe('the option "-m" needs a value');
    expect(errorOf(['--hostdatadir']).hint).toMatch(/"--hostdatadir VALUE"/);
  });

  it('takes the next argument as the value, whatever it looks like', () => {
    expect(runOf(['--name', 'img', 'other']).options.name).toBe('img');
    expect(runOf(['--name', 'img', 'other']).image).toBe('other');
    expect(runOf(['--hostdatadir', '--root', 'img']).options).toMatchObject({
      hostDataDir: { kind: 'dir', path: '--root' },
      root: false,
    });
  });
});

describe('parseInvocation: docker run options passed on', () => {
  it('does not let -e A=1 swallow IMAGE', () => {
    expect(parseInvocation(['-e', 'A=1', 'IMG', 'a'])).toEqual(run('IMG', ['a'], { dockerArgs: ['--env', 'A=1'] }));
  });

  it('takes an option value that looks like an image as the value (--network host img)', () => {
    expect(parseInvocation(['--network', 'host', 'img'])).toEqual(
      run('img', [], { dockerArgs: ['--network', 'host'] }),
    );
    expect(parseInvocation(['-w', 'team/app', 'team/app', 'pwd'])).toEqual(
      run('team/app', ['pwd'], { dockerArgs: ['--workdir', 'team/app'] }),
    );
  });

  it.each([
    ['-v', 'volume', '/a:/b'],
    ['-e', 'env', 'A=1'],
    ['-p', 'publish', '127.0.0.1:8080:80'],
    ['-w', 'workdir', '/work dir'],
    ['-l', 'label', 'a=b'],
    ['-a', 'attach', 'stdout'],
    ['-c', 'cpu-shares', '512'],
  ])('reads %s / --%s in all four forms', (short, long, value) => {
    const expected = [`--${long}`, value];
    expect(dockerArgsOf([short, value, 'img'])).toEqual(expected);
    expect(dockerArgsOf([`${short}${value}`, 'img'])).toEqual(expected);
    expect(dockerArgsOf([`--${long}=${value}`, 'img'])).toEqual(expected);
    expect(dockerArgsOf([`--${long}`, value, 'img'])).toEqual(expected);
  });

  it.each([
    'env-file',
    'network',
    'gpus',
    'entrypoint',
    'mount',
    'platform',
    'add-host',
    'cap-add',
    'device',
    'cpus',
    'pull',
    'ulimit',
    'tmpfs',
    'security-opt',
    'sysctl',
    'log-opt',
    'health-cmd',
    'stop-signal',
    'ipc',
    'pid',
    'runtime',
  ])('passes --%s VALUE and --%s=VALUE on', (long) => {
    expect(dockerArgsOf([`--${long}`, 'some value', 'img'])).toEqual([`--${long}`, 'some value']);
    expect(dockerArgsOf([`--${long}=some=value`, 'img'])).toEqual([`--${long}`, 'some=value']);
  });

  it('takes "-x=value" as pflag does: the value after "="', () => {
    expect(dockerArgsOf(['-e=A=1', 'img'])).toEqual(['--env', 'A=1']);
    expect(dockerArgsOf(['-v=/a:/b', 'img'])).toEqual(['--volume', '/a:/b']);
  });

  it('keeps an empty value given with "="', () => {
    expect(dockerArgsOf(['--entrypoint=', 'img'])).toEqual(['--entrypoint', '']);
    expect(dockerArgsOf(['--entrypoint', '', 'img'])).toEqual(['--entrypoint', '']);
  });

  it('takes a value that starts with "-" as the value (pflag)', () => {
    expect(parseInvocation(['-e', '-x', 'img'])).toEqual(run('img', [], { dockerArgs: ['--env', '-x'] }));
    expect(dockerArgsOf(['--entrypoint', '--', 'img'])).toEqual(['--entrypoint', '--']);
    expect(dockerArgsOf(['--oom-score-adj', '-500', 'img'])).toEqual(['--oom-score-adj', '-500']);
  });

  it('keeps docker options in order, repeated ones included', () => {
    expect(dockerArgsOf(['-e', 'A=1', '--local', '-v', '/x:/y', '-e', 'B=2', '--privileged', 'img'])).toEqual([
      '--env',
      'A=1',
      '--volume',
      '/x:/y',
      '--env',
      'B=2',
      '--privileged',
    ]);
  });

  it('passes boolean options on, with an explicit value kept attached', () => {
    expect(dockerArgsOf(['--privileged', '--read-only', '-P', 'img'])).toEqual([
      '--privileged',
      '--read-only',
      '--publish-all',
    ]);
    expect(dockerArgsOf(['--sig-proxy=false', 'img'])).toEqual(['--sig-proxy=false']);
    expect(dockerArgsOf(['-P=true', 'img'])).toEqual(['--publish-all=true']);
    expect(runOf(['--sig-proxy', 'false', 'img']).image).toBe('false');
  });

  it('rejects a boolean value pflag would not accept', () => {
    const error = errorOf(['--privileged=yes', 'img']);
    expect(error.message).toBe('invalid value "yes" for "--privileged"');
    expect(error.hint).toMatch(/true or false/);
  });

  it("expands groups of short flags: -it, -dit (with -d run-docker's)", () => {
    expect(dockerArgsOf(['-it', 'img'])).toEqual(['--interactive', '--tty']);
    const dit = runOf(['-dit', 'img']);
    expect(dit.options.detach).toBe(true);
    expect(dit.options.dockerArgs).toEqual(['--interactive', '--tty']);
  });

  it('lets a value-taking letter take the rest of the group, or else the next argument', () => {
    expect(parseInvocation(['-ite', 'A=1', 'img'])).toEqual(
      run('img', [], { dockerArgs: ['--interactive', '--tty', '--env', 'A=1'] }),
    );
    expect(dockerArgsOf(['-iteA=1', 'img'])).toEqual(['--interactive', '--tty', '--env', 'A=1']);
    expect(dockerArgsOf(['-iv/a:/b', 'img'])).toEqual(['--interactive', '--volume', '/a:/b']);
    // The rest of the group is the value, even when it spells letters: -ei is --env i.
    expect(dockerArgsOf(['-ei', 'img'])).toEqual(['--env', 'i']);
  });

  it('normalises the hidden --net, --net-alias and --dns-opt to --network, --network-alias and --dns-option', () => {
    expect(dockerArgsOf(['--net=host', '--net-alias', 'db', 'img'])).toEqual([
      '--network',
      'host',
      '--network-alias',
      'db',
    ]);
    expect(dockerArgsOf(['--dns-opt', 'ndots:2', '--dns-opt=timeout:1', 'img'])).toEqual([
      '--dns-option',
      'ndots:2',
      '--dns-option',
      'timeout:1',
    ]);
  });

  it('passes -i and -t on (run-docker decides them too; an explicit one is honoured)', () => {
    expect(dockerArgsOf(['-i', '-t', 'img'])).toEqual(['--interactive', '--tty']);
    expect(dockerArgsOf(['--interactive', '--tty=false', 'img'])).toEqual(['--interactive', '--tty=false']);
  });

  it('accepts and drops --rm and --init, which run-docker always applies', () => {
    expect(dockerArgsOf(['--rm', '--init', '-e', 'A=1', 'img'])).toEqual(['--env', 'A=1']);
    expect(dockerArgsOf(['--rm=true', '--init=1', 'img'])).toEqual([]);
  });

  it('refuses --rm=false and --init=false, with a hint', () => {
    const rm = errorOf(['--rm=false', 'img']);
    expect(rm.message).toBe('"--rm=false" is not supported');
    expect(rm.hint).toMatch(/--restart/);
    const init = errorOf(['--init=0', 'img']);
    expect(init.message).toBe('"--init=false" is not supported');
    expect(init.hint).toMatch(/always runs an init/);
  });

  it('refuses --user and -u, pointing to --root', () => {
    for (const argv of [
      ['--user', '1000', 'img'],
      ['-u', '0', 'img'],
      ['-u0', 'img'],
      ['--user=root', 'img'],
    ]) {
      const error = errorOf(argv);
      expect(error.message).toMatch(/^run-docker chooses the container's user; "(-u|--user)" is not supported$/);
      expect(error.hint).toMatch(/--root/);
    }
    // Its value is still consumed: "img" is not mistaken for it.
    expect(errorOf(['-u', 'img']).message).toMatch(/"-u" is not supported/);
  });

  it('reports an unknown option by name, in both forms', () => {
    const error = errorOf(['--frobnicate', 'img']);
    expect(error.message).toBe('unknown option "--frobnicate"');
    expect(error.hint).toBe('See "run-docker --help" for the options.');
    expect(error.line).toBe('run-docker: unknown option "--frobnicate". See "run-docker --help" for the options.');
    expect(errorOf(['--frobnicate=1', 'img']).message).toBe('unknown option "--frobnicate"');
    expect(errorOf(['-x', 'img']).message).toBe('unknown option "-x"');
    expect(errorOf(['-itx', 'img']).message).toBe('unknown option "-x" in "-itx"');
    expect(errorOf(['---x', 'img']).message).toBe('unknown option "---x"');
    expect(errorOf(['--=x', 'img']).message).toBe('unknown option "--=x"');
  });

  it('suggests the long form for a long option written with one dash', () => {
    const error = errorOf(['-rm', 'img']);
    expect(error.message).toBe('unknown option "-r" in "-rm"');
    expect(error.hint).toBe('Did you mean "--rm"? See "run-docker --help" for the options.');
  });

  it("rejects docker's hidden Windows-only options", () => {
    expect(errorOf(['--cpu-count', '2', 'img']).message).toBe('unknown option "--cpu-count"');
  });

  it('reports a missing value of a docker option, naming it as written', () => {
    expect(errorOf(['-e']).message).toBe('the option "-e" needs a value');
    expect(errorOf(['--volume']).message).toBe('the option "--volume" needs a value');
    expect(errorOf(['-it', '-e']).message).toBe('the option "-e" needs a value');
    expect(errorOf(['-ite']).message).toBe('the option "-e" needs a value');
  });
});

describe('parseInvocation against the shared argv cases (tests/argv-cases.ts)', () => {
  it.each(ARGV_CASES.map((entry) => [entry.argv, entry]))('%j', (_argv, entry) => {
    const invocation = parseInvocation(entry.argv);
    if (entry.flags.showConfig) {
      expect(invocation).toEqual({ kind: 'show-config' });
      return;
    }
    if (invocation.kind !== 'run' || entry.image === undefined)
      throw new Error(`expected a run at argv[${entry.image}], got ${invocation.kind}`);
    expect({
      local: invocation.options.local,
      quiet: invocation.options.quiet,
      image: invocation.image,
      command: invocation.command,
    }).toEqual({
      local: entry.flags.local,
      quiet: entry.flags.quiet,
      image: entry.argv[entry.image],
      command: entry.argv.slice(entry.image + 1),
    });
  });

  it('reads --show-config as a request, like --help: before IMAGE only, winning over what follows', () => {
    expect(parseInvocation(['--show-config', '--frobnicate'])).toEqual({ kind: 'show-config' });
    expect(errorOf(['--frobnicate', '--show-config']).message).toBe('unknown option "--frobnicate"');
    expect(errorOf(['--show-config=1']).message).toBe('the option "--show-config" takes no value');
  });
});

// docs/decisions/hand-written-grammar.md: the argv on which yargs 18, configured as closely to
// pflag as it goes, read otherwise than `docker run` (or than the user typed). Each must stay read
// as docker reads it.
describe('parseInvocation where a general-purpose parser (yargs) reads otherwise', () => {
  it('takes the rest of "-eA=1" as the value, not as an option -A', () => {
    expect(parseInvocation(['-eA=1', 'img'])).toEqual(run('img', [], { dockerArgs: ['--env', 'A=1'] }));
  });

  it('leaves a boolean\'s next argument alone: "--sig-proxy false IMG" runs the image "false"', () => {
    expect(parseInvocation(['--sig-proxy', 'false', 'img'])).toEqual(
      run('false', ['img'], { dockerArgs: ['--sig-proxy'] }),
    );
  });

  it('keeps --no-healthcheck an option of its own, not the negation of "--healthcheck"', () => {
    expect(dockerArgsOf(['--no-healthcheck', 'img'])).toEqual(['--no-healthcheck']);
  });

  it('passes number-like container arguments on as written', () => {
    expect(runOf(['img', 'printf', '%s', '1e3', '0x10', '010', '-1']).command).toEqual([
      'printf',
      '%s',
      '1e3',
      '0x10',
      '010',
      '-1',
    ]);
    expect(dockerArgsOf(['--cpus', '1.50', '--memory-swap', '-1', 'img'])).toEqual([
      '--cpus',
      '1.50',
      '--memory-swap',
      '-1',
    ]);
  });

  it('keeps the last of a repeated single-value option, not a list', () => {
    expect(runOf(['--name', 'web', '--name', 'api', 'img']).options.name).toBe('api');
  });
});
