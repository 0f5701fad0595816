/**
 * What release tests need beyond publish() (docs/releasing.md): minis whose payload differs
 * from this checkout's (a bad release is another revision), minis re-pushed with a changed
 * manifest (what someone who can push but holds no key can do), what a host verified and
 * cached, and a shim of an earlier version, built from this repository's history.
 */
import { createHash } from 'node:crypto';
import { access, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, dockerBuild, runCommand } from './fixtures';
import { ROOT, type HostEnv } from './shim';

const made: string[] = [];

/** Removes what this file made here (checkouts, shims, staging folders). */
export async function removeReleaseFiles(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/**
 * A checkout whose built run payload differs from this one's by a comment naming `revision`:
 * publishing from it (publish(…, root)) makes a mini of another revision, signed as usual.
 * Only what scripts/publish reads: the script, the Dockerfiles, dist/ and node_modules.
 */
export async function checkoutOfRevision(revision: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), `run-docker-revision-${revision}-`));
  made.push(root);
  await mkdir(join(root, 'scripts'));
  await cp(join(ROOT, 'scripts', 'publish.cjs'), join(root, 'scripts', 'publish'));
  for (const file of ['Dockerfile.mini', 'Dockerfile.tiny', 'package.json'])
    await cp(join(ROOT, file), join(root, file));
  await cp(join(ROOT, 'dist'), join(root, 'dist'), { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  const runBundle = join(root, 'dist', 'payload', 'mini', 'run.js');
  await writeFile(runBundle, `${await readFile(runBundle, 'utf8')}\n// revision ${revision}\n`);
  return root;
}

/** The manifest of a mini image on this engine, and its payload folder's files. */
export async function readMiniFiles(reference: string): Promise<Map<string, Buffer>> {
  const dir = await mkdtemp(join(tmpdir(), 'run-docker-mini-files-'));
  made.push(dir);
  const { stdout: id } = await docker(['create', reference, '/never-started'], { check: true });
  try {
    await docker(['cp', `${id.trim()}:/run-docker/.`, dir], { check: true });
  } finally {
    await docker(['rm', '--force', id.trim()]);
  }
  const files = new Map<string, Buffer>();
  for (const name of ['manifest.json', 'run.js', 'build.js', 'THIRD-PARTY-NOTICES.txt'])
    files.set(name, await readFile(join(dir, name)).catch(() => Buffer.alloc(0)));
  return files;
}

/**
 * Builds `target` from the mini `source` with its manifest changed by `edit` (the label made to
 * match, as anyone who can build an image can), and pushes it: the signatures stay as they were.
 */
export async function repushWithManifest(
  source: string,
  target: string,
  edit: (manifest: Record<string, unknown>) => Record<string, unknown>,
): Promise<void> {
  const files = await readMiniFiles(source);
  const { stdout: replaced } = await docker(['image', 'inspect', '--format', '{{.Id}}', target]);
  const staging = await mkdtemp(join(tmpdir(), 'run-docker-repush-'));
  made.push(staging);
  await mkdir(join(staging, 'payload'));
  const manifest = edit(JSON.parse(String(files.get('manifest.json'))) as Record<string, unknown>);
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  for (const [name, bytes] of files) if (bytes.length > 0) await writeFile(join(staging, 'payload', name), bytes);
  await writeFile(join(staging, 'payload', 'manifest.json'), manifestBytes);
  const buildArgs = {
    VERSION: String(manifest.version),
    CONTRACT: String(manifest.contract),
    MANIFEST_SHA256: createHash('sha256').update(manifestBytes).digest('hex'),
  };
  await dockerBuild(
    [
      '--quiet',
      '--file',
      join(ROOT, 'Dockerfile.mini'),
      ...Object.entries(buildArgs).flatMap(([key, value]) => ['--build-arg', `${key}=${value}`]),
      '--tag',
      target,
      staging,
    ],
    { check: true },
  );
  await docker(['push', '--quiet', target], { check: true });
  // The image the tag named before, now untagged (when it was this very tag's).
  if (replaced.trim() !== '') await docker(['image', 'rm', replaced.trim()]);
}

/** The sha256 of the run payload a host verified and cached for `reference` (its image ID names the folder). */
export async function cachedEntrySha256(host: HostEnv, reference: string): Promise<string> {
  const { stdout } = await docker(['image', 'inspect', '--format', '{{.Id}}', reference], { check: true });
  const dir = join(host.XDG_CACHE_HOME, 'run-docker', 'payloads', stdout.trim().replace(/^sha256:/, ''));
  return createHash('sha256')
    .update(await readFile(join(dir, 'run.js')))
    .digest('hex');
}

/**
 * The shim as the last commit of `version` built it (run-docker's own history: the commit
 * before the one that moved package.json on from it). A deployed older shim, for what it does
 * with minis made for newer ones. Built once per test file.
 */
export async function buildShimOfVersion(version: string): Promise<string> {
  const { stdout: moved } = await runCommand(
    'git',
    ['-C', ROOT, 'log', '--format=%H', '-n', '1', `-S"version": "${version}"`, '--', 'package.json'],
    { check: true },
  );
  // The newest commit whose package.json adds or drops that version line: when it drops it, its parent has it.
  const commit = moved.trim();
  if (commit === '') throw new Error(`no commit of ${ROOT} names version ${version} in package.json`);
  const { stdout: atCommit } = await runCommand('git', ['-C', ROOT, 'show', `${commit}:package.json`], { check: true });
  const source = (JSON.parse(atCommit) as { version: string }).version === version ? commit : `${commit}^`;
  const root = await mkdtemp(join(tmpdir(), `run-docker-shim-${version}-`));
  made.push(root);
  const archive = join(root, 'source.tar');
  await runCommand('git', ['-C', ROOT, 'archive', '--output', archive, source], { check: true });
  await runCommand('tar', ['-xf', archive, '-C', root], { check: true });
  await symlink(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  await runCommand(process.execPath, [join(root, 'scripts', 'build.mjs')], { check: true, cwd: root });
  const shim = join(root, 'dist', 'shim', 'run-docker.js');
  await access(shim);
  return shim;
}
