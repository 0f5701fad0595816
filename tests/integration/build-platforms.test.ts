/**
 * build-docker --platform linux/amd64,linux/arm64 (issue 21, part B) on the real engine and
 * registry: the example project, FROM a base that is itself an index of both platforms (small
 * Python bases built once per machine by scripts/build-platform-bases), built for both (arm64
 * emulated through qemu-user-static and binfmt_misc), pushed as one index per image with the
 * same tag; then an amd64 host runs the new tag without naming it. No tiny is configured: the
 * build payload built into the shim runs.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, pushImage, removeImages, runCommand } from '../helpers/fixtures';
import { PROJECT_TEMPLATE } from '../helpers/python-project';
import { putManifestList, startRegistry, type TestRegistry } from '../helpers/registry';
import { explain, makeHost, removeHosts, ROOT, runShim, SHIM_BUNDLE, type Outcome } from '../helpers/shim';

const BASES = 'run-docker-test/python-minimal';
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Ann',
  GIT_AUTHOR_EMAIL: 'ann@example.com',
  GIT_COMMITTER_NAME: 'Ann',
  GIT_COMMITTER_EMAIL: 'ann@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};
let registry: TestRegistry;
let work: string;
const images: string[] = [];

beforeAll(async () => {
  // Emulation is part of the test bed (scripts/with-engine sets it up): its absence is a failure, never a skip.
  if (!existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64'))
    throw new Error(
      'arm64 emulation is off: install qemu-user-static and binfmt-support, mount binfmt_misc and run "update-binfmts --enable qemu-aarch64" (scripts/with-engine does)',
    );
  await runCommand(join(ROOT, 'scripts', 'build-platform-bases'), [BASES], { check: true, timeoutMs: 600_000 });
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'build-platforms-'));
  // The base as a team's registry holds it: one tag, an index of both platforms.
  for (const arch of ['amd64', 'arm64']) {
    await docker(['tag', `${BASES}:bookworm-${arch}`, `${registry.address}/base:${arch}`], { check: true });
    images.push(`${registry.address}/base:${arch}`);
    await pushImage(`${registry.address}/base:${arch}`);
  }
  await putManifestList(registry.address, 'base', 'bookworm', [
    { tag: 'amd64', platform: { os: 'linux', architecture: 'amd64' } },
    { tag: 'arm64', platform: { os: 'linux', architecture: 'arm64' } },
  ]);
}, 900_000);

afterAll(async () => {
  const built = (
    await docker([
      'image',
      'ls',
      '--format',
      '{{.Repository}}:{{.Tag}}',
      '--filter',
      `reference=${registry?.address}/team/*`,
    ])
  ).stdout
    .split('\n')
    .filter(Boolean);
  await removeImages([...images, ...built, `${registry?.address}/base:bookworm`]);
  await registry?.remove();
  if (work) await rm(work, { recursive: true, force: true });
  await removeHosts();
});

function expectSuccess(outcome: Outcome): void {
  if (outcome.code !== 0) throw new Error(`expected exit 0\n${explain(outcome)}`);
}

async function git(args: string[], cwd: string): Promise<void> {
  await runCommand('git', args, { cwd, env: GIT_ENV, check: true });
}

test('two platforms: one index per image under one tag, the labels on each image, digests printed; an amd64 host runs the new tag', async () => {
  const project = join(work, 'hello');
  await cp(PROJECT_TEMPLATE, project, {
    recursive: true,
    filter: (source) => !/(__pycache__|\.pytest_cache)$/.test(source),
  });
  await writeFile(
    join(project, 'docker', 'Dockerfile'),
    `FROM ${registry.address}/base:bookworm\nCMD ["python3", "-m", "hello"]\n`,
  );
  await git(['init', '--quiet', '--initial-branch=main'], project);
  await git(['add', '--all'], project);
  await git(['commit', '--quiet', '--message', 'The example project'], project);
  const buildDocker = join(work, 'build-docker');
  await runCommand('ln', ['-s', SHIM_BUNDLE, buildDocker], { check: true });
  const host = await makeHost({ DOCKER_BUILDKIT: '0' });

  const started = Date.now();
  const built = await runCommand(
    process.execPath,
    [buildDocker, '--push', '--platform', 'linux/amd64,linux/arm64', `${registry.address}/team/hello`],
    { cwd: project, env: { ...host, ...GIT_ENV } },
  );
  const outcome: Outcome = { code: built.code, signal: null, stdout: built.stdout, stderr: built.stderr };
  expectSuccess(outcome);
  console.log(`build-docker for two platforms: ${Math.round((Date.now() - started) / 1000)} s`);
  const printed = outcome.stdout.trim().split('\n');
  expect(printed).toEqual([
    expect.stringMatching(new RegExp(`^${registry.address}/team/hello@sha256:[0-9a-f]{64}$`)),
    expect.stringMatching(new RegExp(`^${registry.address}/team/hello-main@sha256:[0-9a-f]{64}$`)),
  ]);

  // In the registry: each digest is an index of both platforms, under the build's tag.
  const tags = (await (await fetch(`http://${registry.address}/v2/team/hello/tags/list`)).json()) as { tags: string[] };
  const tag = tags.tags.find((candidate) => /^\d{8}-\d{6}$/.test(candidate))!;
  for (const [name, line] of [
    ['hello', printed[0]!],
    ['hello-main', printed[1]!],
  ] as const) {
    const answer = await fetch(`http://${registry.address}/v2/team/${name}/manifests/${tag}`, {
      headers: {
        Accept: 'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json',
      },
    });
    expect(`sha256:${line.split('@sha256:')[1]}`).toBe(answer.headers.get('docker-content-digest'));
    const index = (await answer.json()) as { manifests: Array<{ platform: { architecture: string } }> };
    expect(index.manifests.map((entry) => entry.platform.architecture).sort()).toEqual(['amd64', 'arm64']);
  }
  // The arm64 prod image had the package installed by its own (emulated) python3, and the labels.
  const arm = `${registry.address}/team/hello-main:${tag}-linux-arm64`;
  await docker(['pull', '--quiet', arm], { check: true });
  images.push(arm);
  const inspected = await docker(
    [
      'image',
      'inspect',
      '--format',
      '{{.Architecture}} {{index .Config.Labels "org.opencontainers.image.version"}}',
      arm,
    ],
    { check: true },
  );
  expect(inspected.stdout.trim()).toBe(`arm64 ${tag}`);
  const installed = await docker([
    'run',
    '--rm',
    '--platform',
    'linux/arm64',
    arm,
    'python3',
    '-c',
    'import hello, platform; print(platform.machine(), hello.__file__)',
  ]);
  expect(installed.stdout).toMatch(/^aarch64 \/usr\/local\/lib\/python3[.\d]*\/dist-packages\/hello\/__init__\.py\n$/);

  // An amd64 host's next run takes the new tag, its amd64 image, without naming it.
  const runner = await makeHost({ RUN_DOCKER_QUIET: '1' });
  // The base has python3 and no shell.
  const ran = await runShim(
    [
      `${registry.address}/team/hello-main`,
      'python3',
      '-c',
      "import os, runpy; print(os.environ['IMAGE_VERSION']); runpy.run_module('hello', run_name='__main__')",
    ],
    runner,
  );
  expectSuccess(ran);
  expect({ stdout: ran.stdout, stderr: ran.stderr }).toEqual({
    stdout: `${tag}\nhello says: Hello, world!\n`,
    stderr: '',
  });
}, 900_000);
