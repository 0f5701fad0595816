/**
 * scripts/publish refuses what hosts could never run (a mini version that is not newer
 * than the newest published, a shim range that is not a range, a payload file past the
 * bound shims read it within) before anything is built,
 * and an interrupted publish leaves no staging folder and no image behind.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startHoldingTcpRelay, startUnixEngineProxy, type Hold } from '../helpers/engine-proxy';
import { docker, removeImages } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { checkoutOfRevision, removeReleaseFiles } from '../helpers/releases';
import { publish, removeHosts, ROOT } from '../helpers/shim';
import { PAYLOAD_FILE_LIMIT_BYTES } from '../../shim/read-image-payload';

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
  await removeReleaseFiles();
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** scripts/publish as a publisher runs it (unsigned: signing is not what is tested here).
 *  `--no-build` goes first, so that `args` can end with an option that lacks its value. */
async function runPublish(args: string[], env: Record<string, string> = {}, root = ROOT): Promise<Run> {
  try {
    const { stderr } = await promisify(execFile)(join(root, 'scripts', 'publish'), ['--no-build', ...args], {
      cwd: root,
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

test('a mini version shaped as a date-time that names no real moment is refused', async () => {
  images.push(`${prefix}/mini-odd:20261301-250000`);
  const refused = await runPublish(['mini', '--repo', `${prefix}/mini-odd`, '--version', '20261301-250000']);
  expect(refused.code).toBe(2);
  expect(lines(refused.stderr)).toEqual([
    expect.stringMatching(
      /^publish: mini version "20261301-250000" is not a usable tag \(a real UTC moment as YYYYMMDD-HHMMSS .*; use --force to publish it anyway$/,
    ),
  ]);
  expect(await registryTags(`${prefix}/mini-odd`)).toEqual([]);
});

// Every shim refuses a mini whose entry is past its bound (shim/read-image-payload.ts), each
// call, on every host: publish refuses it before the build, by the shim's own constant.
test.each([
  ['run.js', 'an entry', 'every host would refuse this mini'],
  ['build.js', 'a build entry', 'build-docker would refuse this mini on every host'],
])(
  'a payload file "%s" just over the bound shims read it within is refused in one line: nothing built or pushed, no staging folder left',
  async (name, reader, then) => {
    const root = await checkoutOfRevision(`oversized-${name}`);
    // Sparse: the bound plus one byte costs no disk.
    await truncate(join(root, 'dist', 'payload', 'mini', name), PAYLOAD_FILE_LIMIT_BYTES + 1);
    const tmp = await mkdtemp(join(tmpdir(), 'run-docker-publish-tmp-'));
    const repo = `${prefix}/mini-oversized`;
    const version = name === 'run.js' ? '20260501-000000' : '20260501-000001';
    images.push(`${repo}:${version}`);
    try {
      const refused = await runPublish(['mini', '--repo', repo, '--version', version], { TMPDIR: tmp }, root);
      expect({ code: refused.code, stderr: lines(refused.stderr) }).toEqual({
        code: 2,
        stderr: [
          `publish: the payload file "${name}" (dist/payload/mini/${name}) is ${PAYLOAD_FILE_LIMIT_BYTES + 1} bytes, over the 8 MiB (${PAYLOAD_FILE_LIMIT_BYTES} bytes) every shim reads ${reader} with: ${then}; nothing was built or pushed`,
        ],
      });
      expect(await readdir(tmp)).toEqual([]);
      expect(await registryTags(repo)).toEqual([]);
      expect(await imagesOfVersion(version)).toEqual([]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  },
);

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
  [['--repo', 'REPO'], 'say what to publish: tiny, mini, halt or rotate-key'],
  [['nano', '--repo', 'REPO'], '"nano" is not what to publish: tiny, mini, halt or rotate-key'],
  [['halt', '--repo', 'REPO'], 'say which mini version to halt: scripts/publish halt VERSION'],
  [['rotate-key', '--repo', 'REPO'], 'rotate-key needs --new NEW.pem, the new private key'],
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

test.each([
  [
    ['mini', '--repo', 'REPO', '--rollout', '5%,25%'],
    '--rollout: the step "25%" needs a time after the start (25%@6h): only the first step may omit it; nothing was published',
  ],
  [
    ['mini', '--repo', 'REPO', '--rollout', '50%,10%@1h'],
    '--rollout: the rollout "50%,10%@1h" goes down from 50% to 10%: a host once admitted stays admitted; nothing was published',
  ],
  [['tiny', '--repo', 'REPO', '--rollout', '5%'], '--rollout is for mini, not tiny'],
  [['mini', '--repo', 'REPO', '--new', 'x.pem'], '--new is for rotate-key, not mini'],
  [['halt', '1.0.0', '--repo', 'REPO', '--from', '0.9.0'], '--from is for mini, not halt'],
  [
    ['rotate-key', '--repo', 'REPO', '--new', 'x.pem'],
    'rotate-key needs --signing-key (or RUN_DOCKER_SIGNING_KEY_FILE): hosts ignore what no trusted key signed',
  ],
])('release options that cannot be followed %j: one line, exit 2, nothing built or pushed', async (args, message) => {
  const repo = `${prefix}/mini-bad-release`;
  const refused = await runPublish(args.map((arg) => (arg === 'REPO' ? repo : arg)));
  expect({ code: refused.code, stderr: lines(refused.stderr) }).toEqual({ code: 2, stderr: [`publish: ${message}`] });
  expect(await registryTags(repo)).toEqual([]);
  expect((await docker(['image', 'ls', '--quiet', repo])).stdout).toBe('');
});

/** A publish whose engine (and, for the push, registry) sits behind a relay that holds one
 *  kind of request: the test interrupts at the state the hold shows, never after a delay. */
async function publishUntilHeld(
  args: string[],
  engineHold: Hold | undefined,
  workDir: string,
): Promise<{
  child: ChildProcessWithoutNullStreams;
  done: Promise<Run>;
  engine: Awaited<ReturnType<typeof startUnixEngineProxy>>;
}> {
  const engine = await startUnixEngineProxy(join(workDir, 'engine.sock'), engineHold);
  const tmp = join(workDir, 'tmp');
  await mkdir(tmp);
  const child = spawn(join(ROOT, 'scripts', 'publish'), [...args, '--no-build'], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: tmp, DOCKER_HOST: engine.host, RUN_DOCKER_SIGNING_KEY_FILE: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
  return { child, done, engine };
}

/** Resolves once `condition` holds (asked every 50 ms), or rejects naming `what` when the
 *  publish ended first. */
async function reached(what: string, condition: () => Promise<boolean>, done: Promise<Run>): Promise<void> {
  let ended: Run | undefined;
  void done.then((run) => (ended = run));
  while (!(await condition())) {
    if (ended) throw new Error(`publish ended (exit ${ended.code ?? ended.signal}) before ${what}:\n${ended.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A promise's state, as a condition for `reached`. */
function settled(promise: Promise<unknown>): () => Promise<boolean> {
  let isSettled = false;
  void promise.finally(() => (isSettled = true));
  return async () => isSettled;
}

const BUILD_REQUEST = /^POST \/v[\d.]+\/build\b/;
const BLOB_UPLOAD = /^POST \/v2\/.+\/blobs\/uploads\//;

describe('an interrupted publish', () => {
  let workDir: string;
  const closers: Array<() => Promise<void>> = [];
  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'run-docker-publish-'));
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await rm(workDir, { recursive: true, force: true });
  });

  async function expectNothingOfVersionLeft(version: string, repo: string): Promise<void> {
    expect(await readdir(join(workDir, 'tmp'))).toEqual([]);
    expect(await imagesOfVersion(version)).toEqual([]);
    expect(await registryTags(repo)).not.toContain(version);
  }

  test('SIGINT while the build context is on its way: no staging folder, no image, nothing pushed', async () => {
    const repo = `${prefix}/mini-interrupted`;
    const version = '20260401-130130';
    const { child, done, engine } = await publishUntilHeld(
      ['mini', '--repo', repo, '--version', version],
      { request: BUILD_REQUEST, part: 'request' },
      workDir,
    );
    closers.push(() => engine.close());
    await reached('the build request reached the engine', settled(engine.held), done);
    child.kill('SIGINT');
    const outcome = await done;
    expect({ code: outcome.code, signal: outcome.signal, stderr: lines(outcome.stderr) }).toEqual({
      code: 130,
      signal: null,
      stderr: ['publish: interrupted (SIGINT); removed the staging folder'],
    });
    await expectNothingOfVersionLeft(version, repo);
  });

  test('SIGTERM after the engine built and tagged the image but before the build command heard: the image goes too', async () => {
    const repo = `${prefix}/mini-interrupted`;
    const version = '20260401-143143';
    const reference = `${repo}:${version}`;
    images.push(reference);
    const { child, done, engine } = await publishUntilHeld(
      ['mini', '--repo', repo, '--version', version],
      { request: BUILD_REQUEST, part: 'response' },
      workDir,
    );
    closers.push(() => engine.close());
    await reached('the build request reached the engine', settled(engine.held), done);
    // The engine builds on; its answer is held, so `docker build` is still running when it is done.
    await reached(
      `the engine tagged ${reference}`,
      async () => (await docker(['image', 'inspect', '--format', '{{.Id}}', reference])).code === 0,
      done,
    );
    child.kill('SIGTERM');
    const outcome = await done;
    expect({ code: outcome.code, signal: outcome.signal, stderr: lines(outcome.stderr) }).toEqual({
      code: 143,
      signal: null,
      stderr: ['publish: interrupted (SIGTERM); removed the staging folder and the partly built image'],
    });
    await expectNothingOfVersionLeft(version, repo);
  });

  test('SIGTERM while pushing: no staging folder, the whole image stays on this host to push again, no tag in the registry', async () => {
    const relay = await startHoldingTcpRelay(registry.address, { request: BLOB_UPLOAD, part: 'request' });
    closers.push(() => relay.close());
    const repo = `${relay.address}/publish-${process.pid}/mini-push-interrupted`;
    const version = '20260401-150150';
    const reference = `${repo}:${version}`;
    images.push(reference);
    const { child, done, engine } = await publishUntilHeld(
      ['mini', '--repo', repo, '--version', version],
      undefined,
      workDir,
    );
    closers.push(() => engine.close());
    await reached('the engine began to upload a layer', settled(relay.held), done);
    child.kill('SIGTERM');
    const outcome = await done;
    expect({ code: outcome.code, signal: outcome.signal, stderr: lines(outcome.stderr) }).toEqual({
      code: 143,
      signal: null,
      stderr: [
        expect.stringMatching(new RegExp(`^publish: built ${reference.replace(/[.]/g, '\\.')} \\(mini ${version}, `)),
        'publish: interrupted (SIGTERM); removed the staging folder',
      ],
    });
    expect(await readdir(join(workDir, 'tmp'))).toEqual([]);
    expect((await docker(['image', 'inspect', '--format', '{{.Id}}', reference])).code).toBe(0);
    const direct = `${registry.address}/publish-${process.pid}/mini-push-interrupted`;
    expect(await registryTags(direct)).not.toContain(version);
  });
});
