// @ts-check
// The single executable against the JS shim (docs/performance.md, "The single executable"):
//   npm run build && scripts/with-engine node scripts/benchmark-sea.mjs [--rounds N] [--json PATH]
// Builds the executable with and without useCodeCache (scripts/build-sea), then times, in
// one interleaved run on this machine, `--version` and `--dry-run --local IMG true` of:
// the JS shim on this machine's Node.js, the JS shim on the executable's own Node.js (so
// the Node.js version and the packaging can be told apart), and both executables.
// Reports sizes, medians and ratios to the JS shim on this machine's Node.js: of the wall
// time, and (with perf installed) of the CPU time of all threads (perf stat's task-clock),
// which a loaded machine disturbs far less than the wall time.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProjectImage, median, optionOf, sh } from './bench-setup.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const option = optionOf(process.argv.slice(2));
const rounds = Number(option('--rounds', '15'));
const jsonPath = option('--json', undefined);

const work = mkdtempSync(join(tmpdir(), 'run-docker-bench-sea-'));
const app = `run-docker-bench/sea-${process.pid}/app`;
let imageBuilt = false;
try {
  const shim = join(root, 'dist/shim/run-docker.js');
  const seaCached = sh(join(root, 'scripts/build-sea'), ['--output', join(work, 'sea-code-cache')]);
  const seaPlain = sh(join(root, 'scripts/build-sea'), [
    '--no-code-cache',
    '--output',
    join(work, 'sea-no-code-cache'),
  ]);
  const nodeVersion = /^readonly NODE_VERSION=(\S+)$/m.exec(readFileSync(join(root, 'scripts/build-sea'), 'utf8'))?.[1];
  if (nodeVersion === undefined) throw new Error('scripts/build-sea has no line `readonly NODE_VERSION=…`');
  const seaNode = sh(join(root, 'scripts/fetch-node'), [nodeVersion]);
  buildProjectImage(join(work, 'image'), `${app}:1.0.0`);
  imageBuilt = true;

  // A host with nothing configured: the built-in payload answers, no registry is asked.
  const home = join(work, 'home');
  mkdirSync(home);
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
  };

  /** @typedef {'js' | 'jsSeaNode' | 'sea' | 'seaPlain'} VariantKey */
  /** @typedef {'version' | 'dryRun'} CallKey */
  /** @type {Record<VariantKey, { label: string, command: (argv: string[]) => [string, string[]] }>} */
  const variants = {
    js: {
      label: `JS shim, machine's Node.js ${process.version}`,
      command: (argv) => [process.execPath, [shim, ...argv]],
    },
    jsSeaNode: {
      label: `JS shim, Node.js v${sh(seaNode, ['-p', 'process.versions.node'])} (the SEA's)`,
      command: (argv) => [seaNode, [shim, ...argv]],
    },
    sea: { label: 'single executable, useCodeCache', command: (argv) => [seaCached, argv] },
    seaPlain: { label: 'single executable, no code cache', command: (argv) => [seaPlain, argv] },
  };
  /** @type {Record<CallKey, string[]>} */
  const calls = { version: ['--version'], dryRun: ['--dry-run', '--local', app, 'true'] };
  const perf = spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', '--', 'true'], { stdio: 'ignore' }).status === 0;
  const perfFile = join(work, 'perf.csv');
  /** @type {Record<string, number[]>} */
  const timings = {};
  /** @type {Record<string, number[]>} */
  const cpuTimings = {};
  /** @param {VariantKey} variant @param {CallKey} call */
  const runOnce = (variant, call) => {
    const [file, argv] = variants[variant].command(calls[call]);
    /** @type {[string, string[]]} */
    const [command, commandArgs] = perf
      ? ['perf', ['stat', '-x,', '-e', 'task-clock', '-o', perfFile, '--', file, ...argv]]
      : [file, argv];
    const started = process.hrtime.bigint();
    const result = spawnSync(command, commandArgs, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.status !== 0)
      throw new Error(
        `${variants[variant].label} ${calls[call].join(' ')} failed (exit ${result.status}): ${result.stderr}`,
      );
    // perf's CSV line: "<msec>,msec,task-clock,…".
    const taskClock = perf ? /^([\d.]+),msec,task-clock/m.exec(readFileSync(perfFile, 'utf8'))?.[1] : undefined;
    if (perf && taskClock === undefined) throw new Error(`perf wrote no task-clock line to ${perfFile}`);
    const cpuSeconds = taskClock === undefined ? undefined : Number(taskClock) / 1000;
    return { seconds, cpuSeconds };
  };
  const variantKeys = /** @type {VariantKey[]} */ (Object.keys(variants));
  const callKeys = /** @type {CallKey[]} */ (Object.keys(calls));
  const pairs = variantKeys.flatMap((variant) => callKeys.map((call) => /** @type {const} */ ([variant, call])));
  for (const [variant, call] of pairs) runOnce(variant, call); // warm-up: page cache, payload cache
  for (let round = 0; round < rounds; round++) {
    for (const [variant, call] of pairs) {
      const { seconds, cpuSeconds } = runOnce(variant, call);
      (timings[`${variant}.${call}`] ??= []).push(seconds);
      if (cpuSeconds !== undefined) (cpuTimings[`${variant}.${call}`] ??= []).push(cpuSeconds);
    }
  }

  /** @param {Record<string, number[]>} samples @returns {Record<string, number>} */
  const medians = (samples) =>
    Object.fromEntries(Object.entries(samples).map(([key, values]) => [key, median(values)]));
  /** @param {Record<string, number>} m @returns {Record<string, number>} */
  const ratios = (m) =>
    Object.fromEntries(Object.keys(m).map((key) => [key, (m[key] ?? NaN) / (m[`js.${key.split('.')[1]}`] ?? NaN)]));
  const m = medians(timings);
  const cpu = perf ? medians(cpuTimings) : undefined;
  const sizes = { js: statSync(shim).size, sea: statSync(seaCached).size, seaPlain: statSync(seaPlain).size };
  const results = {
    date: new Date().toISOString(),
    rounds,
    sizes,
    medianSeconds: m,
    ratiosToJs: ratios(m),
    ...(cpu ? { medianCpuSeconds: cpu, cpuRatiosToJs: ratios(cpu) } : {}),
    samples: timings,
    ...(cpu ? { cpuSamples: cpuTimings } : {}),
  };
  /** @param {number | undefined} seconds */
  const ms = (seconds = NaN) => `${(seconds * 1000).toFixed(0)} ms`;
  const width = Math.max(...Object.values(variants).map(({ label }) => label.length));
  /** @param {string} title @param {Record<string, number>} m @param {Record<string, number>} r */
  const table = (title, m, r) => {
    console.log(
      `\n${title}\n${'variant'.padEnd(width)}  ${'--version'.padStart(16)}  ${'--dry-run --local'.padStart(18)}`,
    );
    for (const [key, { label }] of Object.entries(variants)) {
      /** @param {CallKey} call */
      const cell = (call) => `${ms(m[`${key}.${call}`])} (${(r[`${key}.${call}`] ?? NaN).toFixed(2)}×)`;
      console.log(`${label.padEnd(width)}  ${cell('version').padStart(16)}  ${cell('dryRun').padStart(18)}`);
    }
  };
  console.log(`\nrun-docker single executable: medians of ${rounds} interleaved rounds`);
  table('wall time', m, results.ratiosToJs);
  if (cpu) table('CPU time, all threads (perf task-clock)', cpu, ratios(cpu));
  console.log(
    `\nsizes: JS shim ${sizes.js} bytes; executable ${sizes.sea} bytes (${(sizes.sea / sizes.js).toFixed(0)}×), without code cache ${sizes.seaPlain} bytes`,
  );
  if (jsonPath) {
    writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`JSON: ${jsonPath}`);
  }
} finally {
  if (imageBuilt) spawnSync('docker', ['image', 'rm', '--force', `${app}:1.0.0`], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
