/**
 * Installing the shim as a host would, then running it with nothing but Node.js: from the
 * npm package (`npm pack`, `npm install -g`), and from the tiny image (scripts/install-shim).
 * The installed command runs outside the repository with a minimal PATH and its own HOME;
 * `--show-config` needs no engine, so what is proven is that the file is complete.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { docker, removeImages, runCommand } from '../helpers/fixtures';
import { ROOT, publish } from '../helpers/shim';

const PACKAGE_VERSION: string = require('../../package.json').version;
const INSTALL_SCRIPT = join(ROOT, 'scripts', 'install-shim');

let work: string;
const images: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'run-docker-install-'));
});

afterAll(async () => {
  await removeImages(images);
  await rm(work, { recursive: true, force: true });
});

/** Runs an installed run-docker from outside the repository: Node.js and /usr/bin:/bin only, a fresh HOME. */
async function runInstalled(command: string, args: string[]) {
  const home = await mkdtemp(join(work, 'home-'));
  const env = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: home, DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
  // runCommand adds process.env; a clean environment needs `env -i`.
  const result = await runCommand('/usr/bin/env', ['-i', ...Object.entries(env).map(([key, value]) => `${key}=${value}`), command, ...args], {
    cwd: home,
  });
  return { ...result, home };
}

function expectShowConfig(result: { code: number; stdout: string; stderr: string; home: string }) {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  expect(result.stdout).toMatch(new RegExp(`^shim +${PACKAGE_VERSION.replace(/\./g, '\\.')} +\\(built in\\)$`, 'm'));
  expect(result.stdout).toContain(`${result.home}/.config/run-docker/config.json`);
  expect(result.stdout).toMatch(/^tiny +\S+ +\(default\)$/m);
}

test('npm pack holds only the shim bundle, and a global install of it runs with only Node.js', async () => {
  const packDir = await mkdtemp(join(work, 'pack-'));
  const pack = await runCommand('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: ROOT, check: true });
  const [packed] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
  expect(packed.files.map((file) => file.path).sort()).toEqual(
    expect.arrayContaining(['README.md', 'dist/shim/run-docker.js', 'package.json']),
  );
  expect(packed.files.every((file) => /^(README\.md|LICENSE|package\.json|dist\/shim\/[^/]+)$/.test(file.path))).toBe(true);

  const prefix = await mkdtemp(join(work, 'prefix-'));
  // --offline: the package has no dependencies, so nothing may need downloading.
  await runCommand('npm', ['install', '--global', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, join(packDir, packed.filename)], {
    cwd: work,
    check: true,
  });
  expect(await readdir(join(prefix, 'lib', 'node_modules', 'run-docker'))).not.toContain('node_modules');

  expectShowConfig(await runInstalled(join(prefix, 'bin', 'run-docker'), ['--show-config']));
  // A fresh install has no tiny and no registry: the payload built into the shim answers
  // (issue 12: both exited 125 on a placeholder registry).
  const version = await runInstalled(join(prefix, 'bin', 'run-docker'), ['--version']);
  expect({ code: version.code, stderr: version.stderr }).toEqual({ code: 0, stderr: '' });
  expect(version.stdout).toContain(`mini built into shim ${PACKAGE_VERSION} (no tiny configured)`);
  const help = await runInstalled(join(prefix, 'bin', 'run-docker'), ['--help']);
  expect({ code: help.code, stderr: help.stderr }).toEqual({ code: 0, stderr: '' });
  expect(help.stdout).toMatch(/^Usage: run-docker /);
});

test('scripts/install-shim copies the shim out of a tiny image, leaves no container, and it runs with only Node.js', async () => {
  const repo = `run-docker-test/install-${process.pid}/tiny`;
  const tiny = await publish('tiny', repo, ['--no-push']);
  images.push(tiny);
  const containersBefore = (await docker(['ps', '--all', '--quiet', '--filter', 'label=org.run-docker.install'], { check: true })).stdout;

  const prefix = join(work, 'from-image');
  const installed = await runCommand(INSTALL_SCRIPT, ['--from-image', tiny, '--prefix', prefix]);
  expect({ code: installed.code, stderr: installed.stderr }).toEqual({ code: 0, stderr: '' });
  expect(installed.stdout.trim()).toBe(join(prefix, 'bin', 'run-docker'));
  expect((await stat(join(prefix, 'bin', 'run-docker'))).mode & 0o777).toBe(0o755);
  expect((await readdir(join(prefix, 'bin')))).toEqual(['run-docker']);
  expect((await docker(['ps', '--all', '--quiet', '--filter', 'label=org.run-docker.install'], { check: true })).stdout).toBe(containersBefore);

  expectShowConfig(await runInstalled(join(prefix, 'bin', 'run-docker'), ['--show-config']));
});

test('scripts/install-shim from an image without the shim fails in one line, installs nothing and removes its container', async () => {
  // The mini image has no /run-docker-shim.
  const mini = await publish('mini', `run-docker-test/install-${process.pid}/mini`, ['--no-push', '--version', '20261101-120000']);
  images.push(mini);
  const containersBefore = (await docker(['ps', '--all', '--quiet', '--filter', 'label=org.run-docker.install'], { check: true })).stdout;
  const prefix = join(work, 'from-mini');
  const failed = await runCommand(INSTALL_SCRIPT, ['--from-image', mini, '--prefix', prefix]);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toMatch(/^install-shim: docker cp failed: .*\n$/);
  expect(await readdir(join(prefix, 'bin'))).toEqual([]);
  expect((await docker(['ps', '--all', '--quiet', '--filter', 'label=org.run-docker.install'], { check: true })).stdout).toBe(containersBefore);
});
