/**
 * Pull progress as the user sees it on stderr, on the real engine and registry: plain
 * lines per layer in a pipe, nothing with -q, a redrawn docker-style display on a
 * terminal (a pty from util-linux `script`), without colour under NO_COLOR.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage, dockerBuild, pushImage, removeImages, runCommand, TEST_LABEL } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import {
  explain,
  makeHost,
  PACKAGE_VERSION,
  publish,
  removeHosts,
  runShim,
  SHIM_BUNDLE,
  stderrLines,
  type Outcome,
} from '../helpers/shim';

const MINI = '20260101-000000';
const NEWER_MINI = '20260102-000000';
/** Per new layer: big enough that a pull lasts several frames (a frame is 100 ms). */
const LAYER_BYTES = 8 * 1024 * 1024;

// eslint-disable-next-line no-control-regex -- the escape character is what it looks for
const ANY_ESCAPE = /\x1b/;
/** SGR: colour and other graphic renditions, `ESC [ … m`. */
// eslint-disable-next-line no-control-regex -- the escape character is what it looks for
const SGR = /\x1b\[[0-9;]*m/;
/** Cursor up (`ESC [ n A`), as a redraw in place needs. */
// eslint-disable-next-line no-control-regex -- the escape character is what it looks for
const CURSOR_UP = /\x1b\[\d*A/;
/** A layer's bar with its bytes; from a local registry the download can be over before a frame shows it. */
const BAR = /[0-9a-f]{12}: (Downloading|Extracting ) \[=*>? *\] +\d+(\.\d+)?[kM]?B\/\d+(\.\d+)?MB/;

let registry: TestRegistry;
let prefix: string;
let host: Record<string, string>;
const images: string[] = [];
let imageCount = 0;

beforeAll(async () => {
  registry = await startRegistry();
  prefix = `${registry.address}/pull-progress-${process.pid}`;
  const tiny = await publish('tiny', `${prefix}/tiny`);
  await publish('mini', `${prefix}/mini`, ['--version', MINI]);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`, `${prefix}/mini:${MINI}`);
  host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${prefix}/mini` });
});

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
});

/**
 * A project image in the registry and not on this host: the busybox base (two layers the
 * host already has) and two new layers of random bytes, one per build step.
 */
