/**
 * build-docker on the real engine and registry, as a team uses it: one teammate builds and
 * pushes the example project (examples/python-project, a git repository here) from a mini
 * that carries the build payload; another host, with its own HOME, runs the newest images
 * without knowing a tag; a second build is picked up by the very next run. Then each kind of
 * bad input: one line, exit 125, nothing of the build left tagged.
 */
import { generateKeyPairSync, createHash, sign } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, dockerBuild, runCommand, type CommandResult } from '../helpers/fixtures';
import { ensurePythonBaseImage, PYTHON_BASE_BUILD_TIMEOUT_MS } from '../helpers/python-base';
import { makeProjectHome, PROJECT_TEMPLATE, removeProjectHomes } from '../helpers/python-project';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { signedPayloadText } from '../../contract/contract';
import { defined } from '../helpers/defined';
import {
  explain,
  makeHost,
  PACKAGE_VERSION,
  publish,
  removeHosts,
  ROOT,
  runShim,
  SHIM_BUNDLE,
  stderrLines,
  type HostEnv,
  type Outcome,
} from '../helpers/shim';

const BUILD_TAG = /^\d{8}-\d{6}$/;

let registry: TestRegistry;
let prefix: string;
let work: string;
/** `build-docker`: a link to the shim bundle, which picks the build payload by that name. */
let buildDocker: string;
/** The builder's host: tiny and mini from the registry. */
let builderEnv: HostEnv & { RUN_DOCKER_TINY: string; RUN_DOCKER_MINI: string };
/** A host with nothing configured: the payload built into the shim runs. */
let bareEnv: HostEnv;
const images: string[] = [];
const registries: TestRegistry[] = [];

/** Git needs to know who commits; nothing of the machine's git config is read. */
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Ann',
  GIT_AUTHOR_EMAIL: 'ann@example.com',
  GIT_COMMITTER_NAME: 'Ann',
  GIT_COMMITTER_EMAIL: 'ann@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

function outcomeOf(result: CommandResult): Outcome {
  return { code: result.code, signal: null, stdout: result.stdout, stderr: result.stderr };
}

async function runBuildDocker(args: string[], cwd: string, env: Record<string, string>): Promise<Outcome> {
  return outcomeOf(await runCommand(process.execPath, [buildDocker, ...args], { cwd, env: { ...env, ...GIT_ENV } }));
}

async function git(args: string[], cwd: string): Promise<string> {
  return (await runCommand('git', args, { cwd, env: GIT_ENV, check: true })).stdout.trim();
}

function expectSuccess(outcome: Outcome): void {
  expect({ code: outcome.code, output: explain(outcome) }).toEqual({ code: 0, output: explain(outcome) });
}

/**
 * A failure of build-docker: exit 125 and its own line last on stderr, with no stack. A build
 * or push that fails shows docker's own output above that line (progress is docker's); any
 * other refusal is that one line alone.
 */
function expectRefusal(outcome: Outcome, dockerOutputAbove = false): string {
  const lines = outcome.stderr.split('\n').filter((line) => line.trim() !== '');
  expect({ code: outcome.code, why: explain(outcome) }).toEqual({ code: 125, why: explain(outcome) });
  if (!dockerOutputAbove)
    expect({ lines: lines.length, why: explain(outcome) }).toEqual({ lines: 1, why: explain(outcome) });
  expect(outcome.stdout).toBe('');
  expect(outcome.stderr).not.toMatch(/\n\s+at /);
  const line = defined(lines.at(-1), 'a line on stderr');
  expect(line).toMatch(/^run-docker: /);
  return line;
}

/** Tags of REPOSITORY on this engine. */
async function localTags(repository: string): Promise<string[]> {
  const listed = (await docker(['image', 'ls', '--format', '{{.Tag}}', repository], { check: true })).stdout;
  return listed.split('\n').filter((tag) => tag !== '');
}

