import { formatUserFacingError, RunDockerError } from '../../common/run-docker-error';
import { parseToml } from '../../payload/project/parse-toml';
import { formatProjectImage, parseProjectImage } from '../../payload/project/project-image';
import { canonicalJson, isMiniNewEnough, selectProjectTable } from '../../payload/project/project-table';
import { parseHead } from '../../payload/project/read-git-branch';
import { parseInvocation, parseProjectRunOptions } from '../../payload/run/parse-invocation';
import { defaultRunOptions } from '../../payload/run/run-defaults';

const FILE = '/home/me/work/src/hello/pyproject.toml';

function tableOf(toml: string) {
  return selectProjectTable(parseToml(Buffer.from(toml), FILE), FILE);
}

/** The one line a user sees for what `run` throws. */
function lineOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RunDockerError);
    return formatUserFacingError(error as RunDockerError);
  }
  throw new Error('expected a RunDockerError');
}

describe('selectProjectTable', () => {
  it('reads image, run-options and requires-mini', () => {
    const table = tableOf(
      [
        '[project]',
        'name = "hello"',
        '[tool.run-docker]',
        'image = "127.0.0.1:5000/team/hello"',
        'run-options = ["-p", "127.0.0.1:8000:8000", "-e", "DJANGO_DEBUG=1"]',
        'requires-mini = "20261201-000000"',
      ].join('\n'),
    );
    expect(table).toMatchObject({
      image: '127.0.0.1:5000/team/hello',
      runOptions: ['-p', '127.0.0.1:8000:8000', '-e', 'DJANGO_DEBUG=1'],
      requiresMini: '20261201-000000',
    });
  });

  it('is undefined without the table, and reads the table in any TOML spelling', () => {
    expect(tableOf('[project]\nname = "hello"\n[tool.black]\nline-length = 100\n')).toBeUndefined();
    expect(tableOf('[tool]\n"run-docker" = { image = "team/app" }\n')?.image).toBe('team/app');
    expect(tableOf('tool.run-docker.image = "team/app"\n')?.image).toBe('team/app');
  });

  it('names an unknown key and the file', () => {
    const line = lineOf(() => tableOf('[tool.run-docker]\nimage = "team/app"\nrun_options = []\n'));
    expect(line).toContain('unknown key "run_options" in [tool.run-docker]');
    expect(line).toContain(FILE);
  });

  it.each([
    ['image = 1', '"image"'],
    ['image = ["team/app"]', '"image"'],
    ['run-options = "-p 8000:8000"', '"run-options"'],
    ['run-options = ["-p", 8000]', '"run-options"'],
    ['requires-mini = 20261201', '"requires-mini"'],
    ['requires-mini = "2026-12-01"', '"requires-mini"'],
  ])('names the key of a wrong type and the file: %s', (entry, key) => {
    const line = lineOf(() => tableOf(`[tool.run-docker]\n${entry}\n`));
    expect(line).toContain(`${key} in [tool.run-docker] of "${FILE}" must be`);
  });

  it('refuses a [tool.run-docker] that is not a table, and an image with a tag or an invalid one', () => {
    expect(lineOf(() => tableOf('[tool]\nrun-docker = "team/app"\n'))).toContain('"tool.run-docker"');
    expect(lineOf(() => tableOf('[tool.run-docker]\nimage = "team/app:1.0"\n'))).toContain('has a tag or digest');
    expect(lineOf(() => tableOf('[tool.run-docker]\nimage = "Team/App"\n'))).toContain('not a valid image reference');
  });

  it('checks requires-mini before unknown keys: a newer file tells an older mini what it needs', () => {
    const table = tableOf('[tool.run-docker]\nimage = "team/app"\nrequires-mini = "20301201-000000"\n');
    expect(table?.requiresMini).toBe('20301201-000000');
    expect(lineOf(() => tableOf('[tool.run-docker]\nrequires-mini = 3\nfuture-key = 1\n'))).toContain(
      '"requires-mini"',
    );
  });

  it('hashes the same table to the same canonical text, whatever the layout, and a change to another', () => {
    const a = tableOf('[tool.run-docker]\nimage = "team/app"\nrun-options = ["-e", "A=1"]\n');
    const b = tableOf('[tool.run-docker]\nrun-options = [ "-e",\n  "A=1" ]  # a comment\nimage = \'team/app\'\n');
    const c = tableOf('[tool.run-docker]\nimage = "team/app"\nrun-options = ["-e", "A=2"]\n');
    expect(a?.canonical).toBe(b?.canonical);
    expect(a?.canonical).not.toBe(c?.canonical);
    expect(canonicalJson({ b: [1, { d: true, c: null }], a: 'x' })).toBe('{"a":"x","b":[1,{"c":null,"d":true}]}');
  });
});

describe('parseToml', () => {
  it('says where the TOML is wrong, with the file, in one line', () => {
    const line = lineOf(() => parseToml(Buffer.from('[tool.run-docker]\nimage = "team/app"\nimage = "x"\n'), FILE));
    expect(line).toMatch(new RegExp(`"${FILE}" is not valid TOML \\(line 3, column \\d+: .+\\)`));
    expect(line).not.toContain('\n');
  });

  it('refuses bytes that are not UTF-8, and __proto__ keys', () => {
    expect(lineOf(() => parseToml(Buffer.from([0x61, 0x20, 0x3d, 0x20, 0x22, 0xff, 0x22]), FILE))).toContain(
      'not UTF-8',
    );
    expect(lineOf(() => parseToml(Buffer.from('[tool.run-docker]\n__proto__ = "x"\n'), FILE))).toContain(
      'not valid TOML',
    );
  });
});

