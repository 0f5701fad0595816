/**
 * Installing the shim as a host would, then running it with nothing but Node.js: from the
 * npm package (`npm pack`, `npm install -g`), and from the tiny image (scripts/install-shim).
 * The installed command runs outside the repository with a minimal PATH and its own HOME;
 * `--show-config` needs no engine, so what is proven is that the file is complete.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { listen } from '../helpers/listen';
import { docker, removeImages, runCommand } from '../helpers/fixtures';
import { PACKAGE_VERSION, publish, ROOT } from '../helpers/shim';
import { defined } from '../helpers/defined';

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
  const env = {
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: home,
    DOCKER_HOST: 'unix:///nonexistent/docker.sock',
  };
  // runCommand adds process.env; a clean environment needs `env -i`.
  const result = await runCommand(
    '/usr/bin/env',
    ['-i', ...Object.entries(env).map(([key, value]) => `${key}=${value}`), command, ...args],
    {
      cwd: home,
    },
  );
  return { ...result, home };
}

/** `build-docker --version` and `--help` from a fresh install: the build payload built into the shim. */
async function expectBuildDocker(command: string) {
  const version = await runInstalled(command, ['--version']);
  expect({ code: version.code, stderr: version.stderr, stdout: version.stdout }).toEqual({
    code: 0,
    stderr: '',
    stdout: `build-docker shim ${PACKAGE_VERSION}\nmini built into shim ${PACKAGE_VERSION} (no tiny configured)\n`,
  });
  const help = await runInstalled(command, ['--help']);
  expect({ code: help.code, stderr: help.stderr }).toEqual({ code: 0, stderr: '' });
  expect(help.stdout).toMatch(/^Usage: build-docker /);
}

function expectShowConfig(result: { code: number; stdout: string; stderr: string; home: string }) {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  expect(result.stdout).toMatch(new RegExp(`^shim +${PACKAGE_VERSION.replace(/\./g, '\\.')} +\\(built in\\)$`, 'm'));
  expect(result.stdout).toContain(`${result.home}/.config/run-docker/config.json`);
  expect(result.stdout).toMatch(/^tiny +\S+ +\(default\)$/m);
}

/** The licence texts the notices must carry for a few bundled packages, as their packages ship them. */
function expectNoticesFor(notices: string, packages: { name: string; license: string }[]) {
  expect(notices).toMatch(/^run-docker is under the MIT licence:$/m);
  expect(notices).toContain('Copyright (c) 2026 run-docker contributors');
  for (const { name, license } of packages) {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(notices).toMatch(new RegExp(`^  ${name} ${version.replace(/\./g, '\\.')} \\(${license}\\)$`, 'm'));
    const section = notices.split(`\n${name} ${version}\nLicense: ${license}\n`)[1]?.split(/\n-{79}\n/)[0] ?? '';
    expect(section).not.toBe('');
    expect(section).not.toContain('No licence text was found');
  }
}

test('npm pack holds the shim bundle, LICENSE and the third-party notices, and a global install of it runs with only Node.js', async () => {
  const packDir = await mkdtemp(join(work, 'pack-'));
  const pack = await runCommand('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: ROOT, check: true });
  const [packed] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
  expect(packed.files.map((file) => file.path).sort()).toEqual([
    'LICENSE',
    'README.md',
    'dist/shim/THIRD-PARTY-NOTICES.txt',
    'dist/shim/run-docker.js',
    'package.json',
  ]);
  expect(packed.files.every((file) => /^(README\.md|LICENSE|package\.json|dist\/shim\/[^/]+)$/.test(file.path))).toBe(
    true,
  );

  const prefix = await mkdtemp(join(work, 'prefix-'));
  // --offline: the package has no dependencies, so nothing may need downloading.
  await runCommand(
    'npm',
    ['install', '--global', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, join(packDir, packed.filename)],
    {
      cwd: work,
      check: true,
    },
  );
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
  // The second name npm links: the same file, which runs the build payload under it.
  await expectBuildDocker(join(prefix, 'bin', 'build-docker'));

  const installed = join(prefix, 'lib', 'node_modules', 'run-docker');
  expect(await readFile(join(installed, 'LICENSE'), 'utf8')).toMatch(
    /^MIT License\n\nCopyright \(c\) 2026 run-docker contributors\n/,
  );
  const shimNotices = await readFile(join(installed, 'dist', 'shim', 'THIRD-PARTY-NOTICES.txt'), 'utf8');
  expectNoticesFor(shimNotices, [
    { name: 'smol-toml', license: 'BSD-3-Clause' },
    { name: 'tar-stream', license: 'MIT' },
    { name: 'semver', license: 'ISC' },
    { name: 'log-update', license: 'MIT' },
  ]);
  // Every Engine API call goes over node:http, pulls and ssh engines too (issue 24): no dockerode, ssh2 or docker-modem.
  expect(shimNotices).not.toMatch(/^ {2}(dockerode|docker-modem|ssh2) /m);
});

/** An npm registry on 127.0.0.1 that accepts any publish (PUT /<name>) and keeps what it was sent; everything else is a 404. */
async function startPublishRecorder() {
  type Publication = {
    versions: Record<string, Record<string, unknown>>;
    _attachments: Record<string, { data: string }>;
  };
  const published: { name: string; body: Publication }[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'PUT') {
        published.push({
          name: decodeURIComponent((request.url ?? '').slice(1)),
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Publication,
        });
        response.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}');
      } else {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      }
    });
  });
  const serverPort = await listen(server);
  const url = `http://127.0.0.1:${serverPort}/`;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { url, published, close };
}