/** A git repository with the example project committed on `main`, and an origin with credentials in its URL and query. */
async function makeProjectRepository(name: string): Promise<string> {
  const dir = join(work, name);
  await cp(PROJECT_TEMPLATE, dir, {
    recursive: true,
    filter: (source) => !/(__pycache__|\.pytest_cache)$/.test(source),
  });
  await git(['init', '--quiet', '--initial-branch=main'], dir);
  await git(
    ['remote', 'add', 'origin', 'https://ann:s3cret@example.com:8443/team/hello.git?private_token=s3cret#main'],
    dir,
  );
  await git(['add', '--all'], dir);
  await git(['commit', '--quiet', '--message', 'The example project'], dir);
  return dir;
}

async function labelsOf(reference: string): Promise<Record<string, string>> {
  return JSON.parse(
    (await docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', reference], { check: true })).stdout,
  ) as Record<string, string>;
}

beforeAll(async () => {
  registry = await startRegistry();
  prefix = `${registry.address}/build-docker-${process.pid}`;
  const tiny = await publish('tiny', `${prefix}/tiny`);
  const mini = await publish('mini', `${prefix}/mini`, ['--version', '20260101-000000']);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`, `${prefix}/mini:20260101-000000`);
  expect(mini).toMatch(/@sha256:/);
  await ensurePythonBaseImage();

  work = await mkdtemp(join(tmpdir(), 'build-docker-test-'));
  await mkdir(join(work, 'bin'));
  buildDocker = join(work, 'bin', 'build-docker');
  await symlink(SHIM_BUNDLE, buildDocker);
  // The legacy builder, as every fixture here (no buildx on CI).
  const builder = { RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${prefix}/mini`, DOCKER_BUILDKIT: '0' };
  builderEnv = { ...(await makeHost(builder)), ...builder };
  bareEnv = await makeHost({ DOCKER_BUILDKIT: '0' });
}, PYTHON_BASE_BUILD_TIMEOUT_MS);

afterAll(async () => {
  const built = (
    await Promise.all(
      ['hello', 'hello-main', 'dirty', 'dirty-main', 'broken', 'broken-main', 'refused', 'refused-main'].map(
        async (name) => (await localTags(`${prefix}/${name}`)).map((tag) => `${prefix}/${name}:${tag}`),
      ),
    )
  ).flat();
  await docker(['image', 'rm', '--force', ...images, ...built]);
  await Promise.all([registry, ...registries].map((each) => each?.remove()));
  await removeHosts();
  await removeProjectHomes();
  if (work) await rm(work, { recursive: true, force: true });
});

test('one teammate builds and pushes; another host runs the dev image on live source and the prod image as installed; the next build is the next run', async () => {
  const project = await makeProjectRepository('hello');
  const revision = await git(['rev-parse', 'HEAD'], project);

  const first = await runBuildDocker(['--push', `${prefix}/hello`], project, builderEnv);
  expectSuccess(first);
  // Docker's own progress, on stderr; stdout holds the two digests only, last.
  expect(first.stderr).toMatch(/Successfully tagged/);
  const digests = first.stdout.trim().split('\n');
  expect(digests).toEqual([
    expect.stringMatching(new RegExp(`^${prefix}/hello@sha256:[0-9a-f]{64}$`)),
    expect.stringMatching(new RegExp(`^${prefix}/hello-main@sha256:[0-9a-f]{64}$`)),
  ]);
  const tag = defined((await localTags(`${prefix}/hello`))[0], `a tag of ${prefix}/hello`);
  expect(tag).toMatch(BUILD_TAG);
  expect(await localTags(`${prefix}/hello-main`)).toEqual([tag]);
  for (const image of [`${prefix}/hello:${tag}`, `${prefix}/hello-main:${tag}`]) {
    const labels = await labelsOf(image);
    expect(labels).toMatchObject({
      'org.opencontainers.image.revision': revision,
      'org.opencontainers.image.source': 'https://example.com:8443/team/hello.git',
      'org.opencontainers.image.version': tag,
      'org.run-docker.branch': 'main',
    });
    const created = defined(labels['org.opencontainers.image.created'], 'the label org.opencontainers.image.created');
    expect(created.replace(/[-:]/g, '').replace('T', '-').replace('Z', '')).toBe(tag);
  }

  // The other host: the images come from the registry, and it never names a tag.
  await docker(['image', 'rm', `${prefix}/hello:${tag}`, `${prefix}/hello-main:${tag}`], { check: true });
  const teammate = await makeProjectHome();
  const env = {
    ...(await makeHost({ RUN_DOCKER_TINY: builderEnv.RUN_DOCKER_TINY, RUN_DOCKER_MINI: builderEnv.RUN_DOCKER_MINI })),
    HOME: teammate.home,
    XDG_CONFIG_HOME: join(teammate.home, '.config'),
    XDG_CACHE_HOME: join(teammate.home, '.cache'),
  };
  const tests = await runShim([`${prefix}/hello`, 'py.test', 'tests'], env);
  expectSuccess(tests);
  expect(tests.stdout).toMatch(/=+ 2 passed in /);
  const installed = await runShim([`${prefix}/hello-main`, 'python', '-m', 'hello'], env);
  expectSuccess(installed);
  expect(installed.stdout).toBe('hello says: Hello, world!\n');

  // A change, committed, built and pushed again (a second or more later: build-docker waits
  // when it would fall in the same second, so the tags never tie).
  await writeFile(
    join(project, 'src', 'hello', 'core.py'),
    'def greeting(name: str = "world") -> str:\n    return f"Good evening, {name}!"\n',
  );
  await git(['commit', '--quiet', '--all', '--message', 'Evening'], project);
  const second = await runBuildDocker(['--push', `${prefix}/hello`], project, builderEnv);
  expectSuccess(second);
  const secondTag = (await localTags(`${prefix}/hello`)).find((each) => each !== tag);
  expect(defined(secondTag, 'a second tag') > tag).toBe(true);

  const next = await runShim([`${prefix}/hello-main`, 'python', '-m', 'hello'], env);
  expectSuccess(next);
  expect(next.stdout).toBe('hello says: Good evening, world!\n');
  const dev = await runShim(['--dry-run', `${prefix}/hello`, 'py.test'], env);
  expectSuccess(dev);
  // The tag with the digest it was pushed as: what was resolved is exactly what runs.
  expect(dev.stdout).toMatch(new RegExp(` ${prefix}/hello:${secondTag}@sha256:[0-9a-f]{64} py\\.test`));
}, 600_000);

