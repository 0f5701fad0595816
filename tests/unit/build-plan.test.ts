import { compareTagOrder, rankTag } from '../../common/compare-tag-order';
import { formatUtcStamp } from '../../common/format-utc-stamp';
import { formatShellCommand } from '../../common/format-shell-command';
import { isUserFacingError } from '../../common/run-docker-error';
import {
  buildBuildPlan,
  buildDevBuildArgs,
  buildProdBuildArgs,
  buildProdDockerfile,
  INSTALL_SCRIPT,
  platformReference,
  type ProjectFacts,
} from '../../payload/build-docker/build-plan';
import { computeBranchComponent } from '../../payload/build-docker/compute-branch-component';
import { parseBuildInvocation, type BuildOptions } from '../../payload/build-docker/parse-build-invocation';
import { normalizeProjectName, parseProjectName } from '../../payload/build-docker/parse-project-name';
import { formatSubmoduleWarning } from '../../payload/build-docker/format-submodule-warning';
import { parseStatusFiles, parseSubmodulePaths, selectSourceUrl } from '../../payload/build-docker/read-project-facts';
import { defined } from '../helpers/defined';
import { selectNewestTag } from '../../payload/locator/select-newest-tag';

const NOW = new Date('2026-11-30T09:05:07.123Z');
const REVISION = '0123456789abcdef0123456789abcdef01234567';

function facts(overrides: Partial<ProjectFacts> = {}): ProjectFacts {
  return {
    dir: '/home/ann/work/src/hello',
    revision: REVISION,
    branch: 'main',
    dirtyFiles: [],
    source: 'https://example.com/team/hello.git',
    projectName: 'hello',
    dockerfile: { committed: true, inWorkTree: true },
    submodules: [],
    ...overrides,
  };
}

function options(overrides: Partial<BuildOptions> = {}): BuildOptions {
  return { push: false, dryRun: false, allowDirty: false, local: false, ...overrides };
}

/** The one line a refusal prints, with its exit code. */
function refusal(run: () => unknown): { line: string; exitCode: number } {
  try {
    run();
  } catch (error) {
    if (!isUserFacingError(error)) throw error;
    return { line: `${error.message}. ${error.hint}`, exitCode: error.exitCode };
  }
  throw new Error('expected a refusal');
}

describe('computeBranchComponent', () => {
  test.each([
    ['main', 'main'],
    ['Feature/Login-Page', 'feature-login-page'],
    ['release/1.2', 'release-1.2'],
    ['fix/#12 crash', 'fix-12-crash'],
    ['a__b', 'a__b'],
    ['a___b', 'a-b'],
    ['a..b', 'a-b'],
    ['a-._b', 'a-b'],
    ['-x-', 'x'],
    ['_x.', 'x'],
    ['été', 't'],
    ['dependabot/npm_and_yarn/lodash-4.17.21', 'dependabot-npm_and_yarn-lodash-4.17.21'],
  ])('%j → %j, a valid repository component', (branch, component) => {
    expect(computeBranchComponent(branch)).toBe(component);
    expect(component).toMatch(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/);
  });

  test('a branch with no letter or digit has no component', () => {
    expect(computeBranchComponent('///')).toBeUndefined();
    expect(computeBranchComponent('')).toBeUndefined();
  });
});

describe('parseProjectName', () => {
  test('reads name in [project], not in other tables', () => {
    const toml =
      '[build-system]\nname = "not-this"\nrequires = ["setuptools"]\n\n[project]\nversion = "1"\nname = "Hello_World.x"  # the name\n\n[tool.x]\nname = "nor-this"\n';
    expect(parseProjectName(toml)).toBe('Hello_World.x');
    expect(parseProjectName("[project]\nname='single'\n")).toBe('single');
    expect(parseProjectName('[tool.poetry]\nname = "poetry"\n')).toBeUndefined();
  });

  test('normalises as PEP 503 does, and refuses what cannot name an image', () => {
    expect(normalizeProjectName('Hello_World.x')).toBe('hello-world-x');
    expect(normalizeProjectName('héllo')).toBeUndefined();
  });
});

