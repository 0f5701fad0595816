/**
 * Newest minis shaped to hurt the host that reads them (issue 19; docs/trust.md, "endless
 * data"), on the real engine: made by scripts/hostile-minis.cjs with `docker import`, so
 * their layers are exactly the bytes an attacker who can push to the mini repository would
 * choose. Each is refused in one warning and the good mini runs; the call's peak memory
 * stays bounded; and the next call skips the image without reading it (the engine proxy
 * counts what the shim asks the engine).
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  importBigFiles,
  importGzipHeaderBomb,
  importHugeEntry,
  importHugeManifest,
} from '../../scripts/hostile-minis.cjs';
import { startUnixEngineProxy, type EngineProxy } from '../helpers/engine-proxy';
import { docker, dockerBuild, removeImages, TEST_LABEL } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { explain, makeHost, PACKAGE_VERSION, publish, removeHosts, ROOT, runShim, stderrLines } from '../helpers/shim';

const GOOD = '20260101-000000';
/** The target for a call that meets a hostile mini: a peak of 100 MiB at most. */
const PEAK_LIMIT_MIB = 100;
const labels = { [TEST_LABEL]: '1' };

let registry: TestRegistry;
let prefix: string;
let proxy: EngineProxy;
let work: string;
let host: Record<string, string>;
const images: string[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  prefix = `${registry.address}/hostile-${process.pid}`;
  const tiny = await publish('tiny', `${prefix}/tiny`);
  await publish('mini', `${prefix}/mini`, ['--version', GOOD]);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`, `${prefix}/mini:${GOOD}`);
  work = await mkdtemp(join(tmpdir(), 'run-docker-hostile-'));
  proxy = await startUnixEngineProxy(join(work, 'engine.sock'));
  host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_LOCAL: '1', DOCKER_HOST: proxy.host });
  // Warm: tiny and the good mini are cached, as on a host that ran yesterday.
  const warm = await runShim(['--version'], { ...host, RUN_DOCKER_MINI: `${prefix}/mini` });
  expect({ code: warm.code, stderr: warm.stderr, why: explain(warm) }).toEqual({
    code: 0,
    stderr: '',
    why: explain(warm),
  });
});

afterAll(async () => {
  await removeImages(images);
  await proxy?.close();
  await registry?.remove();
  await rm(work, { recursive: true, force: true });
  await removeHosts();
});

/** The good mini, tagged into `repository` too, so that each shape has a repository of its own. */
async function withGoodMini(repository: string): Promise<void> {
  await docker(['tag', `${prefix}/mini:${GOOD}`, `${repository}:${GOOD}`], { check: true });
  images.push(`${repository}:${GOOD}`);
}

/** A --version call with `repository` as the mini, its peak RSS (MiB) and what it asked the engine. */
async function call(repository: string, env: Record<string, string> = {}) {
  const rssFile = join(work, `rss-${Date.now()}`);
  const before = proxy.requests.length;
  const outcome = await runShim(['--version'], {
    ...host,
    ...env,
    RUN_DOCKER_MINI: repository,
    NODE_OPTIONS: `--require ${join(ROOT, 'scripts', 'bench-max-rss.cjs')}`,
    BENCH_MAX_RSS_FILE: rssFile,
  });
  const peakMiB = Number(await readFile(rssFile, 'utf8')) / 1024;
  const reads = proxy.requests
    .slice(before)
    .filter((request) => /^(GET \/[^ ]*images\/[^ ]+\/get|POST \/[^ ]*containers\/create)/.test(request));
  return { outcome, peakMiB, reads };
}

/** The good mini ran, after one warning that the newest (`tag`) cannot be used because `why`. */
function expectRefusedThenGood(
  outcome: Awaited<ReturnType<typeof call>>['outcome'],
  repository: string,
  tag: string,
  why: RegExp,
): void {
  expect({ code: outcome.code, why: explain(outcome) }).toEqual({ code: 0, why: explain(outcome) });
  expect(outcome.stdout).toContain(`mini ${repository}:${GOOD} (${GOOD}, payload `);
  const lines = stderrLines(outcome);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^run-docker: warning: the newest mini ".*:${tag}" cannot be used: `));
  expect(lines[0]).toMatch(why);
}

test('a layer that starts with a gzip header and inflates to 1 GiB: refused without inflating it, then skipped for free under every tag', async () => {
  const repository = `${prefix}/bomb`;
  await withGoodMini(repository);
  const tags = ['20990101-000000', '20990102-000000', '20990103-000000', '20990104-000000'];
  const id = await importGzipHeaderBomb(`${repository}:${tags[0]}`, { inflatesTo: 1024 * 1024 * 1024, labels });
  images.push(...tags.map((tag) => `${repository}:${tag}`));
  for (const tag of tags.slice(1)) await docker(['tag', id, `${repository}:${tag}`], { check: true });

  const first = await call(repository);
  expectRefusedThenGood(first.outcome, repository, tags[3]!, /it has no manifest\.json; .*also skipped 3 older minis/);
  expect(first.peakMiB).toBeLessThan(PEAK_LIMIT_MIB);
  // One image under four tags: read once (and the good mini was cached before).
  expect(first.reads).toEqual([expect.stringMatching(new RegExp(`^GET /.*images/${id}/get`))]);

  const again = await call(repository);
  expectRefusedThenGood(again.outcome, repository, tags[3]!, /it has no manifest\.json/);
  expect(again.reads).toEqual([]);
  expect(await readdir(join(host.XDG_CACHE_HOME!, 'run-docker', 'refused'))).toContain(
    `${id.replace('sha256:', '')}.json`,
  );
});