test('a dirty tree is refused with the files named; --allow-dirty builds the last commit, never the uncommitted change', async () => {
  const project = await makeProjectRepository('dirty');
  await writeFile(
    join(project, 'src', 'hello', 'core.py'),
    'def greeting(name: str = "world") -> str:\n    return "UNCOMMITTED"\n',
  );
  await writeFile(join(project, 'notes.txt'), 'not added\n');

  const refused = expectRefusal(await runBuildDocker([`${prefix}/dirty`], project, bareEnv));
  expect(refused).toBe(
    `run-docker: the working tree of "${project}" has uncommitted changes ("src/hello/core.py", "notes.txt"), and the images are built from the last commit only. Commit or stash them, or pass --allow-dirty to build the last commit anyway.`,
  );
  expect(await localTags(`${prefix}/dirty`)).toEqual([]);

  const built = await runBuildDocker(['--allow-dirty', `${prefix}/dirty`], project, bareEnv);
  expectSuccess(built);
  const [dev = '', prod = ''] = built.stdout.trim().split('\n');
  expect(dev).toMatch(new RegExp(`^${prefix}/dirty:\\d{8}-\\d{6}$`));
  expect(prod).toBe(dev.replace('/dirty:', '/dirty-main:'));
  const ran = await docker(['run', '--rm', prod, 'python', '-m', 'hello'], { check: true });
  expect(ran.stdout).toBe('hello says: Hello, world!\n');
  // --dry-run prints the commands and builds nothing.
  const dry = await runBuildDocker(['--dry-run', '--allow-dirty', `${prefix}/dirty`], project, bareEnv);
  expectSuccess(dry);
  expect(dry.stdout).toMatch(
    new RegExp(
      `^docker build --force-rm --file WORK/context/docker/Dockerfile .* --tag ${prefix}/dirty:\\d{8}-\\d{6} WORK/context$`,
      'm',
    ),
  );
  expect(await localTags(`${prefix}/dirty`)).toEqual([dev.split(':').pop()]);
}, 300_000);

