// @ts-check
// The benchmark proper; run it through scripts/benchmark, which provides the engine.
// Every scenario runs once to warm up, then all scenarios run interleaved, round after
// round, so that drift of the machine affects them alike. Reports medians and ratios.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildProjectImage,
  median,
  middleHalf,
  optionOf,
  pairedDifferences,
  pairedMedian,
  sh,
  splitShellWords,
  utcVersion,
} from './bench-setup.mjs';
import { loadBusyImages, removeBusyImages } from './bench-busy-host.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
if (args.includes('--hostile')) {
  // What hostile newest minis cost a call (scripts/benchmark-hostile.mjs).
  const { runHostileBenchmark } = await import('./benchmark-hostile.mjs');
  await runHostileBenchmark(root, args);
  process.exit(0);
}
if (args.includes('--far')) {
  // The far-registry mode is its own run (scripts/benchmark-far.mjs).
  const { runFarBenchmark } = await import('./benchmark-far.mjs');
  await runFarBenchmark(root, args);
  process.exit(0);
}
const option = optionOf(args);
const rounds = Number(option('--rounds', '7'));
// Instructions executed (valgrind's callgrind): unlike times, they do not move with the
// machine's load, so they show what a change to the shim's start-up is worth on any day.
const countInstructions = args.includes('--instructions');
const jsonPath = option('--json', undefined);
const TAG_COUNTS = [1000, 10000];
// Busy hosts (issue 24 item 1): s and node again with this many extra images on the engine,
// each count in turn. Opt-in: the images slow every image list on the engine while they
// are there, and the engine may be shared.
const BUSY_COUNTS = args.includes('--busy-host')
  ? (/^\d+(,\d+)*$/.test(option('--busy-host', '') ?? '') ? (option('--busy-host') ?? '') : '500,2000')
      .split(',')
      .map(Number)
  : [];

const work = mkdtempSync(join(tmpdir(), 'run-docker-bench-'));

