// The far-registry benchmark (scripts/benchmark --far [--rtt-ms 50] [--handshake-rtts 1]
// [--rounds N] [--json PATH]): run-docker against a registry RTT away that wants Bearer
// tokens (scripts/far-registry.cjs in front of the local test registry), as GHCR, Docker
// Hub, GitLab or Harbor are for real teams. Every image lives under the proxy's address
// and reached the engine through it (dockerd does the token flow itself).
//
// Scenarios run once to warm up, then interleaved round after round; medians, ratios, and
// the cost of a registry call in round trips. The proxy counts every request, so the
// requests and connections per call are exact; the times are not (a shared 2-core machine).
import { execFile, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProjectImage, median, optionOf, sh, utcVersion } from './bench-setup.mjs';

const { startFarRegistry, diffCounts, measureConversation, KINDS } = createRequire(import.meta.url)('./far-registry.cjs');

// Anything that reaches the proxy runs asynchronously: the proxy shares this event loop.
const shAsync = async (file, argv) => (await promisify(execFile)(file, argv, { encoding: 'utf8' })).stdout.trim();

/** Runs FILE ARGV to its end; resolves to { status, stderr }. */
function runToEnd(file, argv, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

/** Deletes every file or folder under DIR whose name says "token": wherever a token cache is kept. */
function removeTokenCaches(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (/token/i.test(entry.name)) rmSync(path, { recursive: true, force: true });
    else if (entry.isDirectory()) removeTokenCaches(path);
  }
}