describe('parseBuildInvocation', () => {
  test('flags anywhere, --branch in both forms, one repository', () => {
    expect(parseBuildInvocation(['--push', '127.0.0.1:5000/hello', '--branch', 'main', '--allow-dirty'])).toEqual({
      kind: 'build',
      options: {
        push: true,
        dryRun: false,
        allowDirty: true,
        local: false,
        branch: 'main',
        repository: '127.0.0.1:5000/hello',
      },
    });
    expect(parseBuildInvocation(['--dry-run', '--branch=feature/x'])).toEqual({
      kind: 'build',
      options: { push: false, dryRun: true, allowDirty: false, local: false, branch: 'feature/x' },
    });
    expect(parseBuildInvocation(['-h'])).toEqual({ kind: 'help' });
    expect(parseBuildInvocation(['--version'])).toEqual({ kind: 'version' });
  });

  test('--platform names platforms as docker does, each once; several need --push', () => {
    const parsed = parseBuildInvocation(['--push', '--platform', 'linux/amd64,linux/arm64,LINUX/AMD64', 'team/app']);
    expect(parsed.kind === 'build' && parsed.options.platforms).toEqual(['linux/amd64', 'linux/arm64']);
    const one = parseBuildInvocation(['--platform=linux/arm/v7']);
    expect(one.kind === 'build' && one.options.platforms).toEqual(['linux/arm/v7']);
  });

  test('a build for several platforms: per platform its own tag and --platform (the dev build pulls its base), one index per image', () => {
    const plan = buildBuildPlan(options({ platforms: ['linux/amd64', 'linux/arm64'], push: true }), facts({}), NOW);
    const paths = { context: 'C', prodDockerfile: 'P' };
    expect(buildDevBuildArgs(plan, paths, 'linux/arm64')).toEqual(
      expect.arrayContaining(['--platform', 'linux/arm64', '--pull', '--tag', `${plan.dev}-linux-arm64`]),
    );
    expect(buildProdBuildArgs(plan, paths, 'linux/arm64')).not.toContain('--pull');
    expect(buildProdDockerfile(plan, '', platformReference(plan.dev, 'linux/arm64'))).toContain(
      `FROM ${plan.dev}-linux-arm64\n`,
    );
    // Its platforms' tags never count as the newest (docs/tags.md).
    expect(selectNewestTag([`${plan.tag}-linux-arm64`, '20200101-000000'])).toBe('20200101-000000');
    // One platform named: the usual tags, built for it.
    const one = buildBuildPlan(options({ platforms: ['linux/arm64'] }), facts({}), NOW);
    expect(buildDevBuildArgs(one, paths)).toEqual(
      expect.arrayContaining(['--platform', 'linux/arm64', '--tag', one.dev]),
    );
  });

  test('a repository named like an inherited property is a repository, not a flag', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(parseBuildInvocation([name])).toEqual({
        kind: 'build',
        options: { push: false, dryRun: false, allowDirty: false, local: false, repository: name },
      });
    }
  });

  test.each([
    [['--pussh'], 'unknown option "--pussh"'],
    [['a', 'b'], 'one repository at most, got "a", "b"'],
    [['--branch'], '--branch needs a branch name'],
    [['--branch='], '--branch needs a branch name'],
    [['--push', '--local'], '--push and --local contradict each other'],
    [
      ['--platform', 'linux/amd64,linux/arm64'],
      '--platform linux/amd64,linux/arm64 builds one image per platform, which only a registry holds under one tag',
    ],
    [['--push', '--platform=amd64'], '--platform "amd64" is not a platform'],
    [['--push', '--platform'], '--platform needs a platform'],
  ])('%j is refused: %s', (argv, message) => {
    const { line, exitCode } = refusal(() => parseBuildInvocation(argv));
    expect(line.startsWith(message)).toBe(true);
    expect(exitCode).toBe(125);
  });
});