test('the package can be published: npm publish to a registry on 127.0.0.1 sends the shim, LICENSE and the notices, and --dry-run is clean offline', async () => {
  const registry = await startPublishRecorder();
  try {
    // The token is the test registry's; --registry keeps every request on 127.0.0.1.
    const auth = `--${registry.url.replace(/^http:/, '')}:_authToken=test-token`;
    const published = await runCommand('npm', ['publish', '--registry', registry.url, auth, '--no-provenance'], {
      cwd: ROOT,
    });
    expect({
      code: published.code,
      stderr: published.stderr.split('\n').filter((line) => /^npm (warn|error)/.test(line)),
    }).toEqual({ code: 0, stderr: [] });
    expect(registry.published.map((entry) => entry.name)).toEqual(['run-docker']);
    const { body } = defined(registry.published[0], 'a publish');
    const version = body.versions[PACKAGE_VERSION];
    expect(version).toMatchObject({
      name: 'run-docker',
      license: 'MIT',
      bin: { 'run-docker': 'dist/shim/run-docker.js' },
    });
    expect(version?.private).toBeUndefined();

    const tarball = join(work, 'published.tgz');
    await writeFile(
      tarball,
      Buffer.from(defined(Object.values(body._attachments)[0], 'a tarball attachment').data, 'base64'),
    );
    const listed = await runCommand('tar', ['-tzf', tarball], { check: true });
    expect(listed.stdout.trim().split('\n').sort()).toEqual(
      ['LICENSE', 'README.md', 'dist/shim/THIRD-PARTY-NOTICES.txt', 'dist/shim/run-docker.js', 'package.json'].map(
        (path) => `package/${path}`,
      ),
    );
    const notices = await runCommand('tar', ['-xzOf', tarball, 'package/dist/shim/THIRD-PARTY-NOTICES.txt'], {
      check: true,
    });
    expectNoticesFor(notices.stdout, [
      { name: 'smol-toml', license: 'BSD-3-Clause' },
      { name: 'tar-stream', license: 'MIT' },
      { name: 'semver', license: 'ISC' },
    ]);
  } finally {
    await registry.close();
  }

  // --dry-run still asks the registry about the name (a minute of retries when it cannot be
  // reached): --offline keeps it on this machine; the token spares the "not logged in" warning.
  const dryRun = await runCommand(
    'npm',
    ['publish', '--dry-run', '--offline', '--registry', 'http://127.0.0.1:1/', '--//127.0.0.1:1/:_authToken=dry-run'],
    { cwd: ROOT, timeoutMs: 60000 },
  );
  expect({
    code: dryRun.code,
    stderr: dryRun.stderr.split('\n').filter((line) => /^npm (warn|error)/.test(line)),
  }).toEqual({ code: 0, stderr: [] });
});