test("the project file's image is the default repository, as committed; a repository given wins", async () => {
  const project = await makeProjectRepository('from-file');
  const pyproject = join(project, 'pyproject.toml');
  const text = await readFile(pyproject, 'utf8');
  await writeFile(pyproject, text.replace(/^image = .*$/m, `image = "${prefix}/from-file"`));
  await git(['commit', '--quiet', '--all', '--message', 'Our registry'], project);
  // An uncommitted change of the image is not what gets built.
  await writeFile(pyproject, text.replace(/^image = .*$/m, `image = "${prefix}/uncommitted"`));
  const dry = await runBuildDocker(['--dry-run', '--allow-dirty'], project, bareEnv);
  expectSuccess(dry);
  expect(dry.stdout).toMatch(new RegExp(` --tag ${prefix}/from-file:\\d{8}-\\d{6} WORK/context$`, 'm'));
  expect(dry.stdout).toMatch(new RegExp(` --tag ${prefix}/from-file-main:\\d{8}-\\d{6} WORK/context$`, 'm'));
  const given = await runBuildDocker(['--dry-run', '--allow-dirty', `${prefix}/given`], project, bareEnv);
  expect(given.stdout).toMatch(new RegExp(` --tag ${prefix}/given:\\d{8}-\\d{6} WORK/context$`, 'm'));

  await writeFile(pyproject, `${text}bogus = 1\n`);
  await git(['commit', '--quiet', '--all', '--message', 'A typo'], project);
  expect(expectRefusal(await runBuildDocker(['--dry-run'], project, bareEnv))).toMatch(
    /^run-docker: unknown key "bogus" in \[tool.run-docker\] of "\S+pyproject\.toml \(as committed\)"/,
  );
});