describe('buildBuildPlan', () => {
  test('names both images after the repository and the branch, with one UTC tag and the labels', () => {
    const plan = buildBuildPlan(
      options({ repository: '127.0.0.1:5000/team/hello' }),
      facts({ branch: 'Feature/Login' }),
      NOW,
    );
    expect(plan).toEqual({
      tag: '20261130-090507',
      dev: '127.0.0.1:5000/team/hello:20261130-090507',
      prod: '127.0.0.1:5000/team/hello-feature-login:20261130-090507',
      devRepository: '127.0.0.1:5000/team/hello',
      prodRepository: '127.0.0.1:5000/team/hello-feature-login',
      branch: 'Feature/Login',
      labels: [
        ['org.opencontainers.image.created', '2026-11-30T09:05:07Z'],
        ['org.opencontainers.image.revision', REVISION],
        ['org.opencontainers.image.source', 'https://example.com/team/hello.git'],
        ['org.opencontainers.image.version', '20261130-090507'],
        ['org.run-docker.branch', 'Feature/Login'],
      ],
      platforms: [],
    });
  });

  test('the repository defaults to the project name; --branch wins over the checked-out branch; no origin, no source label', () => {
    const plan = buildBuildPlan(
      options({ branch: 'release/2.0' }),
      facts({ projectName: 'Hello_App', source: undefined }),
      NOW,
    );
    expect([plan.dev, plan.prod]).toEqual(['hello-app:20261130-090507', 'hello-app-release-2.0:20261130-090507']);
    expect(plan.labels.map(([key]) => key)).not.toContain('org.opencontainers.image.source');
  });

  test("the project file's image is the default repository, over the project name; a repository given wins over both", () => {
    const fromFile = buildBuildPlan(options(), facts({ image: '127.0.0.1:5000/team/hello' }), NOW);
    expect([fromFile.dev, fromFile.prod]).toEqual([
      '127.0.0.1:5000/team/hello:20261130-090507',
      '127.0.0.1:5000/team/hello-main:20261130-090507',
    ]);
    const given = buildBuildPlan(options({ repository: 'reg.example/x' }), facts({ image: 'team/hello' }), NOW);
    expect(given.devRepository).toBe('reg.example/x');
  });

  test('the tag is a date-time tag that run-docker orders after an earlier build', () => {
    const plan = buildBuildPlan(options(), facts(), NOW);
    const later = buildBuildPlan(options(), facts(), new Date(NOW.getTime() + 1000));
    expect(rankTag(plan.tag)?.rank).toBe(0);
    expect(compareTagOrder(later.tag, plan.tag)).toBeGreaterThan(0);
    expect(formatUtcStamp(new Date('2027-01-02T03:04:05Z'))).toBe('20270102-030405');
  });

  test.each<[string, Partial<BuildOptions>, Partial<ProjectFacts>, string]>([
    [
      'no docker/Dockerfile',
      {},
      { dockerfile: { committed: false, inWorkTree: false } },
      'the project "/home/ann/work/src/hello" has no "docker/Dockerfile"',
    ],
    [
      'an uncommitted docker/Dockerfile',
      {},
      { dockerfile: { committed: false, inWorkTree: true } },
      '"docker/Dockerfile" in "/home/ann/work/src/hello" is not committed',
    ],
    [
      'a detached HEAD',
      {},
      { branch: undefined },
      'HEAD is detached in "/home/ann/work/src/hello", and the prod image is named after a branch. Check out a branch, or name one with --branch NAME',
    ],
    ['a branch with nothing to name', { branch: '--' }, {}, 'the branch "--" has no letter or digit'],
    [
      'a repository with a tag',
      { repository: 'team/hello:1.0' },
      {},
      'the repository "team/hello:1.0" has a tag or digest',
    ],
    [
      'a repository in upper case',
      { repository: 'Team/Hello' },
      {},
      'the repository "Team/Hello" is not a valid image reference (repository names must be lower-case)',
    ],
    [
      'no repository and no project name',
      {},
      { projectName: undefined },
      'no repository given, and "/home/ann/work/src/hello/pyproject.toml" names no project',
    ],
    [
      'a dirty tree',
      {},
      { dirtyFiles: ['src/hello/core.py', 'a', 'b', 'c', 'd', 'new file.py'] },
      'the working tree of "/home/ann/work/src/hello" has uncommitted changes ("src/hello/core.py", "a", "b", "c", "d" and 1 more)',
    ],
  ])('%s is refused in one line, exit 125', (_, given, project, message) => {
    const { line, exitCode } = refusal(() => buildBuildPlan(options(given), facts(project), NOW));
    expect(line.startsWith(message)).toBe(true);
    expect(line).not.toContain('\n');
    expect(exitCode).toBe(125);
  });

  test('--allow-dirty builds a dirty tree (from its last commit)', () => {
    expect(buildBuildPlan(options({ allowDirty: true }), facts({ dirtyFiles: ['x'] }), NOW).dev).toBe(
      'hello:20261130-090507',
    );
  });
});