async function publishProjectImage(): Promise<string> {
  const name = `${prefix}/app-${++imageCount}`;
  const reference = `${name}:1.0.0`;
  const firstStep = `${name}:first-layer`;
  await buildBusyboxImage(firstStep, { files: { '/data/first.txt': randomBytes(LAYER_BYTES).toString('base64') } });
  const context = await mkdtemp(join(tmpdir(), 'run-docker-pull-progress-'));
  try {
    await writeFile(join(context, 'second.bin'), randomBytes(LAYER_BYTES));
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM ${firstStep}\nCOPY second.bin /data/second.bin\nLABEL ${TEST_LABEL}=1\n`,
    );
    await dockerBuild(['--quiet', '--tag', reference, context], { check: true });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  await pushImage(reference);
  images.push(reference);
  // As if another machine had published it: the new layers leave this host.
  await removeImages([reference, firstStep]);
  return reference;
}

/** The shim on a pty of 120 × 40, as a user at a terminal runs it; stdout and stderr are one stream there. */
async function runShimOnTerminal(args: string[], env: Record<string, string>): Promise<Outcome> {
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const command = `stty cols 120 rows 40; exec ${[process.execPath, SHIM_BUNDLE, ...args].map(quote).join(' ')}`;
  const result = await runCommand('script', ['-qec', command, '/dev/null'], { env, timeoutMs: 120_000 });
  return { code: result.code, signal: null, stdout: result.stdout, stderr: result.stderr };
}

function expectSuccess(outcome: Outcome): void {
  if (outcome.code !== 0) throw new Error(`expected exit 0\n${explain(outcome)}`);
}

/** The layer IDs whose lines say `status`. */
const layersWith = (lines: string[], status: string) =>
  lines.filter((line) => line.endsWith(`: ${status}`)).map((line) => line.slice(0, -`: ${status}`.length));

test('in a pipe: plain lines, one per layer per status change, then the digest and status, and no escapes', async () => {
  const image = await publishProjectImage();
  const outcome = await runShim([image, 'true'], host);
  expectSuccess(outcome);
  expect(outcome.stdout).toBe('');
  expect(outcome.stderr).not.toMatch(ANY_ESCAPE);
  const lines = stderrLines(outcome);
  const path = image.slice(registry.address.length + 1, -':1.0.0'.length);
  expect(lines[0]).toBe(`1.0.0: Pulling from ${path}`);
  expect(layersWith(lines, 'Already exists')).toHaveLength(2);
  const pulled = layersWith(lines, 'Pull complete');
  expect(pulled).toHaveLength(2);
  for (const id of pulled) {
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    const statuses = lines.filter((line) => line.startsWith(`${id}: `)).map((line) => line.slice(id.length + 2));
    expect(statuses).toEqual(
      expect.arrayContaining(['Pulling fs layer', 'Downloading', 'Download complete', 'Extracting', 'Pull complete']),
    );
    // A line per change, never one per progress tick (an 8 MB layer sends dozens of ticks).
    expect(statuses.length).toBeLessThanOrEqual(7);
  }
  expect(new Set(lines).size).toBe(lines.length);
  expect(lines.slice(-2)).toEqual([
    expect.stringMatching(/^Digest: sha256:[0-9a-f]{64}$/),
    `Status: Downloaded newer image for ${image}`,
  ]);
});

test('-q and RUN_DOCKER_QUIET=1: no progress at all', async () => {
  const quiet = await runShim(['-q', await publishProjectImage(), 'true'], host);
  expectSuccess(quiet);
  expect(quiet.stderr).toBe('');
  const quietEnv = await runShim([await publishProjectImage(), 'true'], { ...host, RUN_DOCKER_QUIET: '1' });
  expectSuccess(quietEnv);
  expect(quietEnv.stderr).toBe('');
});

test('on a terminal: layers redrawn in place with bars and bytes, finished layers in colour', async () => {
  const outcome = await runShimOnTerminal([await publishProjectImage(), 'true'], host);
  expectSuccess(outcome);
  const screen = outcome.stdout;
  expect({ cursorUp: CURSOR_UP.test(screen), screen }).toEqual({ cursorUp: true, screen });
  expect(screen).toMatch(BAR);
  expect(screen).toContain('\x1b[32mPull complete\x1b[39m');
  expect(screen).toMatch(/Status: Downloaded newer image for /);
});

test('on a terminal with NO_COLOR=1: the same redraw, without colour escapes', async () => {
  const outcome = await runShimOnTerminal([await publishProjectImage(), 'true'], { ...host, NO_COLOR: '1' });
  expectSuccess(outcome);
  const screen = outcome.stdout;
  expect(screen).toMatch(CURSOR_UP);
  expect(screen).toMatch(BAR);
  expect(screen).toContain('Pull complete');
  expect({ sgr: SGR.exec(screen)?.[0], screen }).toEqual({ sgr: undefined, screen });
});

test("the shim's own pull of a newer mini: progress on a terminal only, and none with a leading -q", async () => {
  const mini = `${prefix}/mini:${NEWER_MINI}`;
  await publish('mini', `${prefix}/mini`, ['--version', NEWER_MINI]);
  images.push(mini);
  const minis = `${prefix}/mini`.slice(registry.address.length + 1);

  await removeImages([mini]);
  const inPipe = await runShim(['--version'], host);
  expectSuccess(inPipe);
  expect(inPipe.stdout).toContain(`mini ${mini}`);
  expect(inPipe.stderr).toBe('');

  await removeImages([mini]);
  const quiet = await runShimOnTerminal(['-q', '--version'], host);
  expectSuccess(quiet);
  expect(quiet.stdout).toContain(`mini ${mini}`);
  expect(quiet.stdout).not.toContain('Pulling from');

  await removeImages([mini]);
  const onTerminal = await runShimOnTerminal(['--version'], host);
  expectSuccess(onTerminal);
  expect(onTerminal.stdout).toContain(`mini ${mini}`);
  expect(onTerminal.stdout).toContain(`${NEWER_MINI}: Pulling from ${minis}`);
  expect(onTerminal.stdout).toMatch(/Pull complete/);
});