describe('parseProjectImage', () => {
  it.each([
    ['.', { kind: 'dev', suffix: '' }],
    ['.prod', { kind: 'prod', suffix: '' }],
    ['.:20261101-120000', { kind: 'dev', suffix: ':20261101-120000' }],
    ['.prod:20261101-120000', { kind: 'prod', suffix: ':20261101-120000' }],
    [`.@sha256:${'a'.repeat(64)}`, { kind: 'dev', suffix: `@sha256:${'a'.repeat(64)}` }],
  ])('reads %s', (text, spec) => {
    expect(parseProjectImage(text)).toEqual(spec);
  });

  it('leaves every other image alone', () => {
    for (const image of ['team/app', '127.0.0.1:5000/app:1', 'localhost/app'])
      expect(parseProjectImage(image)).toBe(undefined);
  });

  it('refuses other spellings that start with "."', () => {
    expect(lineOf(() => parseProjectImage('./app'))).toContain('"." stands for this project');
    expect(lineOf(() => parseProjectImage('.dev'))).toContain('"." stands for this project');
    expect(lineOf(() => parseProjectImage('.:bad tag'))).toContain('no valid tag');
  });

  it('names the dev image, the prod image of a branch, with the suffix', () => {
    expect(formatProjectImage({ kind: 'dev', suffix: ':1' }, 'reg:5000/team/hello')).toBe('reg:5000/team/hello:1');
    expect(formatProjectImage({ kind: 'prod', suffix: '' }, 'reg:5000/team/hello', 'main')).toBe(
      'reg:5000/team/hello-main',
    );
  });
});

describe('parseHead', () => {
  it('reads the branch of a symbolic HEAD, and nothing of a detached one', () => {
    expect(parseHead('ref: refs/heads/feature/Login\n')).toBe('feature/Login');
    expect(parseHead(`${'a'.repeat(40)}\n`)).toBeUndefined();
  });
});

describe('isMiniNewEnough', () => {
  it('compares date-time versions; anything else is not new enough', () => {
    expect(isMiniNewEnough('20261201-000000', '20261201-000000')).toBe(true);
    expect(isMiniNewEnough('20261202-000000', '20261201-000000')).toBe(true);
    expect(isMiniNewEnough('20261130-235959', '20261201-000000')).toBe(false);
    expect(isMiniNewEnough('0.1.0', '20261201-000000')).toBe(false);
  });
});

describe('parseProjectRunOptions', () => {
  const WHERE = `run-options of [tool.run-docker] in "${FILE}"`;

  it('reads options by the command line grammar, normalised, own options included', () => {
    const { options, own } = parseProjectRunOptions(
      ['-p', '127.0.0.1:8000:8000', '-eDJANGO_DEBUG=1', '--volume=cache:/c', '-m', '8g', '--shm-size=2g'],
      WHERE,
    );
    expect(options.dockerArgs).toEqual([
      '--publish',
      '127.0.0.1:8000:8000',
      '--env',
      'DJANGO_DEBUG=1',
      '--volume',
      'cache:/c',
    ]);
    expect(options).toMatchObject({ memory: '8g', shmSize: '2g' });
    expect([...own]).toEqual(['memory', 'shm-size']);
  });

  it('refuses an image or command, options about one call, and names the file in every error', () => {
    expect(lineOf(() => parseProjectRunOptions(['-p', '8000', 'team/app'], WHERE))).toContain(
      `"team/app" in ${WHERE} is not an option`,
    );
    for (const option of ['--local', '--dry-run', '-q', '--help', '--allow-project']) {
      const args = option === '--allow-project' ? [option, '.'] : [option];
      expect(lineOf(() => parseProjectRunOptions(args, WHERE))).toContain(`cannot be set in ${WHERE}`);
    }
    expect(lineOf(() => parseProjectRunOptions(['--bogus'], WHERE))).toContain(`unknown option "--bogus" in ${WHERE}`);
    expect(lineOf(() => parseProjectRunOptions(['-p'], WHERE))).toContain(`"-p" needs a value in ${WHERE}`);
    expect(lineOf(() => parseProjectRunOptions(['--user', '0'], WHERE))).toContain(WHERE);
  });

  it('puts the command line over the file: its own options win, its docker options come after', () => {
    const file = parseProjectRunOptions(['-m', '8g', '-e', 'A=1', '--name', 'web'], WHERE).options;
    const invocation = parseInvocation(['-m', '4g', '-e', 'A=2', '.', 'sh'], file);
    expect(invocation).toMatchObject({
      kind: 'run',
      image: '.',
      command: ['sh'],
      options: { memory: '4g', name: 'web', dockerArgs: ['--env', 'A=1', '--env', 'A=2'] },
    });
    // The file's options are not changed by the merge.
    expect(file.dockerArgs).toEqual(['--env', 'A=1']);
    expect(defaultRunOptions().dockerArgs).toEqual([]);
  });
});