/** @type {string | undefined} */
let registry;
/** @type {string[]} */
const images = [];
try {
  registry = sh(join(root, 'scripts/registry'), ['start', join(work, 'registry')]);
  sh(join(root, 'scripts/make-signing-key'), [join(work, 'keys')]);
  /** @param {'tiny' | 'mini'} kind @param {string} repo @param {string[]} keyArgs */
  const publish = (kind, repo, keyArgs) =>
    sh(join(root, 'scripts/publish'), [kind, '--repo', repo, '--no-build', ...keyArgs])
      .split('\n')
      .pop() ?? '';
  const tiny = publish('tiny', `${registry}/bench/tiny`, ['--trust-key', join(work, 'keys', 'signing-key.pub.pem')]);
  // An explicit version, so the mini image can be removed afterwards like the others.
  const miniVersion = utcVersion(new Date());
  publish('mini', `${registry}/bench/mini`, [
    '--signing-key',
    join(work, 'keys', 'signing-key.pem'),
    '--version',
    miniVersion,
  ]);
  images.push(
    tiny,
    `${registry}/bench/tiny:${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}`,
    `${registry}/bench/mini:${miniVersion}`,
  );
  // w. A host waiting for a staged mini (docs/releasing.md): the newest mini of its repository
  // is at 0% for a day, so the one before runs; a repository of its own, so that the other
  // scenarios' newest mini stays the one that runs.
  const staged = `${registry}/bench/mini-staged`;
  const stagedVersions = [utcVersion(new Date()), utcVersion(new Date(Date.now() + 1000))];
  publish('mini', staged, [
    '--signing-key',
    join(work, 'keys', 'signing-key.pem'),
    '--version',
    stagedVersions[0] ?? '',
  ]);
  publish('mini', staged, [
    '--signing-key',
    join(work, 'keys', 'signing-key.pem'),
    '--version',
    stagedVersions[1] ?? '',
    '--rollout',
    '0%,100%@1d',
  ]);
  images.push(...stagedVersions.map((version) => `${staged}:${version}`));
  // p. The first call on a host whose newest mini is not on the engine yet: a repository of
  // its own, removed from the engine before each of its runs, so that the call pulls it.
  const pulledMini = `${registry}/bench/mini-pulled`;
  const pulledVersion = utcVersion(new Date(Date.now() + 2000));
  publish('mini', pulledMini, ['--signing-key', join(work, 'keys', 'signing-key.pem'), '--version', pulledVersion]);
  images.push(`${pulledMini}:${pulledVersion}`);

  const app = `${registry}/bench/app`;
  buildProjectImage(join(work, 'image'), `${app}:1.0.0`);
  sh('docker', ['push', '--quiet', `${app}:1.0.0`]);
  images.push(`${app}:1.0.0`);

  const home = join(work, 'home');
  mkdirSync(home);
  // The CA file some machines name in NODE_EXTRA_CA_CERTS (this kind: the system bundle) is
  // parsed at every Node start: node -e 0 went from ~28 to 80-106 ms, with a spread that
  // drowned the differences the rows pair. It is the same for every Node scenario, and none
  // here speaks TLS (--far has its own CA), so it is left out; --keep-extra-ca-certs keeps it.
  const { NODE_EXTRA_CA_CERTS: extraCaCerts, ...inheritedEnv } = process.env;
  const hostEnv = {
    ...inheritedEnv,
    ...(args.includes('--keep-extra-ca-certs') && extraCaCerts ? { NODE_EXTRA_CA_CERTS: extraCaCerts } : {}),
    HOME: home,
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_CONFIG_HOME: join(home, '.config'),
    RUN_DOCKER_TINY: tiny,
    RUN_DOCKER_MINI: `${registry}/bench/mini`,
  };
  const shim = join(root, 'dist/shim/run-docker.js');
  const rssFile = join(work, 'max-rss');
  /** @param {string[]} argv @returns {[string, string[]]} */
  const shimCommand = (argv) => [
    process.execPath,
    ['--require', join(root, 'scripts/bench-max-rss.cjs'), shim, ...argv],
  ];
  // x. The docker command b hands over to, run as plain docker from here: the line --dry-run
  // prints (leading NAME=value words are its environment). b − x is what the wrapper costs;
  // x − a is what run-docker's options (mounts, user, name, labels) cost the engine and CLI.
  // --dry-run creates nothing; b creates these folders on its first run.
  for (const folder of ['data', 'log']) mkdirSync(join(home, 'work', folder), { recursive: true });
  const handedOver = splitShellWords(
    sh(process.execPath, [shim, '--local', '--dry-run', app, 'true'], {
      env: hostEnv,
    })
      .split('\n')
      .pop() ?? '',
  );
  const commandAt = handedOver.findIndex((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word));
  if (commandAt < 0) throw new Error(`--dry-run printed no command: ${handedOver.join(' ')}`);
  const handedOverEnv = Object.fromEntries(
    handedOver.slice(0, commandAt).map((word) => [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)]),
  );
  const handedOverArgv = handedOver.slice(commandAt);
  console.log(`x. ${handedOverArgv.join(' ')}`);
  /** Peak RSS of every run of a shim scenario (MiB): issue 24 asks for each.
   *  @type {Record<'b' | 'c' | 's' | 'd' | 'p', number[]>} */
  const peakRss = { b: [], c: [], s: [], d: [], p: [] };

  /** @typedef {'node' | 'a' | 'x' | 'b' | 'c' | 's' | 'floor' | 'w' | 'd' | 'p'} ScenarioKey */
  /** @typedef {{ label: string, run: () => [string, string[]], rss?: boolean, before?: () => void, env?: Record<string, string> }} Scenario */
  /** @type {Record<ScenarioKey, Scenario>} */
  const scenarios = {
    node: { label: "node -e 0 (Node's bare start)", run: () => [process.execPath, ['-e', '0']] },
    a: {
      label: 'a. docker run --rm --init IMG true',
      run: () => ['docker', ['run', '--rm', '--init', `${app}:1.0.0`, 'true']],
    },
    x: {
      label: "x. docker run with run-docker's own options (b's docker command, run from here)",
      run: () => [handedOverArgv[0] ?? 'docker', handedOverArgv.slice(1)],
      env: handedOverEnv,
    },
    b: {
      label: 'b. run-docker --local IMG true (warm cache)',
      run: () => shimCommand(['--local', app, 'true']),
      rss: true,
    },
    c: {
      label: 'c. run-docker IMG true (registry on 127.0.0.1)',
      run: () => shimCommand([app, 'true']),
      rss: true,
    },
    s: {
      // Everything the shim decides, without handing over to the docker CLI: its own cost,
      // free of docker run's variance (±50 ms between rounds here).
      label: 's. run-docker --local --dry-run IMG true (no docker CLI)',
      run: () => shimCommand(['--local', '--dry-run', app, 'true']),
      rss: true,
    },
    floor: {
      // What s cannot do without, none of its decisions (scripts/bench-floor.cjs): s − floor
      // is what the decisions cost, floor − node what the three layers and one engine round do.
      label: 'floor. compile the three layers from their code caches, ask the engine twice (no decisions)',
      run: () => [
        process.execPath,
        [
          join(root, 'scripts/bench-floor.cjs'),
          shim,
          join(home, '.cache', 'run-docker'),
          tiny,
          process.env.DOCKER_HOST?.startsWith('unix://')
            ? process.env.DOCKER_HOST.slice('unix://'.length)
            : '/var/run/docker.sock',
        ],
      ],
    },
    w: {
      // As s, on a host that passes over a staged mini that has not reached it yet.
      label: 'w. as s, waiting for a staged mini (docs/releasing.md)',
      run: () => shimCommand(['--local', '--dry-run', app, 'true']),
      // A cache of its own: its mini repository differs from the one b, c and s share.
      env: { RUN_DOCKER_MINI: staged, XDG_CACHE_HOME: join(home, '.cache-w') },
    },
    d: {
      label: 'd. run-docker --local IMG true, cold payload cache',
      // A cache of its own, emptied before each run: emptying the one b, c and s share would
      // leave each round's b, c and s on a cache only one call old (no code caches yet, the
      // image index not yet trusted), which is not the warm call they measure.
      before: () => rmSync(join(home, '.cache-d'), { recursive: true, force: true }),
      run: () => shimCommand(['--local', app, 'true']),
      env: { XDG_CACHE_HOME: join(home, '.cache-d') },
      rss: true,
    },
    p: {
      label: 'p. run-docker IMG true, cold payload cache, the mini pulled (its own phase)',
      before: () => {
        rmSync(join(home, '.cache-p'), { recursive: true, force: true });
        sh('docker', ['image', 'rm', `${pulledMini}:${pulledVersion}`]);
      },
      run: () => shimCommand([app, 'true']),
      rss: true,
      env: { RUN_DOCKER_MINI: pulledMini, XDG_CACHE_HOME: join(home, '.cache-p') },
    },
  };
  // p runs in a phase of its own after the rounds: its removals and pulls are image events,
  // after which the next call of every other scenario would list every image (no index).
  const scenarioKeys = /** @type {ScenarioKey[]} */ (Object.keys(scenarios).filter((key) => key !== 'p'));
  /** @type {Record<ScenarioKey, number[]>} */
  const timings = { node: [], a: [], x: [], b: [], c: [], s: [], floor: [], w: [], d: [], p: [] };
  /** @param {ScenarioKey} key @param {boolean} [recordRss] */
  const runOnce = (key, recordRss = true) => {
    const scenario = scenarios[key];
    scenario.before?.();
    const [file, argv] = scenario.run();
    const started = process.hrtime.bigint();
    const result = spawnSync(file, argv, {
      env: { ...hostEnv, ...scenario.env, BENCH_MAX_RSS_FILE: rssFile },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.status !== 0) throw new Error(`${scenario.label} failed (exit ${result.status}): ${result.stderr}`);
    if (scenario.rss && recordRss)
      peakRss[/** @type {keyof typeof peakRss} */ (key)].push(Number(readFileSync(rssFile, 'utf8')) / 1024);
    return seconds;
  };
  for (const key of scenarioKeys) runOnce(key); // warm-up: pulls, caches, page cache
  for (let round = 0; round < rounds; round++) {
    for (const key of scenarioKeys) timings[key].push(runOnce(key));
  }

  /** s and node, interleaved, with each count of extra images on the engine.
   *  @type {Record<number, { node: number[], s: number[] }>} */
  const busyTimings = {};
  // 0 first: the same phase without extra images, the figure each count is compared with.
  for (const count of BUSY_COUNTS.length ? [0, ...BUSY_COUNTS] : []) {
    const names =
      count === 0
        ? []
        : loadBusyImages(
            join(work, `busy-${count}`, 'images'),
            `run-docker-bench-busy-${process.pid}-${count}/img`,
            count,
          );
    try {
      runOnce('s', false); // warm-up
      busyTimings[count] = { node: [], s: [] };
      for (let round = 0; round < rounds; round++) {
        busyTimings[count].node.push(runOnce('node', false));
        busyTimings[count].s.push(runOnce('s', false));
      }
    } finally {
      removeBusyImages(names);
    }
  }

  // s and node again, as instructions executed (3 runs each, the median).
  /** @type {Record<'node' | 's' | 'w', number>} */
  const instructions = { node: NaN, s: NaN, w: NaN };
  if (countInstructions) {
    // Without NODE_EXTRA_CA_CERTS even with --keep-extra-ca-certs: parsing it is ~400 M
    // instructions here, the same for both, and it would drown the difference.
    const { NODE_EXTRA_CA_CERTS: _unused, ...quietEnv } = /** @type {NodeJS.ProcessEnv} */ (hostEnv);
    for (const key of /** @type {const} */ (['node', 's', 'w'])) {
      const [file, argv] = scenarios[key].run();
      /** @type {number[]} */
      const counts = [];
      for (let run = 0; run < 3; run++) {
        const result = spawnSync(
          'valgrind',
          ['--tool=callgrind', '--callgrind-out-file=/dev/null', '--smc-check=all-non-file', file, ...argv],
          {
            env: { ...quietEnv, ...scenarios[key].env, BENCH_MAX_RSS_FILE: rssFile },
            encoding: 'utf8',
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        const collected = /Collected : (\d+)/.exec(result.stderr ?? '');
        if (result.status !== 0 || !collected)
          throw new Error(
            `valgrind could not count ${scenarios[key].label} (is valgrind installed?): ${result.error?.message ?? result.stderr}`,
          );
        counts.push(Number(collected[1]));
      }
      instructions[key] = median(counts);
    }
  }

  // p with a, interleaved, last of the engine's scenarios: the other minis are removed first,
  // so that no image on the engine shares the pulled mini's payload layer (the same build
  // publishes the same layer) and each p pulls it, as a host meeting a new mini does. The
  // mini is on the engine after the warm-up's pull and removed before each run.
  spawnSync(
    'docker',
    [
      'image',
      'rm',
      '--force',
      `${registry}/bench/mini:${miniVersion}`,
      ...stagedVersions.map((version) => `${staged}:${version}`),
    ],
    { stdio: 'ignore' },
  );
  /** @type {number[]} */
  const pulledA = [];
  runOnce('p', false);
  for (let round = 0; round < rounds; round++) {
    pulledA.push(runOnce('a', false));
    timings.p.push(runOnce('p'));
  }

  // e. The newest tag among many, through the tiny payload's locator as the shim calls it.
  /** @type {Record<number, number[]>} */
  const tagTimings = {};
  /** @type {import('../contract/contract.js').LocatorModule} */
  const locate = createRequire(import.meta.url)(join(root, 'dist/payload/tiny/locate.js'));
  /** @type {typeof import('../common/publish-support.js')} */
  const { connectEngine } = createRequire(import.meta.url)(join(root, 'dist/publish-support.js'));
  const { contract } = /** @type {{ contract: number }} */ (
    JSON.parse(readFileSync(join(root, 'dist/build-info.json'), 'utf8'))
  );
  const engine = await connectEngine(hostEnv, hostEnv.HOME);
  /** @type {import('../contract/contract.js').BaseContext} */
  const ctx = {
    contract,
    shimVersion: '0.0.0',
    local: false,
    env: hostEnv,
    log: { warn: (line) => console.error(line), debug: () => {} },
    engine,
  };
  const manifestType = 'application/vnd.docker.distribution.manifest.v2+json';
  const manifest = await (
    await fetch(`http://${registry}/v2/bench/app/manifests/1.0.0`, { headers: { accept: manifestType } })
  ).text();
  for (const count of TAG_COUNTS) {
    const repo = `bench/tags-${count}`;
    // Its blobs must be in that repository before manifests can name them.
    sh('docker', ['tag', `${app}:1.0.0`, `${registry}/${repo}:seed`]);
    sh('docker', ['push', '--quiet', `${registry}/${repo}:seed`]);
    images.push(`${registry}/${repo}:seed`);
    const tags = Array.from(
      { length: count },
      (_, i) =>
        // Real moments (docs/tags.md): the i-th second of a day, on one of 12 × 28 days.
        `2025${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}-${[i / 3600, (i / 60) % 60, i % 60].map((part) => String(Math.floor(part)).padStart(2, '0')).join('')}`,
    );
    for (let i = 0; i < tags.length; i += 32) {
      await Promise.all(
        tags.slice(i, i + 32).map(async (tag) => {
          const response = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, {
            method: 'PUT',
            headers: { 'content-type': manifestType },
            body: manifest,
          });
          if (response.status !== 201) throw new Error(`tagging ${repo}:${tag} answered ${response.status}`);
        }),
      );
    }
    /** @type {number[]} */
    const samples = [];
    tagTimings[count] = samples;
    for (let round = 0; round < rounds; round++) {
      const started = process.hrtime.bigint();
      const newest = await locate.findNewestTag(ctx, `${registry}/${repo}`);
      samples.push(Number(process.hrtime.bigint() - started) / 1e9);
      if (newest.tag !== tags.slice().sort().pop()) throw new Error(`wrong newest tag for ${repo}: ${newest.tag}`);
    }
  }

  const allKeys = /** @type {ScenarioKey[]} */ ([...scenarioKeys, 'p']);
  const m = /** @type {Record<ScenarioKey, number>} */ (
    Object.fromEntries(allKeys.map((key) => [key, median(timings[key])]))
  );
  /** Each paired row's differences, round by round (ms): scenarios of one round drift alike. */
  const pairedMs = Object.fromEntries(
    Object.entries({
      // b and a ran back to back in each round: steadier than the medians' difference.
      paired_b_minus_a_minus_node: [timings.b, timings.a, timings.node],
      // The wrapper alone: b less the very docker command it runs, and Node's start.
      paired_b_minus_x_minus_node: [timings.b, timings.x, timings.node],
      // What run-docker's options cost docker run itself (not the wrapper).
      paired_x_minus_a: [timings.x, timings.a],
      // After the dry-run point: handing over to the CLI, waiting, and the exit.
      paired_b_minus_x_minus_s: [timings.b, timings.x, timings.s],
      paired_floor_minus_node: [timings.floor, timings.node],
      paired_s_minus_floor: [timings.s, timings.floor],
      // What waiting for a staged mini adds to a call.
      paired_w_minus_s: [timings.w, timings.s],
      // The machine's drift over a run moves node and s alike.
      paired_s_minus_node: [timings.s, timings.node],
    }).map(([key, [samples = [], ...others]]) => [
      key,
      pairedDifferences(samples, ...others).map((seconds) => seconds * 1000),
    ]),
  );
  const results = {
    date: new Date().toISOString(),
    rounds,
    medianSeconds: m,
    ratios: { b_over_a: m.b / m.a, c_over_a: m.c / m.a },
    dMinusASeconds: m.d - m.a,
    // Paired with a run of a just before it, in p's own phase.
    pairedPMinusASeconds: pairedMedian(timings.p, pulledA),
    overheadMs: {
      b_minus_a_minus_node: (m.b - m.a - m.node) * 1000,
      c_minus_a_minus_node: (m.c - m.a - m.node) * 1000,
      s_minus_node: (m.s - m.node) * 1000,
      w_minus_s: (m.w - m.s) * 1000,
      ...Object.fromEntries(Object.entries(pairedMs).map(([key, values]) => [key, median(values)])),
    },
    /** The middle half of each paired row (first and third quartiles, ms): how far its median can be trusted. */
    pairedMiddleHalfMs: Object.fromEntries(Object.entries(pairedMs).map(([key, values]) => [key, middleHalf(values)])),
    /** Extra images → s − node paired per round (ms), with that many images more on the engine. */
    busyHostPairedSMinusNodeMs: Object.fromEntries(
      Object.entries(busyTimings).map(([count, { node, s }]) => [count, pairedMedian(s, node) * 1000]),
    ),
    newestTagSeconds: Object.fromEntries(Object.entries(tagTimings).map(([count, values]) => [count, median(values)])),
    shimPeakRssMiB: { local: Math.max(...peakRss.b), registry: Math.max(...peakRss.c) },
    peakRssMiB: {
      b: Math.max(...peakRss.b),
      c: Math.max(...peakRss.c),
      s: Math.max(...peakRss.s),
      d: Math.max(...peakRss.d),
      p: Math.max(...peakRss.p),
    },
    ...(countInstructions ? { instructions } : {}),
    samples: { ...timings, tags: tagTimings },
  };
  /** A paired row: its median, and its middle half to show how far that median can be trusted.
   *  @param {string} key */
  const pairedText = (key) => {
    const values = pairedMs[key] ?? [];
    const [low, high] = middleHalf(values);
    return `${median(values).toFixed(0)} ms (middle half ${low.toFixed(0)} to ${high.toFixed(0)})`;
  };
  /** @param {number | undefined} seconds */
  const ms = (seconds) => `${((seconds ?? NaN) * 1000).toFixed(0)} ms`;
  /** @type {[string, string][]} */
  const rows = [
    ...allKeys.map((key) => /** @type {[string, string]} */ ([scenarios[key].label, ms(m[key])])),
    ['b / a (target ≤ 1.35)', results.ratios.b_over_a.toFixed(2)],
    ['c / a (target ≤ 1.45)', results.ratios.c_over_a.toFixed(2)],
    ['d − a (target ≤ 500 ms)', ms(results.dMinusASeconds)],
    ['p − a, paired (the first call, the mini pulled)', ms(results.pairedPMinusASeconds)],
    ['b − a − node start (goal ≤ 30 ms)', `${results.overheadMs.b_minus_a_minus_node.toFixed(0)} ms`],
    ['c − a − node start', `${results.overheadMs.c_minus_a_minus_node.toFixed(0)} ms`],
    ['b − a − node, paired per round', pairedText('paired_b_minus_a_minus_node')],
    ["x − a, paired (what run-docker's options cost docker run)", pairedText('paired_x_minus_a')],
    ['b − x − node, paired (the wrapper, goal ≤ 30 ms)', pairedText('paired_b_minus_x_minus_node')],
    ['b − x − s, paired (after the dry-run point)', pairedText('paired_b_minus_x_minus_s')],
    ['s − node start (the shim alone)', `${results.overheadMs.s_minus_node.toFixed(0)} ms`],
    ['s − node, paired per round (goal ≤ 15 ms)', pairedText('paired_s_minus_node')],
    ['floor − node, paired (the three layers and one engine round)', pairedText('paired_floor_minus_node')],
    ['s − floor, paired (the decisions)', pairedText('paired_s_minus_floor')],
    ['w − s, paired per round (a host waiting for a rollout)', pairedText('paired_w_minus_s')],
    ...(BUSY_COUNTS.length ? BUSY_COUNTS : [500, 2000]).map((count) => {
      const busy = /** @type {Record<string, number>} */ (results.busyHostPairedSMinusNodeMs)[count];
      const growth = (busy ?? NaN) - (results.busyHostPairedSMinusNodeMs[0] ?? NaN);
      return /** @type {[string, string]} */ ([
        `s − node, paired, ${count} more images (goal ≤ +5 ms over none, same phase)`,
        busy === undefined
          ? 'not run: --busy-host'
          : `${busy.toFixed(0)} ms (${growth >= 0 ? '+' : ''}${growth.toFixed(0)})`,
      ]);
    }),
    ...TAG_COUNTS.map(
      (count) =>
        /** @type {[string, string]} */ ([
          `e. newest of ${count} tags (target ≤ 1.5 s at 10,000)`,
          ms(results.newestTagSeconds[count]),
        ]),
    ),
    [
      'f. shim peak RSS, b / c / s / d / p (goal ≤ 60 MiB)',
      `${/** @type {const} */ (['b', 'c', 's', 'd', 'p']).map((key) => results.peakRssMiB[key].toFixed(1)).join(' / ')} MiB`,
    ],
    ...(countInstructions
      ? /** @type {[string, string][]} */ ([
          [
            'instructions: node -e 0 / s',
            `${(instructions.node / 1e6).toFixed(0)} M / ${(instructions.s / 1e6).toFixed(0)} M`,
          ],
          ['instructions: s − node (the shim alone)', `${((instructions.s - instructions.node) / 1e6).toFixed(0)} M`],
          ['instructions: w − s (waiting for a rollout)', `${((instructions.w - instructions.s) / 1e6).toFixed(0)} M`],
        ])
      : []),
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  console.log(`\nrun-docker benchmark: medians of ${rounds} interleaved rounds\n`);
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value.padStart(valueWidth)}`);
  if (jsonPath) {
    writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nJSON: ${jsonPath}`);
  }
} finally {
  if (registry) spawnSync(join(root, 'scripts/registry'), ['stop', join(work, 'registry')]);
  if (images.length) spawnSync('docker', ['image', 'rm', '--force', ...images], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
