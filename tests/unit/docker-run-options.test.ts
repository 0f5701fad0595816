import {
  DOCKER_RUN_OPTION_ALIASES,
  DOCKER_RUN_OPTIONS,
  RUN_DOCKER_OPTIONS,
  formatOptionsHelp,
} from '../../payload/run/docker-run-options';

function option(long: string) {
  const found = DOCKER_RUN_OPTIONS.find((candidate) => candidate.long === long);
  if (!found) throw new Error(`--${long} is not in the table`);
  return found;
}

describe('DOCKER_RUN_OPTIONS (docker CLI 28.2.2, docker run --help)', () => {
  it.each([
    ['volume', 'v', true],
    ['env', 'e', true],
    ['publish', 'p', true],
    ['workdir', 'w', true],
    ['user', 'u', true],
    ['label', 'l', true],
    ['attach', 'a', true],
    ['cpu-shares', 'c', true],
    ['hostname', 'h', true],
    ['memory', 'm', true],
    ['interactive', 'i', false],
    ['tty', 't', false],
    ['detach', 'd', false],
    ['quiet', 'q', false],
    ['publish-all', 'P', false],
  ])('--%s has the shorthand -%s (takes a value: %s)', (long, short, takesValue) => {
    expect(option(long)).toEqual({ long, short, takesValue });
  });

  it.each([
    'privileged',
    'sig-proxy',
    'rm',
    'init',
    'read-only',
    'no-healthcheck',
    'oom-kill-disable',
    'disable-content-trust',
    'use-api-socket',
    'help',
  ])('--%s is a boolean without a shorthand', (long) => {
    expect(option(long)).toEqual({ long, takesValue: false });
  });

  it.each([
    'gpus',
    'pull',
    'network',
    'mount',
    'env-file',
    'entrypoint',
    'platform',
    'add-host',
    'cap-add',
    'device',
    'cpus',
    'ulimit',
    'sysctl',
    'annotation',
    'health-start-interval',
    'shm-size',
    'restart',
    'name',
    'stop-timeout',
  ])('--%s takes a value and has no shorthand', (long) => {
    expect(option(long)).toEqual({ long, takesValue: true });
  });

  it('lists all 100 options of docker run, 85 of them taking a value', () => {
    expect(DOCKER_RUN_OPTIONS).toHaveLength(100);
    expect(DOCKER_RUN_OPTIONS.filter((entry) => entry.takesValue)).toHaveLength(85);
  });

  it('has no duplicate names or shorthands, and well-formed ones', () => {
    const longs = DOCKER_RUN_OPTIONS.map((entry) => entry.long);
    const shorts = DOCKER_RUN_OPTIONS.flatMap((entry) => (entry.short ? [entry.short] : []));
    expect(new Set(longs).size).toBe(longs.length);
    expect(new Set(shorts).size).toBe(shorts.length);
    for (const long of longs) expect(long).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
    for (const short of shorts) expect(short).toMatch(/^[a-zA-Z]$/);
    expect([...longs].sort()).toEqual(longs);
  });

  it('maps the hidden aliases to options in the table', () => {
    for (const [alias, long] of Object.entries(DOCKER_RUN_OPTION_ALIASES)) {
      expect(option(long).takesValue).toBe(true);
      expect(DOCKER_RUN_OPTIONS.some((entry) => entry.long === alias)).toBe(false);
    }
    expect(DOCKER_RUN_OPTION_ALIASES.net).toBe('network');
  });
});

describe('RUN_DOCKER_OPTIONS', () => {
  it("takes over docker's options of the same name with the same value-taking, so docker users are not surprised", () => {
    for (const own of RUN_DOCKER_OPTIONS) {
      const docker = DOCKER_RUN_OPTIONS.find((entry) => entry.long === own.long);
      if (docker)
        expect({ long: own.long, takesValue: own.value !== undefined }).toEqual({
          long: docker.long,
          takesValue: docker.takesValue,
        });
    }
  });

  it('has unique names and shorthands', () => {
    const longs = RUN_DOCKER_OPTIONS.map((entry) => entry.long);
    const shorts = RUN_DOCKER_OPTIONS.flatMap((entry) => (entry.short ? [entry.short] : []));
    expect(new Set(longs).size).toBe(longs.length);
    expect(new Set(shorts).size).toBe(shorts.length);
    // Not -h: that is docker's --hostname, read as docker reads it.
    expect(shorts.sort()).toEqual(['d', 'm', 'q']);
  });
});

describe('formatOptionsHelp', () => {
  const lines = formatOptionsHelp().split('\n');

  it('has one line per run-docker option, and no trailing newline', () => {
    expect(lines).toHaveLength(RUN_DOCKER_OPTIONS.length);
    expect(formatOptionsHelp().endsWith('\n')).toBe(false);
    for (const [index, entry] of RUN_DOCKER_OPTIONS.entries()) expect(lines[index]).toContain(`--${entry.long}`);
  });

  it('aligns the descriptions in one column', () => {
    const columns = new Set(RUN_DOCKER_OPTIONS.map((entry, index) => lines[index]?.indexOf(entry.help)));
    expect(columns.size).toBe(1);
    for (const line of lines) expect(line).toMatch(/^ {2}(-[a-z], | {4})--[a-z]/);
  });

  it('shows shorthands, values and defaults', () => {
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}-m, --memory SIZE +memory limit/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {6}--nb-port N +port for "notebook".*\(default 8888\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {6}--hostdatadir DIR\|no +/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {6}--shm-size SIZE +size of \/dev\/shm \(default 1g\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {6}--help +this help \(-h alone, too\)$/));
  });
});
