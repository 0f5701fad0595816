// @ts-check
// The hostile-mini benchmark (scripts/benchmark --hostile [--rounds N] [--json PATH]): what a
// newest mini shaped to hurt its reader (issue 19; scripts/hostile-minis.cjs) costs a call,
// against what a normal refusal costs (an unsigned newest mini) and a call with no bad mini
// at all. Target (docs/performance.md): on the first call, at most 100 MiB of peak memory and
// 0.5 s more than a normal refusal; on later calls, under 20 ms more.
//
// Each shape has a repository of its own: the good signed mini (GOOD) and the shape above it.
// A call is `run-docker --local --version` with that repository as the mini (tiny, the good
// mini and the decision, no registry). "First" runs with what the shim remembers of the bad
// newest removed (its refusal, its cached payload and verification record); "later" runs
// right after, with nothing removed. Tiny and the good mini stay cached throughout, as on a
// host that ran yesterday. Shapes and calls alternate within each round, so the machine's
// drift hits them alike; medians per shape, and the largest peak RSS.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, optionOf, sh } from './bench-setup.mjs';

/** @type {typeof import('./hostile-minis.cjs')} */
const hostile = createRequire(import.meta.url)('./hostile-minis.cjs');

const GOOD = '20260101-000000';
const BAD = ['20990101-000000', '20990102-000000', '20990103-000000', '20990104-000000'].concat([
  '20990105-000000',
  '20990106-000000',
  '20990107-000000',
  '20990108-000000',
]);
const MiB = 1024 * 1024;

/**
 * @typedef {object} Shape
 * @property {string} label
 * @property {(reference: string) => Promise<string>} make  puts the shape on the host; its image ID
 * @property {number} [tags]  how many newer tags it stands under (1 by default)
 */

/** @type {Record<string, Shape>} */
const SHAPES = {
  none: { label: 'no bad mini (the good one is the newest)', make: async () => '' },
  normal: { label: 'normal refusal: an unsigned newest mini', make: async () => '' },
  bomb: {
    label: 'gzip-header layer inflating to 2 GiB',
    make: (reference) => hostile.importGzipHeaderBomb(reference, { inflatesTo: 2048 * MiB }),
  },
  'bomb-8-tags': {
    label: 'the same bomb under 8 newer tags',
    make: (reference) => hostile.importGzipHeaderBomb(reference, { inflatesTo: 2048 * MiB }),
    tags: 8,
  },
  'big-files': {
    label: '24 files of 32 MiB (container path)',
    make: (reference) => hostile.importBigFiles(reference, { count: 24, bytes: 32 * MiB }),
  },
  'huge-manifest': {
    label: 'manifest.json of 256 MiB',
    make: (reference) => hostile.importHugeManifest(reference, { bytes: 256 * MiB }),
  },
  'huge-entry': {
    label: 'a matching manifest naming a 100 MiB entry',
    make: (reference) => hostile.importHugeEntry(reference, { bytes: 100 * MiB, version: BAD[0] }),
  },
  'endless-entries': {
    label: '100,000 entries with 200-character names',
    make: (reference) => hostile.importEndlessEntries(reference, { count: 100_000, nameLength: 200 }),
  },
  'huge-image': {
    label: '1 GiB outside the payload folder',
    make: (reference) => hostile.importHugeImage(reference, { bytes: 1024 * MiB }),
  },
};

