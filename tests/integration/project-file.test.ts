/**
 * The project file (docs/project-file.md) on the real engine and registry: `.` and `.prod`
 * run this project's images with its folder as the live source, the file's run-options
 * under the command line's, every option that widens what the container may do refused
 * until this host allows the table (and asked again when it changes), requires-mini, and
 * files that are broken, huge, a FIFO or another user's. Also digests: `--dry-run` shows
 * REPO:TAG@sha256:…, such a reference runs, and a tag pushed again warns once.
 */
import { execFileSync } from 'node:child_process';
import { chmod, chown, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage, docker, pushImage, removeImages, runCommand } from '../helpers/fixtures';
import { listOwnContainers } from '../helpers/own-containers';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import {
  expectOneLineFailure,
  explain,
  makeHost,
  PACKAGE_VERSION,
  publish,
  removeHosts,
  runShim,
  stderrLines,
  type HostEnv,
  type Outcome,
} from '../helpers/shim';

const MINI_VERSION = '20260101-000000';
const TAG = '20260101-000000';

let registry: TestRegistry;
let prefix: string;
let app: string;
let host: HostEnv;
let work: string;
const images: string[] = [];

function expectSuccess(outcome: Outcome): void {
  expect({ code: outcome.code, output: explain(outcome) }).toEqual({ code: 0, output: explain(outcome) });
}

/** `text` as a regular expression that matches it literally. */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `run-docker ARGS` in `cwd`, on the test's host. */
function runIn(cwd: string, args: string[], env: Record<string, string> = host): Promise<Outcome> {
  return runShim(args, env, '', [], cwd);
}

/** TOML text of a `[tool.run-docker]` table: image (default the test's app) and run-options. */
function table(runOptions: string[] = [], extra = '', image = app): string {
  return [
    '[project]',
    'name = "app"',
    '',
    '[tool.run-docker]',
    `image = ${JSON.stringify(image)}`,
    `run-options = ${JSON.stringify(runOptions)}`,
    extra,
    '',
  ].join('\n');
}

/** A fresh project folder (a git repository on `main`) with this pyproject.toml, and a subfolder `tests`. */
async function makeProject(pyproject: string, name = 'app'): Promise<string> {
  const dir = await mkdtemp(join(work, `${name}-`));
  // Readable by the container's user (docker-user, not the host's root who made it).
  await chmod(dir, 0o755);
  await mkdir(join(dir, 'tests'));
  await writeFile(join(dir, 'pyproject.toml'), pyproject);
  await runCommand('git', ['init', '--quiet', '--initial-branch=main', dir], { check: true });
  return dir;
}

/** What a container prints for `sh -c SCRIPT` started as `run-docker [OPTIONS] IMAGE`. */
const SHOW =
  'echo "pwd=$(pwd) image=$IMAGE_NAME:$IMAGE_VERSION who=${WHO-unset} keep=${KEEP-unset}"; ls "$HOME/src" 2>/dev/null | tr "\\n" " "';

beforeAll(async () => {
  registry = await startRegistry();
  prefix = `${registry.address}/project-${process.pid}`;
  const tiny = await publish('tiny', `${prefix}/tiny`);
  await publish('mini', `${prefix}/mini`, ['--version', MINI_VERSION]);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`, `${prefix}/mini:${MINI_VERSION}`);
  app = `${prefix}/app`;
  for (const reference of [`${app}:${TAG}`, `${app}-main:${TAG}`, `${app}-feature-login:${TAG}`]) {
    await buildBusyboxImage(reference);
    await pushImage(reference);
    images.push(reference);
  }
  host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${prefix}/mini` });
  // Projects live outside ~/work/src/<name>: "." maps the project's own folder.
  work = await mkdtemp(join(tmpdir(), 'run-docker-projects-'));
  await chmod(work, 0o755);
});

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
  await rm(work, { recursive: true, force: true });
});