describe('docker commands', () => {
  const plan = buildBuildPlan(options({ repository: '127.0.0.1:5000/hello' }), facts(), NOW);
  const paths = { context: '/tmp/w x/context', prodDockerfile: '/tmp/w x/prod.Dockerfile' };

  test('the dev image is docker/Dockerfile of the exported tree, the prod image the generated Dockerfile, both labelled', () => {
    const labels = plan.labels.flatMap(([key, value]) => ['--label', `${key}=${value}`]);
    expect(buildDevBuildArgs(plan, paths)).toEqual([
      'build',
      '--force-rm',
      '--file',
      '/tmp/w x/context/docker/Dockerfile',
      ...labels,
      '--tag',
      plan.dev,
      '/tmp/w x/context',
    ]);
    expect(buildProdBuildArgs(plan, paths)).toEqual([
      'build',
      '--force-rm',
      '--file',
      '/tmp/w x/prod.Dockerfile',
      ...labels,
      '--tag',
      plan.prod,
      '/tmp/w x/context',
    ]);
    expect(formatShellCommand(['docker', ...buildDevBuildArgs(plan, paths)])).toContain(
      "--file '/tmp/w x/context/docker/Dockerfile'",
    );
  });

  test("the prod Dockerfile starts from this build's dev image, installs as root, and restores the dev image's user", () => {
    const dockerfile = buildProdDockerfile(plan, 'docker-user');
    const lines = dockerfile.split('\n');
    expect(lines.slice(1, 4)).toEqual([`FROM ${plan.dev}`, 'USER root', 'COPY . /tmp/build-docker/src/']);
    expect(JSON.parse(defined(lines[4], 'a RUN line').slice('RUN '.length))).toEqual([
      'python3',
      '-c',
      INSTALL_SCRIPT,
      '/tmp/build-docker/src',
    ]);
    expect(lines[5]).toBe('USER docker-user');
    expect(buildProdDockerfile(plan, '')).not.toContain('USER docker-user');
  });
});

describe('reading git', () => {
  test('git status -z: every changed, staged, renamed and untracked file once', () => {
    expect(parseStatusFiles(' M src/a.py\0A  b.py\0R  new.py\0old.py\0?? with space.txt\0')).toEqual([
      'src/a.py',
      'b.py',
      'new.py',
      'with space.txt',
    ]);
    expect(parseStatusFiles('')).toEqual([]);
  });

  test('a remote URL keeps only scheme, host, port and path before it becomes a label', () => {
    expect(selectSourceUrl('https://ann:s3cret@example.com/team/hello.git')).toBe('https://example.com/team/hello.git');
    expect(selectSourceUrl('https://example.com:8443/team/hello.git?private_token=s3cret#main')).toBe(
      'https://example.com:8443/team/hello.git',
    );
    expect(selectSourceUrl('ssh://git@example.com:2222/team/hello.git')).toBe('ssh://example.com:2222/team/hello.git');
    expect(selectSourceUrl('https://example.com/team/hello.git')).toBe('https://example.com/team/hello.git');
    expect(selectSourceUrl('git@example.com:team/hello.git')).toBe('git@example.com:team/hello.git');
  });

  test('submodules are read from the committed tree and named in one line', () => {
    const tree = [
      '100644 blob 0123456789abcdef0123456789abcdef01234567\tpyproject.toml',
      '160000 commit 89abcdef0123456789abcdef0123456789abcdef\tvendor/lib one',
      '040000 tree 0123456789abcdef0123456789abcdef01234567\tsrc',
      '160000 commit 0123456789abcdef0123456789abcdef01234567\tthird_party/x',
      '',
    ].join('\0');
    expect(parseSubmodulePaths(tree)).toEqual(['vendor/lib one', 'third_party/x']);
    expect(formatSubmoduleWarning(['vendor/lib'])).toMatch(/^the submodule "vendor\/lib" is not in the images: /);
    expect(formatSubmoduleWarning(['a', 'b'])).toMatch(/^the submodules "a", "b" are not in the images: /);
  });
});