/** @param {string} root @param {string[]} args */
export async function runHostileBenchmark(root, args) {
  const option = optionOf(args);
  const rounds = Number(option('--rounds', '5'));
  const jsonPath = option('--json', undefined);
  const only = option('--shapes', undefined)?.split(',');
  const shapeKeys = Object.keys(SHAPES).filter(
    (key) => !only || only.includes(key) || key === 'none' || key === 'normal',
  );
  const work = mkdtempSync(join(tmpdir(), 'run-docker-bench-hostile-'));
  /** @type {string | undefined} */
  let registry;
  /** @type {string[]} */
  const images = [];
  try {
    registry = sh(join(root, 'scripts/registry'), ['start', join(work, 'registry')]);
    sh(join(root, 'scripts/make-signing-key'), [join(work, 'keys')]);
    /** @param {'tiny' | 'mini'} kind @param {string} repo @param {string[]} extra */
    const publish = (kind, repo, extra) =>
      sh(join(root, 'scripts/publish'), [kind, '--repo', repo, '--no-build', ...extra])
        .split('\n')
        .pop() ?? '';
    const prefix = `${registry}/bench-hostile`;
    const tiny = publish('tiny', `${prefix}/tiny`, ['--trust-key', join(work, 'keys', 'signing-key.pub.pem')]);
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
    images.push(tiny, `${prefix}/tiny:${version}`);
    const signed = ['--signing-key', join(work, 'keys', 'signing-key.pem')];
    publish('mini', `${prefix}/mini`, [...signed, '--version', GOOD]);
    images.push(`${prefix}/mini:${GOOD}`);

    /** @type {Record<string, { repository: string, ids: string[] }>} */
    const setups = {};
    for (const key of shapeKeys) {
      const repository = `${prefix}/${key}`;
      sh('docker', ['tag', `${prefix}/mini:${GOOD}`, `${repository}:${GOOD}`]);
      images.push(`${repository}:${GOOD}`);
      const shape = /** @type {Shape} */ (SHAPES[key]);
      /** @type {string[]} */
      let ids = [];
      if (key === 'normal') {
        // Unsigned, published as scripts/publish does for development: refused as untrusted.
        publish('mini', repository, ['--version', BAD[0] ?? '', '--no-push']);
        ids = [sh('docker', ['image', 'inspect', '--format', '{{.Id}}', `${repository}:${BAD[0]}`])];
        images.push(`${repository}:${BAD[0]}`);
      } else if (key !== 'none') {
        const started = Date.now();
        const id = await shape.make(`${repository}:${BAD[0]}`);
        for (const tag of BAD.slice(1, shape.tags ?? 1)) sh('docker', ['tag', id, `${repository}:${tag}`]);
        images.push(...BAD.slice(0, shape.tags ?? 1).map((tag) => `${repository}:${tag}`));
        ids = [id];
        console.error(`made "${key}" in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
      setups[key] = { repository, ids };
    }

    const home = join(work, 'home');
    mkdirSync(home);
    const cache = join(home, '.cache', 'run-docker');
    const hostEnv = {
      ...process.env,
      HOME: home,
      XDG_CACHE_HOME: join(home, '.cache'),
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_STATE_HOME: join(home, '.state'),
      RUN_DOCKER_TINY: tiny,
      RUN_DOCKER_LOCAL: '1',
    };
    const rssFile = join(work, 'max-rss');
    /** @param {string} key */
    const forget = (key) => {
      rmSync(join(cache, 'refused'), { recursive: true, force: true });
      for (const id of setups[key]?.ids ?? []) {
        const hex = id.replace(/^sha256:/, '');
        rmSync(join(cache, 'payloads', hex), { recursive: true, force: true });
        rmSync(join(cache, 'verified', `${hex}.json`), { force: true });
      }
    };
    /** One call; its seconds and peak RSS (MiB). @param {string} key */
    const runOnce = (key) => {
      const started = process.hrtime.bigint();
      const result = spawnSync(
        process.execPath,
        ['--require', join(root, 'scripts/bench-max-rss.cjs'), join(root, 'dist/shim/run-docker.js'), '--version'],
        {
          env: { ...hostEnv, RUN_DOCKER_MINI: setups[key]?.repository, BENCH_MAX_RSS_FILE: rssFile },
          stdio: ['ignore', 'pipe', 'pipe'],
          encoding: 'utf8',
        },
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (result.status !== 0 || !result.stdout.includes(`:${GOOD} (${GOOD}`))
        throw new Error(`"${key}" did not run the good mini (exit ${result.status}): ${result.stdout}${result.stderr}`);
      if (key !== 'none' && !/cannot be used/.test(result.stderr))
        throw new Error(`"${key}" refused nothing: ${result.stderr}`);
      return { seconds, peakMiB: Number(readFileSync(rssFile, 'utf8')) / 1024 };
    };

    /** @type {Record<string, { first: number[], later: number[], firstPeak: number[], laterPeak: number[] }>} */
    const samples = Object.fromEntries(
      shapeKeys.map((key) => [key, { first: [], later: [], firstPeak: [], laterPeak: [] }]),
    );
    // Warm-up: tiny and the good mini into the cache, and the page cache.
    for (const key of shapeKeys) runOnce(key);
    for (let round = 0; round < rounds; round++) {
      for (const key of shapeKeys) {
        const sample = /** @type {(typeof samples)[string]} */ (samples[key]);
        forget(key);
        const first = runOnce(key);
        const later = runOnce(key);
        sample.first.push(first.seconds);
        sample.firstPeak.push(first.peakMiB);
        sample.later.push(later.seconds);
        sample.laterPeak.push(later.peakMiB);
      }
    }

    const ms = (/** @type {number} */ seconds) => seconds * 1000;
    const normal = /** @type {(typeof samples)[string]} */ (samples.normal);
    const none = /** @type {(typeof samples)[string]} */ (samples.none);
    /** Paired within each round, then the median: the machine drifts within a run. @param {number[]} a @param {number[]} b */
    const paired = (a, b) => median(a.map((value, index) => ms(value - (b[index] ?? NaN))));
    const results = {
      date: new Date().toISOString(),
      rounds,
      shapes: Object.fromEntries(
        shapeKeys.map((key) => {
          const sample = /** @type {(typeof samples)[string]} */ (samples[key]);
          return [
            key,
            {
              label: SHAPES[key]?.label,
              firstMs: ms(median(sample.first)),
              laterMs: ms(median(sample.later)),
              firstOverNormalMs: paired(sample.first, normal.first),
              laterOverNormalMs: paired(sample.later, normal.later),
              laterOverNoneMs: paired(sample.later, none.later),
              peakMiB: Math.max(...sample.firstPeak, ...sample.laterPeak),
            },
          ];
        }),
      ),
      samples,
    };
    const width = Math.max(...shapeKeys.map((key) => (SHAPES[key]?.label ?? '').length));
    console.log(`\nrun-docker hostile-mini benchmark: medians of ${rounds} rounds (run-docker --local --version)\n`);
    console.log(
      `${'shape'.padEnd(width)}  ${['first', 'later', 'first−normal', 'later−normal', 'later−none', 'peak']
        .map((title) => title.padStart(13))
        .join('')}`,
    );
    for (const [key, row] of Object.entries(results.shapes)) {
      const cells = [row.firstMs, row.laterMs, row.firstOverNormalMs, row.laterOverNormalMs, row.laterOverNoneMs];
      console.log(
        `${(SHAPES[key]?.label ?? key).padEnd(width)}  ${cells.map((value) => `${value.toFixed(0)} ms`.padStart(13)).join('')}${`${row.peakMiB.toFixed(1)} MiB`.padStart(13)}`,
      );
    }
    console.log('\ntarget: peak ≤ 100 MiB; first − normal ≤ 500 ms; later − normal < 20 ms');
    if (jsonPath) {
      writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
      console.log(`\nJSON: ${jsonPath}`);
    }
  } finally {
    if (registry) spawnSync(join(root, 'scripts/registry'), ['stop', join(work, 'registry')]);
    if (images.length) spawnSync('docker', ['image', 'rm', '--force', ...images], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  }
}
