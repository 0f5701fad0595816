/**
 * Drives the built artefacts as a user would: the shim bundle as a black box (exit
 * code, stdout, stderr) and scripts/publish. Run `npm run build` first (scripts/test does).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import packageJson from '../../package.json';
import { defined } from './defined';
import { removeImages } from './fixtures';

export const ROOT = join(__dirname, '..', '..');
/** The shim's version, which is also the tag of the tiny image it pulls. */
export const PACKAGE_VERSION = packageJson.version;
export const SHIM_BUNDLE = join(ROOT, 'dist', 'shim', 'run-docker.js');

export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const hostHomes: string[] = [];

/** The environment of a test host: its own HOME, config and cache folders, and what a test adds. */
export type HostEnv = Record<string, string> & { HOME: string; XDG_CONFIG_HOME: string; XDG_CACHE_HOME: string };

/** A host with nothing but the shim: its own HOME, config and cache folders. */
export async function makeHost(env: Record<string, string>): Promise<HostEnv> {
  const home = await mkdtemp(join(tmpdir(), 'run-docker-host-'));
  hostHomes.push(home);
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    ...env,
  };
}

/** The process ID of every shim started in this test file. */
const shimPids: number[] = [];

/** The process ID of every shim started in this test file (extraction containers are labelled with it). */
export function shimPidsOfThisFile(): readonly number[] {
  return shimPids;
}

/** The HOME of every host made by makeHost in this test file and not yet removed. */
export function hostHomesOfThisFile(): readonly string[] {
  return hostHomes;
}

/** Deletes every host folder made by makeHost in this test file. */
export async function removeHosts(): Promise<void> {
  await Promise.all(hostHomes.splice(0).map((home) => rm(home, { recursive: true, force: true })));
}

/** `launcher` runs the shim through another program, e.g. setpriv to become another user; `cwd` is where it runs. */
export function startShim(
  args: string[],
  env: Record<string, string>,
  launcher: string[] = [],
  cwd?: string,
): { child: ChildProcess; done: Promise<Outcome> } {
  const [file = process.execPath, ...rest] = [...launcher, process.execPath, SHIM_BUNDLE, ...args];
  const child = spawn(file, rest, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid !== undefined) shimPids.push(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<Outcome>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export async function runShim(
  args: string[],
  env: Record<string, string>,
  input = '',
  launcher: string[] = [],
  cwd?: string,
): Promise<Outcome> {
  const { child, done } = startShim(args, env, launcher, cwd);
  child.stdin!.end(input);
  return done;
}

/** Lines the shim printed to stderr, without blank ones. */
export function stderrLines(outcome: Outcome): string[] {
  return outcome.stderr.split('\n').filter((line) => line.trim() !== '');
}

/** Asserts the shape every run-docker failure must have (one line, exit 125, no stack), and returns its line. */
export function expectOneLineFailure(outcome: Outcome): string {
  const lines = stderrLines(outcome);
  expect({ code: outcome.code, lines: lines.length, why: explain(outcome) }).toEqual({
    code: 125,
    lines: 1,
    why: explain(outcome),
  });
  expect(lines[0]).toMatch(/^run-docker: /);
  expect(outcome.stderr).not.toMatch(/\n\s+at /);
  return defined(lines[0], 'a line on stderr');
}

/** Shows what the process printed when an assertion about it fails. */
export function explain(outcome: Outcome): string {
  return `exit ${outcome.code} signal ${outcome.signal}\n--- stdout\n${outcome.stdout}--- stderr\n${outcome.stderr}`;
}

/**
 * The signing key pairs of this test process: `trusted` is the one every tiny published here
 * trusts; `next` is one a key rotation moves to (docs/releasing.md).
 */
export type Signer = 'trusted' | 'untrusted' | 'next' | 'none';
type KeyName = Exclude<Signer, 'none'>;
let keyFiles: Promise<Record<KeyName, { privateKey: string; publicKey: string }>> | undefined;

/** The PEM files of this process's key pairs. */
export function signingKeys(): Promise<Record<KeyName, { privateKey: string; publicKey: string }>> {
  keyFiles ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'run-docker-keys-'));
    hostHomes.push(dir);
    const write = async (name: string) => {
      const pair = generateKeyPairSync('ed25519');
      const files = { privateKey: join(dir, `${name}.pem`), publicKey: join(dir, `${name}.pub.pem`) };
      await writeFile(files.privateKey, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      await writeFile(files.publicKey, pair.publicKey.export({ type: 'spki', format: 'pem' }));
      return files;
    };
    return { trusted: await write('trusted'), untrusted: await write('untrusted'), next: await write('next') };
  })();
  return keyFiles;
}

/**
 * scripts/publish; resolves to its last line (`REPO@sha256:…`, or `REPO:VERSION` with --no-push).
 * tiny trusts, and mini is signed with, this process's `trusted` key unless `signer` says otherwise.
 */
export async function publish(
  kind: 'tiny' | 'mini' | 'halt' | 'rotate-key',
  repo: string,
  extra: string[] = [],
  signer: Signer = 'trusted',
  /** Another checkout to publish from (releases.ts: a mini of another revision). */
  root = ROOT,
): Promise<string> {
  const keys = await signingKeys();
  const trustArgs =
    signer === 'none'
      ? []
      : kind === 'tiny'
        ? ['--trust-key', keys[signer].publicKey]
        : ['--signing-key', keys[signer].privateKey];
  const { stdout, stderr } = await promisify(execFile)(
    join(root, 'scripts', 'publish'),
    [kind, '--repo', repo, '--no-build', ...trustArgs, ...extra],
    {
      cwd: root,
      env: { ...process.env, RUN_DOCKER_SIGNING_KEY_FILE: '' },
    },
  );
  const result = defined(stdout.trim().split('\n').at(-1), 'a reference on the last line of scripts/publish');
  for (const [, built] of stderr.matchAll(/^publish: built (\S+)/gm)) if (built) publishedHere.add(built);
  publishedHere.add(result);
  return result;
}

/**
 * What publish() left on this host: the tag it built and the reference it returned. A test
 * that removed only the digest left `repo:0.1.0` behind on every run, and a growing image
 * list slows every later call (the shim lists all images). Removed after each test file by
 * tests/helpers/clean-up-after-file.ts.
 */
const publishedHere = new Set<string>();

export async function removePublishedImages(): Promise<void> {
  const references = [...publishedHere];
  publishedHere.clear();
  await removeImages(references);
}
