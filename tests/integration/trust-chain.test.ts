/**
 * The mini trust chain against a real registry: a tag must be the version its signature
 * names, a host never runs a lower signed version than it has run unless pinned, and a
 * bad newest mini on a fresh host falls back to older good minis from the registry.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { docker, removeImages } from '../helpers/fixtures';
import { startRegistry, tagInRegistry, type TestRegistry } from '../helpers/registry';
import {
  explain,
  makeHost,
  PACKAGE_VERSION,
  publish,
  removeHosts,
  runShim,
  stderrLines,
  type Outcome,
  type Signer,
} from '../helpers/shim';

let registry: TestRegistry;
let prefix: string;
let tiny: string;
const images: string[] = [];

async function publishMini(repo: string, tag: string, signer: Signer = 'trusted', extra: string[] = []): Promise<void> {
  await publish('mini', repo, ['--version', tag, ...extra], signer);
  images.push(`${repo}:${tag}`);
}

/** Every local image of `repo`, so the next run is a fresh host's: it must pull. */
async function removeLocalTags(repo: string): Promise<void> {
  const { stdout } = await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', repo]);
  await removeImages(stdout.split('\n').filter((line) => line.trim() !== ''));
}

/** Deletes the manifest `repo:tag` points at from the registry (OCI distribution spec, "Deleting Manifests"). */
async function deleteFromRegistry(repo: string, tag: string): Promise<void> {
  const path = repo.slice(registry.address.length + 1);
  const url = `http://${registry.address}/v2/${path}/manifests/`;
  const head = await fetch(url + tag, {
    method: 'HEAD',
    headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
  });
  const digest = head.headers.get('docker-content-digest');
  if (!head.ok || !digest) throw new Error(`HEAD ${url}${tag}: HTTP ${head.status}`);
  const deleted = await fetch(url + digest, { method: 'DELETE' });
  if (deleted.status !== 202) throw new Error(`DELETE ${url}${digest}: HTTP ${deleted.status}`);
}

function expectRan(outcome: Outcome, reference: string): void {
  if (outcome.code !== 0 || !outcome.stdout.includes(`mini ${reference}`))
    throw new Error(`expected mini ${reference} to run\n${explain(outcome)}`);
}