test('a published tiny and mini carry the third-party notices of what they hold at /run-docker/THIRD-PARTY-NOTICES.txt', async () => {
  const tiny = await publish('tiny', `run-docker-test/notices-${process.pid}/tiny`, ['--no-push']);
  images.push(tiny);
  const mini = await publish('mini', `run-docker-test/notices-${process.pid}/mini`, [
    '--no-push',
    '--version',
    '20261101-120000',
  ]);
  images.push(mini);

  const copyOut = async (image: string) => {
    // As scripts/install-shim does: tiny and mini are FROM scratch, so a created, never started container.
    const created = await docker(['create', '--label', 'org.run-docker.test=notices', image, '/never-started'], {
      check: true,
    });
    const id = created.stdout.trim();
    try {
      const target = join(work, `notices-${id}.txt`);
      await docker(['cp', `${id}:/run-docker/THIRD-PARTY-NOTICES.txt`, target], { check: true });
      return await readFile(target, 'utf8');
    } finally {
      await docker(['rm', '--force', id]);
    }
  };
  const tinyNotices = await copyOut(tiny);
  expect(tinyNotices).toMatch(/^Notices for the tiny image /);
  // tiny carries the shim's bundle too: its packages are covered as well.
  expectNoticesFor(tinyNotices, [
    { name: 'smol-toml', license: 'BSD-3-Clause' },
    { name: 'tar-stream', license: 'MIT' },
    { name: 'semver', license: 'ISC' },
  ]);
  const miniNotices = await copyOut(mini);
  expect(miniNotices).toMatch(/^Notices for the mini image /);
  expectNoticesFor(miniNotices, [
    { name: 'tar-stream', license: 'MIT' },
    { name: 'semver', license: 'ISC' },
    { name: 'log-update', license: 'MIT' },
  ]);
  expect(
    (await docker(['ps', '--all', '--quiet', '--filter', 'label=org.run-docker.test=notices'], { check: true })).stdout,
  ).toBe('');
});

test('scripts/install-shim copies the shim out of a tiny image, leaves no container, and it runs with only Node.js', async () => {
  const repo = `run-docker-test/install-${process.pid}/tiny`;
  const tiny = await publish('tiny', repo, ['--no-push']);
  images.push(tiny);
  const containersBefore = (
    await docker(['ps', '--all', '--quiet', '--filter', 'label=org.run-docker.install'], { check: true })
  ).stdout;

  const prefix = join(work, 'from-image');
  const installed = await runCommand(INSTALL_SCRIPT, ['--from-image', tiny, '--prefix', prefix]);
  expect({ code: installed.code, stderr: installed.stderr }).toEqual({ code: 0, stderr: '' });
  expect(installed.stdout.trim()).toBe(join(prefix, 'bin', 'run-docker'));
  expect((await stat(join(prefix, 'bin', 'run-docker'))).mode & 0o777).toBe(0o755);
  expect((await readdir(join(prefix, 'bin'))).sort()).toEqual(['build-docker', 'run-docker']);
  expect(await readlink(join(prefix, 'bin', 'build-docker'))).toBe('run-docker');
  expect(
    (await docker(['ps', '--all', '--quiet', '--filter', 'label=org.run-docker.install'], { check: true })).stdout,
  ).toBe(containersBefore);

  expectShowConfig(await runInstalled(join(prefix, 'bin', 'run-docker'), ['--show-config']));
  await expectBuildDocker(join(prefix, 'bin', 'build-docker'));
});

test('scripts/install-shim from an image without the shim fails in one line, installs nothing and removes its container', async () => {
  // The mini image has no /run-docker-shim.
  const mini = await publish('mini', `run-docker-test/install-${process.pid}/mini`, [
    '--no-push',
    '--version',
    '20261101-120000',
  ]);
  images.push(mini);
  const containersBefore = (
    await docker(['ps', '--all', '--quiet', '--filter', 'label=org.run-docker.install'], { check: true })
  ).stdout;
  const prefix = join(work, 'from-mini');
  const failed = await runCommand(INSTALL_SCRIPT, ['--from-image', mini, '--prefix', prefix]);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toMatch(/^install-shim: docker cp failed: .*\n$/);
  expect(await readdir(join(prefix, 'bin'))).toEqual([]);
  expect(
    (await docker(['ps', '--all', '--quiet', '--filter', 'label=org.run-docker.install'], { check: true })).stdout,
  ).toBe(containersBefore);
});