test('the build payload is verified before every use: a changed cached build.js is extracted again, never run; a cache without it is filled', async () => {
  const project = await makeProjectRepository('cache');
  expectSuccess(await runBuildDocker(['--dry-run', `${prefix}/cache`], project, builderEnv));
  const payloads = join(builderEnv.XDG_CACHE_HOME, 'run-docker', 'payloads');
  const [entry] = (
    await Promise.all(
      (await readdir(payloads)).map(async (name) =>
        (await readdir(join(payloads, name))).includes('build.js') ? [name] : [],
      ),
    )
  ).flat();
  const buildFile = join(payloads, defined(entry, 'a cached payload with build.js'), 'build.js');
  const original = await readFile(buildFile, 'utf8');

  await writeFile(buildFile, 'process.stdout.write("TAMPERED\\n"); exports.main = async () => 42;');
  const tampered = await runBuildDocker(['--dry-run', `${prefix}/cache`], project, builderEnv);
  expectSuccess(tampered);
  expect(tampered.stdout).toMatch(/^# WORK: /);
  expect(tampered.stderr).toMatch(
    /^run-docker: warning: the cached payload in ".*" was rejected \(its build entry "build\.js" does not match the manifest's sha256\); extracting it again from its image\n$/,
  );
  expect(await readFile(buildFile, 'utf8')).toBe(original);

  // As a shim from before build-docker leaves the cache: no build.js. Filled again, silently.
  await unlink(buildFile);
  const refilled = await runBuildDocker(['--dry-run', `${prefix}/cache`], project, builderEnv);
  expectSuccess(refilled);
  expect(refilled.stderr).toBe('');
  expect(await readFile(buildFile, 'utf8')).toBe(original);
});

test('a committed submodule is named in one warning: git archive leaves it out of the images', async () => {
  const project = await makeProjectRepository('submodule');
  // A gitlink, as `git submodule add` commits it; git archive skips it either way.
  const commit = await git(['rev-parse', 'HEAD'], project);
  await git(['update-index', '--add', '--cacheinfo', `160000,${commit},vendor/lib`], project);
  await git(['commit', '--quiet', '--message', 'A submodule'], project);
  // Not cloned with --recursive: the submodule's folder is there, empty.
  await mkdir(join(project, 'vendor', 'lib'), { recursive: true });
  const outcome = await runBuildDocker(['--dry-run', `${prefix}/submodule`], project, bareEnv);
  expectSuccess(outcome);
  expect(stderrLines(outcome)).toEqual([
    'run-docker: warning: the submodule "vendor/lib" is not in the images: build-docker builds from "git archive" of the last commit, which leaves submodules out; install what the project needs from them in docker/Dockerfile, or commit it into the repository',
  ]);
});

describe('bad input: one line, exit 125, nothing tagged', () => {
  test('not a git repository', async () => {
    const dir = await mkdtemp(join(work, 'plain-'));
    await cp(PROJECT_TEMPLATE, dir, { recursive: true });
    expect(expectRefusal(await runBuildDocker([`${prefix}/broken`], dir, bareEnv))).toBe(
      `run-docker: "${dir}" is not in a git repository. Run build-docker in the project's repository: both images are built from its last commit (git archive).`,
    );
  });

  test('no docker/Dockerfile (committed)', async () => {
    const project = await makeProjectRepository('no-dockerfile');
    await git(['rm', '--quiet', '-r', 'docker'], project);
    await git(['commit', '--quiet', '--message', 'No Dockerfile'], project);
    expect(expectRefusal(await runBuildDocker([`${prefix}/broken`], project, bareEnv))).toMatch(
      /^run-docker: the project ".*" has no "docker\/Dockerfile"\. Add docker\/Dockerfile/,
    );
  });

  test('a detached HEAD, unless --branch names one', async () => {
    const project = await makeProjectRepository('detached');
    await git(['checkout', '--quiet', '--detach'], project);
    expect(expectRefusal(await runBuildDocker([`${prefix}/broken`], project, bareEnv))).toBe(
      `run-docker: HEAD is detached in "${project}", and the prod image is named after a branch. Check out a branch, or name one with --branch NAME (as CI does).`,
    );
    const named = await runBuildDocker(['--dry-run', '--branch', 'Release/1.0', `${prefix}/broken`], project, bareEnv);
    expectSuccess(named);
    expect(named.stdout).toMatch(
      new RegExp(
        `--label org.run-docker.branch=Release/1.0 --tag ${prefix}/broken-release-1.0:\\d{8}-\\d{6} WORK/context$`,
        'm',
      ),
    );
  });

  test('a build that fails: the dev build, and the prod build after a good dev build (whose tag goes too), leaving no container and no untagged image', async () => {
    // The legacy builder keeps the container of a failed step unless told --force-rm. Every image
    // and container of these builds carries this test's label (the dev image's LABEL, inherited by
    // the prod build): other users of the engine are not counted.
    const ownLabel = `org.run-docker.test.broken=${process.pid}`;
    const listed = async (args: string[]) =>
      (
        await docker([...args, '--all', '--quiet', '--no-trunc', '--filter', `label=${ownLabel}`], { check: true })
      ).stdout
        .split('\n')
        .filter(Boolean)
        .sort();
    const containers = () => listed(['ps']);
    const dangling = () => listed(['image', 'ls', '--filter', 'dangling=true']);
    const project = await makeProjectRepository('broken');
    const dockerfile = join(project, 'docker', 'Dockerfile');
    const good = `${await readFile(dockerfile, 'utf8')}LABEL ${ownLabel}\n`;
    await writeFile(dockerfile, `${good}RUN false\n`);
    await git(['commit', '--quiet', '--all', '--message', 'A dev build that fails'], project);
    expect(expectRefusal(await runBuildDocker([`${prefix}/broken`], project, bareEnv), true)).toMatch(
      new RegExp(
        `^run-docker: the build of the dev image "${prefix}/broken:\\d{8}-\\d{6}" \\(docker/Dockerfile\\) failed \\(docker build exit 1\\)\\. Docker's output above says why; nothing of this build is left tagged\\.$`,
      ),
    );
    expect(await localTags(`${prefix}/broken`)).toEqual([]);

    // No package in src/: the dev image builds, the install in the prod image fails.
    await writeFile(dockerfile, good);
    await git(['rm', '--quiet', '-r', 'src'], project);
    await git(['commit', '--quiet', '--all', '--message', 'No package'], project);
    const failed = await runBuildDocker([`${prefix}/broken`], project, bareEnv);
    expect(expectRefusal(failed, true)).toMatch(
      new RegExp(
        `^run-docker: the build of the prod image "${prefix}/broken-main:\\d{8}-\\d{6}" \\(the package installed from commit [0-9a-f]{12}\\) failed`,
      ),
    );
    expect(failed.stderr).toContain('build-docker: no pip in the image and no package in src/');
    expect([...(await localTags(`${prefix}/broken`)), ...(await localTags(`${prefix}/broken-main`))]).toEqual([]);
    expect(await containers()).toEqual([]);
    // Nor an untagged image: the dev image of the second build went with its tag.
    expect(await dangling()).toEqual([]);
  }, 300_000);

  test('a registry that refuses the push: both images untagged again', async () => {
    const locked = await startRegistry({ auth: { username: 'ann', password: 'secret' } });
    registries.push(locked);
    const project = await makeProjectRepository('refused');
    const repository = `${locked.address}/refused`;
    const outcome = await runBuildDocker(['--push', repository], project, bareEnv);
    expect(expectRefusal(outcome, true)).toMatch(
      new RegExp(
        `^run-docker: the push of "${repository}:\\d{8}-\\d{6}" failed \\(docker push exit 1\\)\\. Check the registry and "docker login"`,
      ),
    );
    expect([...(await localTags(repository)), ...(await localTags(`${repository}-main`))]).toEqual([]);
  }, 300_000);

  test('a mini published before build-docker (no build entry): one line naming it', async () => {
    const old = await publishMiniWithoutBuildEntry(`${prefix}/old`);
    const project = await makeProjectRepository('old-mini');
    expect(
      expectRefusal(
        await runBuildDocker(['--dry-run'], project, {
          ...bareEnv,
          RUN_DOCKER_TINY: old.tiny,
          RUN_DOCKER_MINI: `${prefix}/old/mini`,
        }),
      ),
    ).toBe(
      `run-docker: the mini "${prefix}/old/mini:20260101-000000" (version 20260101-000000) has no build payload: it was published before build-docker. Publish a newer mini (scripts/publish mini carries the build payload), or pin one that has it.`,
    );
  });
});

/**
 * A tiny trusting a key of this test, and a mini signed with it as scripts/publish signed
 * minis before build-docker: run.js and a manifest with no `build`.
 */
async function publishMiniWithoutBuildEntry(repo: string): Promise<{ tiny: string }> {
  const keys = join(work, 'old-keys');
  await mkdir(keys);
  const pair = generateKeyPairSync('ed25519');
  await writeFile(join(keys, 'key.pub.pem'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
  const { stdout } = await runCommand(
    join(ROOT, 'scripts', 'publish'),
    ['tiny', '--repo', `${repo}/tiny`, '--no-build', '--trust-key', join(keys, 'key.pub.pem')],
    { cwd: ROOT, check: true },
  );
  const tiny = stdout.trim().split('\n').pop()!;
  images.push(tiny, `${repo}/tiny:${PACKAGE_VERSION}`);

  const staging = join(work, 'old-mini');
  await mkdir(join(staging, 'payload'), { recursive: true });
  const run = await readFile(join(ROOT, 'dist', 'payload', 'mini', 'run.js'));
  await writeFile(join(staging, 'payload', 'run.js'), run);
  const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
  const build = JSON.parse(await readFile(join(ROOT, 'dist', 'build-info.json'), 'utf8')) as { contract: number };
  const manifest = {
    contract: build.contract,
    kind: 'mini' as const,
    version: '20260101-000000',
    entry: 'run.js',
    sha256: sha256(run),
    shim: `>=${PACKAGE_VERSION} <1.0.0`,
  };
  const der = pair.publicKey.export({ type: 'spki', format: 'der' });
  const signature = {
    keyId: sha256(der).slice(0, 16),
    value: sign(null, Buffer.from(signedPayloadText(manifest)), pair.privateKey).toString('base64'),
  };
  const manifestText = `${JSON.stringify({ ...manifest, signature }, null, 2)}\n`;
  await writeFile(join(staging, 'payload', 'manifest.json'), manifestText);
  const reference = `${repo}/mini:20260101-000000`;
  images.push(reference);
  await dockerBuild(
    [
      '--quiet',
      '--file',
      join(ROOT, 'Dockerfile.mini'),
      '--build-arg',
      'VERSION=20260101-000000',
      '--build-arg',
      `CONTRACT=${build.contract}`,
      '--build-arg',
      `MANIFEST_SHA256=${sha256(manifestText)}`,
      '--tag',
      reference,
      staging,
    ],
    { check: true },
  );
  return { tiny };
}