beforeAll(async () => {
  registry = await startRegistry();
  prefix = `${registry.address}/trust-chain-${process.pid}`;
  tiny = await publish('tiny', `${prefix}/tiny`);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`);
});

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
});

test('an old signed mini pushed again as 20991231-000000 is refused in one warning naming both, and the real newest runs', async () => {
  const repo = `${prefix}/mini-repush`;
  await publishMini(repo, '20260101-000000');
  await publishMini(repo, '20260102-000000');
  await tagInRegistry(registry.address, repo.slice(registry.address.length + 1), '20260101-000000', [
    '20991231-000000',
  ]);
  images.push(`${repo}:20991231-000000`);
  const host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: repo });
  for (let call = 0; call < 2; call++) {
    const outcome = await runShim(['--version'], host);
    expectRan(outcome, `${repo}:20260102-000000`);
    const lines = stderrLines(outcome);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^run-docker: warning: the newest mini ".*\/mini-repush:20991231-000000" cannot be used: it was signed as version 20260101-000000, not 20991231-000000/,
    );
    expect(lines[0]).toContain('running the newest usable mini on this host instead');
  }
  // Pinned by that tag: an error, not a fallback.
  const pinned = await runShim(['--version'], { ...host, RUN_DOCKER_MINI: `${repo}:20991231-000000` });
  expect(pinned.code).toBe(125);
  expect(stderrLines(pinned)).toEqual([
    expect.stringMatching(
      /^run-docker: the mini image ".*:20991231-000000" pinned by env RUN_DOCKER_MINI was signed as version 20260101-000000, not 20991231-000000: .*\. Pin the tag of its signed version/,
    ),
  ]);
  // Pinned by digest there is no tag to compare: the digest is the operator's choice.
  const { stdout: digests } = await docker([
    'image',
    'inspect',
    '--format',
    '{{json .RepoDigests}}',
    `${repo}:20260101-000000`,
  ]);
  const digest = (JSON.parse(digests) as string[]).find((d) => d.startsWith(`${repo}@`))!;
  const byDigest = await runShim(['--version'], { ...host, RUN_DOCKER_MINI: digest });
  expectRan(byDigest, digest);
  expect(byDigest.stderr).toBe('');
});

test('a host that ran B refuses an older A even when B is gone from registry and host, and runs A when pinned by tag', async () => {
  const repo = `${prefix}/mini-rollback`;
  await publishMini(repo, '20260101-000000');
  await publishMini(repo, '20260102-000000');
  const host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: repo });
  expectRan(await runShim(['--version'], host), `${repo}:20260102-000000`);

  const recordFile = join(host.HOME, '.local', 'state', 'run-docker', 'mini-versions.json');
  expect(JSON.parse(await readFile(recordFile, 'utf8'))).toEqual({ minis: { [repo]: '20260102-000000' } });
  expect((await stat(recordFile)).mode & 0o777).toBe(0o600);
  expect((await stat(join(recordFile, '..'))).mode & 0o777).toBe(0o700);

  await deleteFromRegistry(repo, '20260102-000000');
  await removeImages([`${repo}:20260102-000000`]);
  // Never the older mini: the payload built into the shim, with one warning.
  const refused = await runShim(['--version'], host);
  expect(refused.code).toBe(0);
  expect(refused.stdout).toMatch(/^mini built into shim .* \(no usable mini of /m);
  expect(refused.stdout).not.toMatch(/^mini \S+:20260101-000000 /m);
  expect(stderrLines(refused)).toEqual([
    expect.stringMatching(
      /^run-docker: warning: no usable mini of ".*\/mini-rollback": the newest, ".*:20260101-000000" cannot be used: it is older than 20260102-000000, which this host has already run; running the payload built into shim .* instead\. Publish the good payload again as a new version \(scripts\/publish mini\), or pin a mini with RUN_DOCKER_MINI=.*:TAG to roll back on purpose/,
    ),
  ]);

  const pinned = await runShim(['--version'], { ...host, RUN_DOCKER_MINI: `${repo}:20260101-000000` });
  expectRan(pinned, `${repo}:20260101-000000`);
  expect(pinned.stderr).toBe('');
  // Rolling back on purpose does not lower the record.
  expect(JSON.parse(await readFile(recordFile, 'utf8'))).toEqual({ minis: { [repo]: '20260102-000000' } });

  // A damaged record: one warning, and the run goes on (it is written again).
  const { writeFile } = await import('node:fs/promises');
  await writeFile(recordFile, '{"minis": {"x": 42');
  const damaged = await runShim(['--version'], host);
  expectRan(damaged, `${repo}:20260101-000000`);
  expect(stderrLines(damaged)).toEqual([
    expect.stringMatching(
      /^run-docker: warning: the record of mini versions this host has run, ".*mini-versions.json", is damaged; /,
    ),
  ]);
  expect(JSON.parse(await readFile(recordFile, 'utf8'))).toEqual({ minis: { [repo]: '20260101-000000' } });
});

test('a fresh host whose newest minis are for another shim and unsigned pulls the older good one from the registry', async () => {
  const repo = `${prefix}/mini-fresh`;
  await publishMini(repo, '20260101-000000');
  await publishMini(repo, '20260102-000000', 'none');
  await publishMini(repo, '20260103-000000', 'trusted', ['--shim-range', '>=99.0.0']);
  await removeLocalTags(repo);
  const host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: repo });
  const outcome = await runShim(['--version'], host);
  expectRan(outcome, `${repo}:20260101-000000`);
  expect(stderrLines(outcome)).toEqual([
    expect.stringMatching(
      /^run-docker: warning: the newest mini ".*:20260103-000000" cannot be used: it needs shim >=99\.0\.0 and this shim is [^;]*; update the shim \(see docs\/install\.md of run-docker\); running the older mini "20260101-000000" from the registry instead; also skipped 1 older mini: 20260102-000000 \(it is not signed\)$/,
    ),
  ]);
  expect(outcome.stderr).not.toContain('npm install');
});

test('at most 3 older minis are pulled from the registry, and the warning says so', async () => {
  const repo = `${prefix}/mini-bounded`;
  await publishMini(repo, '20260101-000000');
  await publishMini(repo, '20260110-000000', 'none');
  const bad = ['20260111-000000', '20260112-000000', '20260113-000000', '20260114-000000'];
  await tagInRegistry(registry.address, repo.slice(registry.address.length + 1), '20260110-000000', bad);
  images.push(...bad.map((tag) => `${repo}:${tag}`));
  await removeLocalTags(repo);
  const host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: repo });
  const outcome = await runShim(['--version'], host);
  expect(outcome.code).toBe(0);
  expect(outcome.stdout).toMatch(/^mini built into shim .* \(no usable mini of /m);
  const lines = stderrLines(outcome);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    /^run-docker: warning: no usable mini of ".*\/mini-bounded": the newest, ".*:20260114-000000" cannot be used: it is not signed; 3 older minis skipped: /,
  );
  expect(lines[0]).toContain('2 older minis in the registry not pulled (at most 3 are tried)');
  expect(lines[0]).toMatch(
    /Publish a mini signed with a key this host trusts .*, or pin a mini with RUN_DOCKER_MINI=.*\/mini-bounded:TAG\.$/,
  );
  // The good one was never pulled.
  expect((await docker(['image', 'inspect', `${repo}:20260101-000000`])).code).not.toBe(0);
});
