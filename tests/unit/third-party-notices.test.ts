import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatNotices, readPackageLicence, selectBundledPackages } from '../../scripts/third-party-notices.cjs';

describe('selectBundledPackages', () => {
  test('maps esbuild inputs to the package folders they come from, nested and scoped ones too, once each', () => {
    const inputs = [
      'shim/main.ts',
      'contract/contract.ts',
      'scripts/lazy-ssh.cjs',
      // A plugin namespace: the embedded modules' own inputs are listed by their inner build.
      'embedded:dockerode',
      'node_modules/dockerode/lib/docker.js',
      'node_modules/dockerode/lib/container.js',
      'node_modules/@balena/dockerignore/ignore.js',
      'node_modules/tar-fs/index.js',
      'node_modules/tar-fs/node_modules/tar-stream/extract.js',
      'node_modules/tar-stream/extract.js',
      'node_modules/semver/functions/compare.js',
      // A symlinked node_modules resolves outside the root.
      '../main/node_modules/log-update/index.js',
    ];
    expect(selectBundledPackages(inputs)).toEqual([
      { name: 'log-update', dir: '../main/node_modules/log-update' },
      { name: '@balena/dockerignore', dir: 'node_modules/@balena/dockerignore' },
      { name: 'dockerode', dir: 'node_modules/dockerode' },
      { name: 'semver', dir: 'node_modules/semver' },
      { name: 'tar-fs', dir: 'node_modules/tar-fs' },
      { name: 'tar-stream', dir: 'node_modules/tar-fs/node_modules/tar-stream' },
      { name: 'tar-stream', dir: 'node_modules/tar-stream' },
    ]);
  });

  test('our own code names no package', () => {
    expect(selectBundledPackages(['shim/main.ts', 'payload/run/main.ts', 'embedded:tar-stream'])).toEqual([]);
  });
});

describe('readPackageLicence', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'run-docker-notices-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads the declared licence and every licence or notice file, not code named like one', async () => {
    const pkg = join(dir, 'apache');
    await mkdir(pkg);
    await writeFile(
      join(pkg, 'package.json'),
      JSON.stringify({ name: 'apache', version: '1.2.3', license: 'Apache-2.0' }),
    );
    await writeFile(join(pkg, 'LICENSE'), 'Apache License text\n');
    await writeFile(join(pkg, 'NOTICE.md'), 'Notice text\n');
    await writeFile(join(pkg, 'license.js'), 'module.exports = 1;\n');
    await writeFile(join(pkg, 'index.js'), '');
    expect(readPackageLicence(pkg)).toEqual({
      name: 'apache',
      version: '1.2.3',
      license: 'Apache-2.0',
      files: [
        { name: 'LICENSE', text: 'Apache License text\n' },
        { name: 'NOTICE.md', text: 'Notice text\n' },
      ],
    });
  });

  test('the old licence fields and a missing one', async () => {
    const old = join(dir, 'old');
    await mkdir(old);
    await writeFile(
      join(old, 'package.json'),
      JSON.stringify({ name: 'old', version: '0.1.0', licenses: [{ type: 'MIT' }, { type: 'GPL-2.0' }] }),
    );
    expect(readPackageLicence(old)).toMatchObject({ license: 'MIT OR GPL-2.0', files: [] });
    const none = join(dir, 'none');
    await mkdir(none);
    await writeFile(join(none, 'package.json'), JSON.stringify({ name: 'none', version: '0.0.1' }));
    expect(readPackageLicence(none)).toMatchObject({ license: 'not declared', files: [] });
  });
});

describe('formatNotices', () => {
  const text = formatNotices({
    artefact: 'the mini image',
    version: '0.1.0',
    ownLicence: 'MIT License\n\nCopyright (c) 2026 run-docker contributors\n',
    packages: [
      { name: 'zeta', version: '1.0.0', license: 'MIT', files: [{ name: 'LICENSE', text: 'zeta licence\r\n' }] },
      { name: 'alpha', version: '2.0.0', license: 'ISC', files: [] },
      // The same package reached twice (two bundles of one image): listed once.
      { name: 'zeta', version: '1.0.0', license: 'MIT', files: [{ name: 'LICENSE', text: 'zeta licence\r\n' }] },
    ],
  });

  test("run-docker's own licence first, then each package once, sorted, with its licence text", () => {
    expect(text.split('\n').slice(0, 12)).toEqual([
      'Notices for the mini image (run-docker 0.1.0)',
      '',
      'run-docker is under the MIT licence:',
      '',
      'MIT License',
      '',
      'Copyright (c) 2026 run-docker contributors',
      '',
      'It bundles these 2 third-party packages, each under its own licence:',
      '',
      '  alpha 2.0.0 (ISC)',
      '  zeta 1.0.0 (MIT)',
    ]);
    expect(text).toContain('\nzeta 1.0.0\nLicense: MIT\n\nLICENSE:\n\nzeta licence\n');
    expect(text.match(/zeta licence/g)).toHaveLength(1);
  });

  test('a package that ships no licence text says so, with what its package.json declares', () => {
    expect(text).toContain(
      '\nalpha 2.0.0\nLicense: ISC\n\nNo licence text was found in the package; its package.json declares "ISC".\n',
    );
  });
});
