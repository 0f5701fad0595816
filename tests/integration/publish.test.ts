/**
 * scripts/publish refuses what hosts could never run (a mini version that is not newer
 * than the newest published, a shim range that is not a range) before anything is built,
 * and an interrupted publish leaves no staging folder and no image behind.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { docker, removeImages } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { publish, removeHosts, ROOT } from '../helpers/shim';

let registry: TestRegistry;
let prefix: string;
const images: string[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  prefix = `${registry.address}/publish-${process.pid}`;
});

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** scripts/publish as a publisher runs it (unsigned: signing is not what is tested here).
 *  `--no-build` goes first, so that `args` can end with an option that lacks its value. */
async function runPublish(args: string[], env: Record<string, string> = {}): Promise<Run> {
  try {
    const { stderr } = await promisify(execFile)(join(ROOT, 'scripts', 'publish'), ['--no-build', ...args], {
      cwd: ROOT,
      env: { ...process.env, RUN_DOCKER_SIGNING_KEY_FILE: '', ...env },
    });
    return { code: 0, signal: null, stderr };
  } catch (error) {
    const failed = error as { code: number | null; signal: NodeJS.Signals | null; stderr: string };
    return { code: failed.code, signal: failed.signal, stderr: failed.stderr };
  }
}

async function registryTags(repo: string): Promise<string[]> {
  const response = await fetch(`http://${registry.address}/v2/${repo.slice(registry.address.length + 1)}/tags/list`);
  if (response.status === 404) return [];
  return ((await response.json()) as { tags: string[] | null }).tags ?? [];
}

/** Every image (intermediate ones too) that a build of this mini version made. */
async function imagesOfVersion(version: string): Promise<string[]> {
  const { stdout } = await docker([
    'image',
    'ls',
    '--all',
    '--quiet',
    '--filter',
    `label=org.opencontainers.image.version=${version}`,
  ]);
  return stdout.split('\n').filter((id) => id.trim() !== '');
}

const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

test('a mini version not newer than the newest in the repository is refused, unless --force', async () => {
  const repo = `${prefix}/mini-order`;
  await publish('mini', repo, ['--version', '20260102-000000']);
  images.push(`${repo}:20260102-000000`);
  images.push(`${repo}:20260101-000000`);
  for (const version of ['20260101-000000', '20260102-000000']) {
    const refused = await runPublish(['mini', '--repo', repo, '--version', version]);
    expect(refused.code).toBe(2);
    expect(lines(refused.stderr)).toEqual([
      `publish: mini ${version} is not newer than 20260102-000000, the newest mini in "${repo}", so hosts would never run it; check this machine's clock (UTC), or use --force to publish it anyway`,
    ]);
  }
  expect(await registryTags(repo)).toEqual(['20260102-000000']);
  expect((await docker(['image', 'ls', '--quiet', `${repo}:20260101-000000`])).stdout).toBe('');

  const forced = await runPublish(['mini', '--repo', repo, '--version', '20260101-000000', '--force']);
  expect(forced.code).toBe(0);
  expect((await registryTags(repo)).sort()).toEqual(['20260101-000000', '20260102-000000']);
});

test('a mini version that is not a usable tag is refused', async () => {
  images.push(`${prefix}/mini-odd:nightly`);
  const refused = await runPublish(['mini', '--repo', `${prefix}/mini-odd`, '--version', 'nightly']);
  expect(refused.code).toBe(2);
  expect(lines(refused.stderr)).toEqual([
    expect.stringMatching(/^publish: mini version "nightly" is not a usable tag .*; use --force to publish it anyway$/),
  ]);
});

test.each([['garbage range'], [''], ['   ']])(
  '--shim-range "%s" is refused in one line and nothing is built or pushed',
  async (range) => {
    const repo = `${prefix}/mini-range`;
    const version = `20260301-00000${range.length % 10}`;
    images.push(`${repo}:${version}`);
    const refused = await runPublish(['mini', '--repo', repo, '--version', version, '--shim-range', range]);
    expect(refused.code).toBe(2);
    expect(lines(refused.stderr)).toEqual([
      `publish: --shim-range "${range}" is not a valid semver range (for example ">=0.1.0 <1.0.0"); nothing was published`,
    ]);
    expect(await registryTags(repo)).toEqual([]);
    expect(await imagesOfVersion(version)).toEqual([]);
  },
);