describe('"." is this project', () => {
  test('"." runs the newest dev image with the project folder as the live source, from any subfolder', async () => {
    const project = await makeProject(table());
    const outcome = await runIn(join(project, 'tests'), ['.', 'sh', '-c', SHOW]);
    expectSuccess(outcome);
    expect(outcome.stdout).toBe(
      `pwd=/home/docker-user/src image=${app}:${TAG} who=unset keep=unset\npyproject.toml tests `,
    );
  });

  test('".prod" runs the prod image of the current branch, nothing mapped; ".:TAG" and ".prod:TAG" pin a version', async () => {
    const project = await makeProject(table());
    const prod = await runIn(project, ['.prod', 'sh', '-c', SHOW]);
    expectSuccess(prod);
    expect(prod.stdout).toBe(`pwd=/home/docker-user image=${app}-main:${TAG} who=unset keep=unset\n`);
    await runCommand('git', ['-C', project, 'checkout', '--quiet', '-b', 'Feature/Login'], { check: true });
    const branch = await runIn(project, ['.prod:20260101-000000', 'sh', '-c', SHOW]);
    expectSuccess(branch);
    expect(branch.stdout).toContain(`image=${app}-feature-login:${TAG} `);
    const pinned = await runIn(project, ['--dry-run', `.:${TAG}`, 'true']);
    expectSuccess(pinned);
    expect(pinned.stdout).toContain(` ${app}:${TAG}@sha256:`);
  });

  test('without a project file, "." is one line saying where it looked; other spellings are refused', async () => {
    const empty = await mkdtemp(join(work, 'empty-'));
    expect(expectOneLineFailure(await runIn(empty, ['.', 'true']))).toContain(
      `no pyproject.toml with a [tool.run-docker] image in "${empty}" or any folder above it`,
    );
    // A pyproject.toml without the table is passed over on the way up.
    const project = await makeProject(table());
    const inner = join(project, 'tests');
    await writeFile(join(inner, 'pyproject.toml'), '[project]\nname = "inner"\n');
    const outcome = await runIn(inner, ['--dry-run', '.', 'true']);
    expectSuccess(outcome);
    expect(outcome.stdout).toContain(`# project file: ${project}/pyproject.toml`);
    expect(expectOneLineFailure(await runIn(project, ['.dev', 'true']))).toContain('"." stands for this project');
  });
});