test('the same refused image pulled again under a new tag: pulled, and skipped without being read', async () => {
  const repository = `${prefix}/bomb-pulled`;
  await withGoodMini(repository);
  const [old, pushed] = ['20990101-000000', '20990201-000000'];
  const id = await importGzipHeaderBomb(`${repository}:${old}`, { inflatesTo: 64 * 1024 * 1024, labels });
  images.push(`${repository}:${old}`, `${repository}:${pushed}`);
  const first = await call(repository);
  expectRefusedThenGood(first.outcome, repository, old, /it has no manifest\.json/);
  expect(first.reads).toEqual([expect.stringMatching(new RegExp(`^GET /.*images/${id}/get`))]);

  // Pushed under a newer tag that this host does not have: found in the registry and pulled.
  await docker(['tag', id, `${repository}:${pushed}`], { check: true });
  await docker(['push', '--quiet', `${repository}:${pushed}`], { check: true });
  await docker(['image', 'rm', `${repository}:${pushed}`], { check: true });
  const before = proxy.requests.length;
  const pulled = await call(repository, { RUN_DOCKER_LOCAL: '', RUN_DOCKER_QUIET: '1' });
  expectRefusedThenGood(pulled.outcome, repository, pushed, /it has no manifest\.json/);
  expect(proxy.requests.slice(before).filter((request) => /^POST \/[^ ]*images\/create/.test(request))).toHaveLength(1);
  expect(pulled.reads).toEqual([]);
});

test('a payload folder of 5 files of 32 MiB (read through a container): refused reading only its manifest', async () => {
  const repository = `${prefix}/big-files`;
  await withGoodMini(repository);
  const tag = '20990101-000000';
  await importBigFiles(`${repository}:${tag}`, { count: 5, bytes: 32 * 1024 * 1024, labels });
  images.push(`${repository}:${tag}`);

  const first = await call(repository);
  expectRefusedThenGood(first.outcome, repository, tag, /it has no manifest\.json/);
  expect(first.peakMiB).toBeLessThan(PEAK_LIMIT_MIB);
  expect(first.reads).toEqual([expect.stringMatching(/^POST \/.*containers\/create/)]);
  expect(await ourExtractionContainers()).toEqual([]);

  const again = await call(repository);
  expectRefusedThenGood(again.outcome, repository, tag, /it has no manifest\.json/);
  expect(again.reads).toEqual([]);
});

test.each([
  ['a manifest.json of 48 MiB', 'huge-manifest', /its manifest\.json is larger than 64 KiB/],
  ['a manifest (matching its label) naming a 24 MiB entry', 'huge-entry', /its entry "run\.js" is larger than 8 MiB/],
])('%s: refused for its size, not read, and remembered', async (_name, shape, why) => {
  const repository = `${prefix}/${shape}`;
  await withGoodMini(repository);
  const tag = '20990101-000000';
  if (shape === 'huge-manifest') await importHugeManifest(`${repository}:${tag}`, { bytes: 48 * 1024 * 1024, labels });
  else await importHugeEntry(`${repository}:${tag}`, { bytes: 24 * 1024 * 1024, version: tag, labels });
  images.push(`${repository}:${tag}`);

  const first = await call(repository);
  expectRefusedThenGood(first.outcome, repository, tag, why);
  expect(first.peakMiB).toBeLessThan(PEAK_LIMIT_MIB);
  const again = await call(repository);
  expectRefusedThenGood(again.outcome, repository, tag, why);
  expect(again.reads).toEqual([]);
});

test('a good mini larger than the export bound is read through a container, manifest first, and runs', async () => {
  const repository = `${prefix}/large-good`;
  const context = await mkdtemp(join(work, 'large-good-'));
  // 20 MiB beside the payload folder: past EXPORT_LIMIT_BYTES, so no export is read.
  await writeFile(join(context, 'padding'), Buffer.alloc(20 * 1024 * 1024, 'p'));
  await writeFile(
    join(context, 'Dockerfile'),
    `FROM ${prefix}/mini:${GOOD}\nCOPY padding /padding\nLABEL ${TEST_LABEL}=1\n`,
  );
  await dockerBuild(['--quiet', '--tag', `${repository}:${GOOD}`, context], { check: true });
  images.push(`${repository}:${GOOD}`);
  const { outcome, reads } = await call(repository);
  expect({ code: outcome.code, stderr: outcome.stderr, why: explain(outcome) }).toEqual({
    code: 0,
    stderr: '',
    why: explain(outcome),
  });
  expect(outcome.stdout).toContain(`mini ${repository}:${GOOD} (${GOOD}, payload `);
  expect(reads).toEqual([expect.stringMatching(/^POST \/.*containers\/create/)]);
  // The manifest, then the run and build entries it names; not THIRD-PARTY-NOTICES.txt beside them.
  const copied = proxy.requests.filter((request) => /\/archive\?path=/.test(request)).slice(-3);
  expect(copied.map((request) => decodeURIComponent(request.replace(/^.*path=/, '')))).toEqual([
    '/run-docker/manifest.json',
    '/run-docker/run.js',
    '/run-docker/build.js',
  ]);
});

/** Extraction containers of this host's shims that are still there (a test counts only its own). */
async function ourExtractionContainers(): Promise<string[]> {
  const { stdout } = await docker([
    'ps',
    '--all',
    '--quiet',
    '--filter',
    `label=org.run-docker.extraction`,
    '--filter',
    `ancestor=${prefix}/big-files:20990101-000000`,
  ]);
  return stdout.split('\n').filter(Boolean);
}