test.each([
  [['mini', '--repo', 'REPO', '--frob'], 'unknown option "--frob"'],
  [['mini', '--repo', 'REPO', '-x'], 'unknown option "-x"'],
  [['mini', '--repo'], '--repo needs a value'],
  [
    ['mini', '--version', '--force', '--repo', 'REPO'],
    '--version needs a value, but "--force" follows it (write --version=--force if that is the value)',
  ],
  [['mini', '--repo', 'REPO', '--force=yes'], '--force takes no value'],
  [['--repo', 'REPO'], 'say what to publish: tiny or mini'],
  [['nano', '--repo', 'REPO'], '"nano" is not what to publish: tiny or mini'],
  [['mini', 'tiny', '--repo', 'REPO'], 'unexpected argument "tiny"'],
  [['mini'], '--repo is required'],
])('bad arguments %j: one line, exit 2, nothing built or pushed', async (args, message) => {
  const repo = `${prefix}/mini-bad-args`;
  const refused = await runPublish(args.map((arg) => (arg === 'REPO' ? repo : arg)));
  expect({ code: refused.code, stderr: lines(refused.stderr) }).toEqual({
    code: 2,
    stderr: [`publish: ${message}; see "scripts/publish --help"`],
  });
  expect(await registryTags(repo)).toEqual([]);
  expect((await docker(['image', 'ls', '--quiet', repo])).stdout).toBe('');
});

/** The pids of `pid`'s children (Linux /proc). */
async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text
    .split(' ')
    .filter((word) => word.trim() !== '')
    .map(Number);
}

async function isDockerBuild(pid: number): Promise<boolean> {
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  return argv.includes('build');
}

test.each([
  ['SIGINT', 130, 0],
  ['SIGTERM', 143, 400],
] as const)(
  '%s in the middle of the build leaves no staging folder and no image behind',
  async (signal, exitCode, delayMs) => {
    const repo = `${prefix}/mini-interrupted`;
    // Unusual enough that no other build on this engine has it: intermediate images are found by it.
    const version = `20260401-${exitCode}${exitCode}`;
    const tmp = await mkdtemp(join(tmpdir(), 'run-docker-publish-tmp-'));
    try {
      const child = spawn(
        join(ROOT, 'scripts', 'publish'),
        ['mini', '--repo', repo, '--version', version, '--no-build'],
        {
          cwd: ROOT,
          env: { ...process.env, TMPDIR: tmp, RUN_DOCKER_SIGNING_KEY_FILE: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on('close', (code, sig) => resolve({ code, signal: sig })),
      );
      // Wait for `docker build` to be running, then interrupt it.
      const started = Date.now();
      for (;;) {
        const builds = await Promise.all((await childrenOf(child.pid!)).map(isDockerBuild));
        if (builds.includes(true)) break;
        if (Date.now() - started > 30_000) throw new Error(`docker build never started\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      child.kill(signal);
      const outcome = await done;
      // Give an orphaned build (the unfixed script's) time to finish and show itself.
      await new Promise((resolve) => setTimeout(resolve, 3000));

      expect({ ...outcome, stderr: lines(stderr) }).toEqual({
        code: exitCode,
        signal: null,
        stderr: [
          expect.stringMatching(new RegExp(`^publish: interrupted \\(${signal}\\); removed the staging folder`)),
        ],
      });
      expect(await readdir(tmp)).toEqual([]);
      expect(await imagesOfVersion(version)).toEqual([]);
      expect(await registryTags(repo)).not.toContain(version);
    } finally {
      // An unfixed script's orphaned build leaves a chain of images: children go first.
      for (let pass = 0; pass < 3; pass++)
        await docker(['image', 'rm', '--force', ...(await imagesOfVersion(version))]);
      await rm(tmp, { recursive: true, force: true });
    }
  },
);