describe('precedence and visibility', () => {
  test("the command line's options win over the file's; --dry-run shows which came from the file", async () => {
    const project = await makeProject(
      table([
        '-e',
        'WHO=file',
        '-e',
        'KEEP=file',
        '-w',
        '/tmp',
        '--memory',
        '64m',
        '--name',
        `from-file-${process.pid}`,
      ]),
    );
    const outcome = await runIn(project, [
      '-e',
      'WHO=command-line',
      '-w',
      '/',
      '--memory',
      '96m',
      '.',
      'sh',
      '-c',
      SHOW,
    ]);
    expectSuccess(outcome);
    expect(outcome.stdout).toMatch(/^pwd=\/ image=\S+ who=command-line keep=file\n/);

    const dry = await runIn(project, ['--dry-run', '-e', 'WHO=command-line', '--memory', '96m', '.', 'true']);
    expectSuccess(dry);
    const [file, options, command] = dry.stdout.split('\n');
    expect(file).toBe(`# project file: ${project}/pyproject.toml ([tool.run-docker] image ${app})`);
    expect(options).toBe(
      `# from the project file: -e WHO=file -e KEEP=file -w /tmp --memory 64m --name from-file-${process.pid}`,
    );
    expect(command).toContain(` --name from-file-${process.pid} `);
    expect(command).toContain(' --memory 96m ');
    expect(command).toContain(' --env WHO=file --env KEEP=file --workdir /tmp --env WHO=command-line ');
    expect(command).toMatch(new RegExp(` ${app}:${TAG}@sha256:[0-9a-f]{64} true$`));
  });

  test('--show-config names the project file "." stands for, from a subfolder, without the engine', async () => {
    const project = await makeProject(table([]));
    const row = (outcome: Outcome) => outcome.stdout.split('\n').find((line) => line.startsWith('project file'));
    // The shim answers alone: an engine that is not there does not matter.
    const noEngine = { ...host, DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    const shown = await runIn(join(project, 'tests'), ['--show-config'], noEngine);
    expect({ code: shown.code, stderr: shown.stderr }).toEqual({ code: 0, stderr: '' });
    expect(row(shown)).toMatch(
      new RegExp(
        `^project file +${escapeRegExp(join(project, 'pyproject.toml'))} +\\(for "\\.": the nearest pyproject\\.toml with \\[tool\\.run-docker\\], from the current folder up\\)$`,
      ),
    );
    expect(row(await runIn(work, ['--show-config'], noEngine))).toMatch(/^project file +none +\(/);
  });

  test("relative host paths in the file are the project's, wherever the call is made", async () => {
    const project = await makeProject(table(['-v', './data:/data', '--env-file', 'dev.env']));
    await mkdir(join(project, 'data'));
    await writeFile(join(project, 'data', 'marker'), 'in the project\n');
    await writeFile(join(project, 'dev.env'), 'FROM_ENV_FILE=yes\n');
    const outcome = await runIn(join(project, 'tests'), ['.', 'sh', '-c', 'cat /data/marker; echo "$FROM_ENV_FILE"']);
    expectSuccess(outcome);
    expect(outcome.stdout).toBe('in the project\nyes\n');
  });
});

describe('a cloned repository is not trusted', () => {
  /** Each widening option as a project file may spell it, and what --dry-run then passes on to docker. */
  const WIDENING: [string[], string][] = [
    [['--privileged'], '--privileged'],
    [['--privileged=true'], '--privileged=true'],
    [['--cap-add=ALL'], '--cap-add ALL'],
    [['--device', '/dev/null'], '--device /dev/null'],
    [['--security-opt', 'seccomp=unconfined'], '--security-opt seccomp=unconfined'],
    [['--network=host'], '--network host'],
    [['--net', 'host'], '--network host'],
    [['--pid=host'], '--pid host'],
    [['--ipc=host'], '--ipc host'],
    [['--uts=host'], '--uts host'],
    [['--userns=host'], '--userns host'],
    [['--cgroupns=host'], '--cgroupns host'],
    [['--group-add', '0'], '--group-add 0'],
    [['--root'], '--user 0:0'],
    [['-v', '/etc:/host-etc:ro'], '--volume /etc:/host-etc:ro'],
    [['--volume=../outside:/x'], '--volume ../outside:/x'],
    [['--mount', 'type=bind,source=./link-to-etc,target=/x'], '/link-to-etc,target=/x'],
    [['--env-file', 'env-link'], '/env-link'],
    [['-p', '8000:8000'], '--publish 8000:8000'],
    [['--hostdatadir', '/etc'], 'source=/etc,'],
  ];

  test.each(WIDENING)('%j: refused in one line naming it and the file, then allowed', async (runOptions, passedOn) => {
    const project = await makeProject(table(runOptions));
    execFileSync('ln', ['-s', '/etc', join(project, 'link-to-etc')]);
    execFileSync('ln', ['-s', '/etc/hostname', join(project, 'env-link')]);
    const before = await listOwnContainers();
    const refused = expectOneLineFailure(await runIn(project, ['--dry-run', '.', 'true']));
    expect(refused).toContain(`in run-options of [tool.run-docker] in "${project}/pyproject.toml" widens what`);
    expect(refused).toContain(`run-docker --allow-project "${project}"`);
    expect(await listOwnContainers()).toEqual(before);

    const allowed = await runIn(project, ['--allow-project', '.']);
    expectSuccess(allowed);
    expect(allowed.stdout).toMatch(/^run-docker: allowed on this host: /);
    const dry = await runIn(project, ['--dry-run', '.', 'true']);
    expectSuccess(dry);
    expect(dry.stdout).toContain(passedOn);
  });

  test('an allowed option takes effect in a real run', async () => {
    const project = await makeProject(table(['-v', '/etc:/host-etc:ro']));
    expectOneLineFailure(await runIn(project, ['.', 'cat', '/host-etc/hostname']));
    expectSuccess(await runIn(project, ['--allow-project', project]));
    const outcome = await runIn(project, ['.', 'cat', '/host-etc/hostname']);
    expectSuccess(outcome);
    expect(outcome.stdout.trim()).not.toBe('');
  });

  test('options that keep the container narrow need no allowance', async () => {
    const project = await makeProject(
      table(['-p', '127.0.0.1:8000:8000', '-e', 'A=1', '-v', 'cache-volume:/c', '-v', '.:/src2', '--cap-drop=ALL']),
    );
    expectSuccess(await runIn(project, ['--dry-run', '.', 'true']));
  });

  test('a changed table asks again; a change elsewhere in the file does not; another folder is another project', async () => {
    const project = await makeProject(table(['--cap-add', 'NET_ADMIN']));
    expectSuccess(await runIn(project, ['--allow-project', '.']));
    expectSuccess(await runIn(project, ['--dry-run', '.', 'true']));

    await writeFile(
      join(project, 'pyproject.toml'),
      `# a comment\n${table(['--cap-add', 'NET_ADMIN'])}[tool.other]\nx = 1\n`,
    );
    expectSuccess(await runIn(project, ['--dry-run', '.', 'true']));

    await writeFile(join(project, 'pyproject.toml'), table(['--cap-add', 'NET_ADMIN', '--cap-add', 'SYS_ADMIN']));
    expect(expectOneLineFailure(await runIn(project, ['--dry-run', '.', 'true']))).toContain('"--cap-add NET_ADMIN"');

    const copy = `${project}-copy`;
    await cp(project, copy, { recursive: true });
    expectSuccess(await runIn(project, ['--allow-project', '.']));
    expectSuccess(await runIn(project, ['--dry-run', '.', 'true']));
    expectOneLineFailure(await runIn(copy, ['--dry-run', '.', 'true']));
  });

  test('the allowance lives in the state folder, private; one that others can change counts for nothing', async () => {
    const project = await makeProject(table(['--privileged']));
    expectSuccess(await runIn(project, ['--allow-project', '.']));
    const record = join(host.HOME, '.local', 'state', 'run-docker', 'allowed-projects.json');
    expect(execFileSync('stat', ['-c', '%a', record], { encoding: 'utf8' }).trim()).toBe('600');
    execFileSync('chmod', ['666', record]);
    try {
      expectOneLineFailure(await runIn(project, ['--dry-run', '.', 'true']));
    } finally {
      execFileSync('chmod', ['600', record]);
    }
    expectSuccess(await runIn(project, ['--dry-run', '.', 'true']));
  });
});

describe('bad project files: one line, exit 125', () => {
  test.each([
    [
      'TOML that is not valid',
      '[tool.run-docker]\nimage = "x"\nimage = "y"\n',
      /"\S+pyproject\.toml" is not valid TOML \(line 3, column \d+: /,
    ],
    [
      'an unknown key',
      `${table([], '', 'team/app')}bogus = 1\n`,
      /unknown key "bogus" in \[tool.run-docker\] of "\S+pyproject\.toml"/,
    ],
    [
      'run-options of the wrong type',
      '[tool.run-docker]\nimage = "team/app"\nrun-options = "-p 80"\n',
      /"run-options" in \[tool.run-docker\] of "\S+" must be an array of strings/,
    ],
    [
      'an unknown option',
      table(['--bogus'], '', 'team/app'),
      /unknown option "--bogus" in run-options of \[tool.run-docker\] in "\S+"/,
    ],
    [
      'an image among the options',
      table(['-p', '127.0.0.1:80:80', 'team/app'], '', 'team/app'),
      /"team\/app" in run-options of \[tool.run-docker\] in "\S+" is not an option/,
    ],
    ['an option about one call', table(['--local'], '', 'team/app'), /"--local" cannot be set in run-options/],
  ])('%s', async (_what, text, expected) => {
    const project = await makeProject(text);
    expect(expectOneLineFailure(await runIn(project, ['.', 'true']))).toMatch(expected);
  });

  test('a huge file and a FIFO are refused without reading them', async () => {
    const huge = await makeProject(`${table()}# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    expect(expectOneLineFailure(await runIn(huge, ['.', 'true']))).toContain('is larger than 1048576 bytes');
    const fifo = await mkdtemp(join(work, 'fifo-'));
    execFileSync('mkfifo', [join(fifo, 'pyproject.toml')]);
    expect(expectOneLineFailure(await runIn(fifo, ['.', 'true']))).toContain(
      `the project file "${fifo}/pyproject.toml" is not used: it is not a regular file (a FIFO)`,
    );
  });

  test('a pyproject.toml in a parent folder that another user owns is not used', async () => {
    const parent = await mkdtemp(join(work, 'shared-'));
    await writeFile(join(parent, 'pyproject.toml'), table(['--privileged']));
    await chown(join(parent, 'pyproject.toml'), 4321, 4321);
    const child = join(parent, 'checkout');
    await mkdir(child);
    expect(expectOneLineFailure(await runIn(child, ['.', 'true']))).toContain(
      `the project file "${parent}/pyproject.toml" is not used: it can be changed by uid 4321, its owner`,
    );
  });

  test('requires-mini newer than the mini that runs: one line naming both', async () => {
    const project = await makeProject(table([], 'requires-mini = "20300101-000000"'));
    expect(expectOneLineFailure(await runIn(project, ['.', 'true']))).toContain(
      `the project "${project}/pyproject.toml" requires mini 20300101-000000 or newer, and this call runs mini ${MINI_VERSION} (`,
    );
    await writeFile(join(project, 'pyproject.toml'), table([], `requires-mini = "${MINI_VERSION}"`));
    expectSuccess(await runIn(project, ['.', 'true']));
  });
});

describe('digests in sight', () => {
  test('--dry-run shows REPO:TAG@sha256:…, and REPO:TAG@sha256:… runs', async () => {
    const dry = await runShim(['--dry-run', app, 'true'], host);
    expectSuccess(dry);
    const reference = new RegExp(` (${app}:${TAG}@sha256:[0-9a-f]{64}) true\\n$`).exec(dry.stdout)?.[1];
    expect(reference).toBeDefined();
    const run = await runShim([reference!, 'sh', '-c', 'echo "$IMAGE_VERSION"'], host);
    expectSuccess(run);
    expect(run.stdout).toBe(`${TAG}\n`);
  });

  test('a date-time tag pushed again warns once', async () => {
    const reference = `${prefix}/repushed:${TAG}`;
    images.push(reference);
    await buildBusyboxImage(reference, { files: { '/version': '1\n' } });
    await pushImage(reference);
    const first = await runShim([reference, 'cat', '/version'], host);
    expectSuccess(first);
    expect(stderrLines(first)).toEqual([]);

    const firstId = (
      await docker(['image', 'inspect', '--format', '{{.Id}}', reference], { check: true })
    ).stdout.trim();
    images.push(firstId);
    await buildBusyboxImage(reference, { files: { '/version': '2\n' } });
    await pushImage(reference);
    const again = await runShim([reference, 'cat', '/version'], host);
    expectSuccess(again);
    expect(again.stdout).toBe('2\n');
    expect(stderrLines(again)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^run-docker: warning: the tag "${reference}" now stands for sha256:\\w+, not sha256:\\w+ as when this host last ran it: it was pushed again$`,
        ),
      ),
    ]);
    const quiet = await runShim([reference, 'cat', '/version'], host);
    expectSuccess(quiet);
    expect(stderrLines(quiet)).toEqual([]);
  });
});