export async function runFarBenchmark(root, args) {
  const option = optionOf(args);
  const rounds = Number(option('--rounds', '7'));
  const rttMs = Number(option('--rtt-ms', '50'));
  const handshakeRtts = Number(option('--handshake-rtts', '1'));
  const jsonPath = option('--json', undefined);
  if (!(rounds >= 1 && rttMs > 0 && handshakeRtts >= 0)) throw new Error('--rounds ≥ 1, --rtt-ms > 0 and --handshake-rtts ≥ 0, please');

  const work = mkdtempSync(join(tmpdir(), 'run-docker-bench-far-'));
  let registry;
  let far;
  const images = [];
  try {
    registry = sh(join(root, 'scripts/registry'), ['start', join(work, 'registry')]);
    far = await startFarRegistry({ upstream: registry, rttMs, handshakeRtts });

    // Published to the registry directly (pushing through a far proxy only costs time),
    // then pulled by the engine through the proxy: what the runs use is the far name.
    sh(join(root, 'scripts/make-signing-key'), [join(work, 'keys')]);
    const publish = (kind, keyArgs) =>
      sh(join(root, 'scripts/publish'), [kind, '--repo', `${registry}/bench/${kind}`, '--no-build', ...keyArgs]).split('\n').pop();
    const tinyVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
    const miniVersion = utcVersion(new Date());
    const tinyDirect = publish('tiny', ['--trust-key', join(work, 'keys', 'signing-key.pub.pem')]);
    publish('mini', ['--signing-key', join(work, 'keys', 'signing-key.pem'), '--version', miniVersion]);
    images.push(tinyDirect, `${registry}/bench/tiny:${tinyVersion}`, `${registry}/bench/mini:${miniVersion}`);
    buildProjectImage(join(work, 'image'), `${registry}/bench/app:1.0.0`);
    sh('docker', ['push', '--quiet', `${registry}/bench/app:1.0.0`]);
    images.push(`${registry}/bench/app:1.0.0`);

    const tiny = tinyDirect.replace(registry, far.address);
    const mini = `${far.address}/bench/mini`;
    const app = `${far.address}/bench/app`;
    for (const reference of [tiny, `${mini}:${miniVersion}`, `${app}:1.0.0`]) {
      await shAsync('docker', ['pull', '--quiet', reference]);
      images.push(reference);
    }
    const enginePull = far.requests();
    far.reset();

    const warmHome = join(work, 'home');
    const hostEnv = (home) => ({
      ...process.env,
      HOME: home,
      XDG_CACHE_HOME: join(home, '.cache'),
      XDG_CONFIG_HOME: join(home, '.config'),
      RUN_DOCKER_TINY: tiny,
      RUN_DOCKER_MINI: mini,
    });
    const shim = join(root, 'dist/shim/run-docker.js');
    /** A fresh host folder (HOME, its cache and config) for one cold call. */
    let coldCount = 0;
    const freshHome = () => {
      const home = join(work, `cold-${coldCount++}`);
      mkdirSync(home);
      return home;
    };
    const tokenColdHome = join(work, 'token-cold');

    const scenarios = {
      a: { label: 'a. docker run --rm --init IMG true', run: () => ['docker', ['run', '--rm', '--init', `${app}:1.0.0`, 'true']], home: () => warmHome },
      b: { label: 'b. run-docker --local IMG true (warm)', run: () => [process.execPath, [shim, '--local', app, 'true']], home: () => warmHome },
      c: { label: 'c. run-docker IMG true (warm)', run: () => [process.execPath, [shim, app, 'true']], home: () => warmHome },
      t: {
        // The payload cache warm, whatever a token cache keeps gone (files named *token*
        // anywhere in the host folder): separates tokens from payload extraction.
        label: 't. run-docker IMG true (warm payloads, no token cache)',
        run: () => [process.execPath, [shim, app, 'true']],
        home: () => {
          rmSync(tokenColdHome, { recursive: true, force: true });
          cpSync(warmHome, tokenColdHome, { recursive: true });
          removeTokenCaches(tokenColdHome);
          return tokenColdHome;
        },
      },
      d: { label: 'd. run-docker --local IMG true (fresh host folder)', run: () => [process.execPath, [shim, '--local', app, 'true']], home: freshHome },
      e: { label: 'e. run-docker IMG true (fresh host folder: cold)', run: () => [process.execPath, [shim, app, 'true']], home: freshHome },
    };
    mkdirSync(warmHome);
    const timings = Object.fromEntries(Object.keys(scenarios).map((key) => [key, []]));
    const counts = Object.fromEntries(Object.keys(scenarios).map((key) => [key, []]));
    const conversations = Object.fromEntries(Object.keys(scenarios).map((key) => [key, []]));
    const requestLists = {};
    const runOnce = async (key) => {
      const scenario = scenarios[key];
      const home = scenario.home();
      const [file, argv] = scenario.run();
      const before = far.counts();
      const logged = far.requests().length;
      const since = Date.now();
      const started = process.hrtime.bigint();
      const result = await runToEnd(file, argv, hostEnv(home));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (result.status !== 0) throw new Error(`${scenario.label} failed (exit ${result.status}): ${result.stderr}`);
      counts[key].push(diffCounts(far.counts(), before));
      requestLists[key] = far.requests().slice(logged);
      conversations[key].push(measureConversation(requestLists[key], since));
      return seconds;
    };
    for (const key of Object.keys(scenarios)) await runOnce(key); // warm-up: caches, page cache
    for (const key of Object.keys(scenarios)) {
      counts[key] = [];
      conversations[key] = [];
    }
    for (let round = 0; round < rounds; round++) {
      for (const key of Object.keys(scenarios)) timings[key].push(await runOnce(key));
    }

    const m = Object.fromEntries(Object.entries(timings).map(([key, values]) => [key, median(values)]));
    const rtt = rttMs / 1000;
    const paired = (x, y) => median(timings[x].map((value, i) => value - timings[y][i]));
    /** The counts of every round, if they were all alike; otherwise the smallest and largest total. */
    const perCall = Object.fromEntries(
      Object.entries(counts).map(([key, list]) => {
        const same = list.every((c) => JSON.stringify(c) === JSON.stringify(list[0]));
        const totals = list.map((c) => KINDS.reduce((sum, kind) => sum + c[kind], 0));
        return [key, { ...list[0], requests: totals[0], varies: same ? undefined : `${Math.min(...totals)}–${Math.max(...totals)} requests` }];
      }),
    );
    const results = {
      date: new Date().toISOString(),
      rounds,
      rttMs,
      handshakeRtts,
      medianSeconds: m,
      ratiosOverDockerRun: Object.fromEntries(Object.keys(scenarios).filter((key) => key !== 'a').map((key) => [key, m[key] / m.a])),
      extraRtts: {
        warm_c_minus_b: (m.c - m.b) / rtt,
        warm_c_minus_b_paired: paired('c', 'b') / rtt,
        noTokenCache_t_minus_b_paired: paired('t', 'b') / rtt,
        cold_e_minus_d_paired: paired('e', 'd') / rtt,
      },
      // The registry conversation as the proxy timed it, medians: far steadier than the
      // end-to-end times on a loaded machine (see measureConversation).
      waitedRtts: Object.fromEntries(Object.entries(conversations).map(([key, list]) => [key, median(list.map((c) => c.waitedMs)) / rttMs])),
      spanRtts: Object.fromEntries(Object.entries(conversations).map(([key, list]) => [key, median(list.map((c) => c.spanMs)) / rttMs])),
      // What the requests would cost one after the other: one RTT each, plus the handshakes.
      countedRtts: Object.fromEntries(Object.entries(perCall).map(([key, c]) => [key, c.requests + c.connections * handshakeRtts])),
      perCall,
      requestLists,
      enginePull,
      samples: timings,
      conversationSamplesMs: conversations,
    };

    const ms = (seconds) => `${(seconds * 1000).toFixed(0)} ms`;
    const rows = [
      ...Object.entries(scenarios).map(([key, scenario]) => [
        scenario.label,
        `${ms(m[key])}${key === 'a' ? '' : ` (${results.ratiosOverDockerRun[key].toFixed(2)}×a)`}`,
        `${perCall[key].requests} req, ${perCall[key].connections} conn${perCall[key].varies ? ` (varies: ${perCall[key].varies})` : ''}`,
      ]),
      ...['c', 't', 'e'].map((key) => [
        `${key}: waiting on the registry (proxy-timed)`,
        `${results.waitedRtts[key].toFixed(1)} RTT`,
        `counted ${results.countedRtts[key]} (requests + handshakes); first request to last answer ${results.spanRtts[key].toFixed(1)} RTT`,
      ]),
      ['c − b: registry call over --local, warm', `${results.extraRtts.warm_c_minus_b.toFixed(1)} RTT`, `paired per round ${results.extraRtts.warm_c_minus_b_paired.toFixed(1)} RTT`],
      ['t − b: no token cache, paired', `${results.extraRtts.noTokenCache_t_minus_b_paired.toFixed(1)} RTT`, ''],
      ['e − d: cold, paired', `${results.extraRtts.cold_e_minus_d_paired.toFixed(1)} RTT`, ''],
    ];
    const widths = [0, 1].map((i) => Math.max(...rows.map((row) => row[i].length)));
    console.log(`\nrun-docker far-registry benchmark: RTT ${rttMs} ms, ${handshakeRtts} RTT per new connection, medians of ${rounds} interleaved rounds\n`);
    for (const [label, value, extra] of rows) console.log(`${label.padEnd(widths[0])}  ${value.padStart(widths[1])}  ${extra}`);
    console.log(`\nrequests per call (${KINDS.join(', ')}, connections):`);
    for (const [key, c] of Object.entries(perCall)) console.log(`  ${key}: ${[...KINDS, 'connections'].map((kind) => `${kind} ${c[kind]}`).join(', ')}`);
    for (const key of ['c', 'e']) {
      console.log(`\nwhat one call of ${key} sent (ms from its first request, #connection within the call: request → status):`);
      const first = Math.min(...requestLists[key].map((r) => r.connection));
      const t0 = Math.min(...requestLists[key].map((r) => r.arrivedAt));
      for (const r of requestLists[key]) {
        console.log(`  +${String(r.arrivedAt - t0).padStart(4)} ms #${r.connection - first + 1} ${r.method} ${r.path} → ${r.status} (+${r.finishedAt - t0} ms)`);
      }
    }
    if (jsonPath) {
      writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
      console.log(`\nJSON: ${jsonPath}`);
    }
  } finally {
    if (far) await far.close();
    if (registry) spawnSync(join(root, 'scripts/registry'), ['stop', join(work, 'registry')]);
    if (images.length) spawnSync('docker', ['image', 'rm', '--force', ...images], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  }
}
