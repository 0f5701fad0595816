// @ts-check
// The far-registry benchmark (scripts/benchmark --far [--rtt-ms 50] [--handshake-rtts 1]
// [--tls [1.3|1.2]] [--rounds N] [--json PATH]): run-docker against a registry RTT away that
// wants Bearer tokens (scripts/far-registry.cjs in front of the local test registry), as
// GHCR, Docker Hub, GitLab or Harbor are for real teams. Every image lives under the proxy's
// address and reached the engine through it (dockerd does the token flow itself). With
// --tls the proxy speaks real TLS under a private CA (trusted through the host folder's
// certs.d, as docker trusts one), every flight of the handshake a real round trip.
//
// Scenarios run once to warm up, then interleaved round after round; medians, ratios, and
// the cost of a registry call in round trips. The proxy counts every request, so the
// requests and connections per call are exact; the times are not (a shared 2-core machine).
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProjectImage, median, optionOf, sh, utcVersion } from './bench-setup.mjs';

/** @type {typeof import('./far-registry.cjs')} */
const { startFarRegistry, diffCounts, measureConversation, KINDS } = createRequire(import.meta.url)(
  './far-registry.cjs',
);
/** @typedef {import('./far-registry.cjs').FarRegistryCounts} FarRegistryCounts */
/** @typedef {import('./far-registry.cjs').FarRegistryRequest} FarRegistryRequest */
/** @typedef {'a' | 'b' | 'c' | 't' | 'd' | 'e'} ScenarioKey */
/** @typedef {{ label: string, run: () => [string, string[]], home: () => string }} Scenario */

// Anything that reaches the proxy runs asynchronously: the proxy shares this event loop.
/** @param {string} file @param {string[]} argv */
const shAsync = async (file, argv) => (await promisify(execFile)(file, argv, { encoding: 'utf8' })).stdout.trim();

/** Runs FILE ARGV to its end; resolves to { status, stderr }.
 *  @param {string} file @param {string[]} argv @param {NodeJS.ProcessEnv} env
 *  @returns {Promise<{ status: number | null, stderr: string }>} */
function runToEnd(file, argv, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

/**
 * A private CA and a certificate it signs for 127.0.0.1 (P-256: fast), in DIR: ca.crt,
 * server.crt, server.key. Resolves to the PEM texts.
 * @param {string} dir
 */
function makeCertificates(dir) {
  mkdirSync(dir, { recursive: true });
  const at = (/** @type {string} */ name) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  /** @param {string[]} args */
  const openssl = (args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=bench CA',
  ]);
  openssl(['req', ...ec, '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(at('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl([
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.crt'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at('server.crt'),
    '-days',
    '2',
    '-extfile',
    at('san.ext'),
  ]);
  return {
    ca: readFileSync(at('ca.crt'), 'utf8'),
    cert: readFileSync(at('server.crt'), 'utf8'),
    key: readFileSync(at('server.key'), 'utf8'),
  };
}

/** Deletes every file or folder under DIR whose name says "token": wherever a token cache is kept. */
/** @param {string} dir */
function removeTokenCaches(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (/token/i.test(entry.name)) rmSync(path, { recursive: true, force: true });
    else if (entry.isDirectory()) removeTokenCaches(path);
  }
}

/** @param {string} root @param {string[]} args */
export async function runFarBenchmark(root, args) {
  const option = optionOf(args);
  const rounds = Number(option('--rounds', '7'));
  const rttMs = Number(option('--rtt-ms', '50'));
  const handshakeRtts = Number(option('--handshake-rtts', '1'));
  const jsonPath = option('--json', undefined);
  // --tls alone is TLS 1.3; --tls 1.2 caps the server at TLS 1.2 (a full handshake: 2 RTT).
  const tlsVersion = args.includes('--tls') ? (/^1\.[23]$/.exec(option('--tls', '') ?? '')?.[0] ?? '1.3') : undefined;
  if (!(rounds >= 1 && rttMs > 0 && handshakeRtts >= 0))
    throw new Error('--rounds ≥ 1, --rtt-ms > 0 and --handshake-rtts ≥ 0, please');
  if (tlsVersion && args.includes('--handshake-rtts'))
    throw new Error('--tls makes the TLS handshake real: --handshake-rtts would count it twice');

  const work = mkdtempSync(join(tmpdir(), 'run-docker-bench-far-'));
  /** @type {string | undefined} */
  let registry;
  /** @type {import('./far-registry.cjs').FarRegistry | undefined} */
  let far;
  /** @type {string[]} */
  const images = [];
  try {
    registry = sh(join(root, 'scripts/registry'), ['start', join(work, 'registry')]);
    const upstream = registry;
    const certificates = tlsVersion ? makeCertificates(join(work, 'certificates')) : undefined;
    const proxy = await startFarRegistry({
      upstream,
      rttMs,
      handshakeRtts,
      ...(certificates
        ? {
            tls: {
              cert: certificates.cert,
              key: certificates.key,
              maxVersion: tlsVersion === '1.2' ? /** @type {const} */ ('TLSv1.2') : /** @type {const} */ ('TLSv1.3'),
            },
          }
        : {}),
    });
    far = proxy;
    /** The private CA, where docker (and run-docker) look for a registry's CAs: the host folder's certs.d. */
    /** @param {string} home */
    const trustCa = (home) => {
      if (!certificates) return;
      const folder = join(home, '.config', 'docker', 'certs.d', proxy.address);
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'ca.crt'), certificates.ca);
    };

    // Published to the registry directly (pushing through a far proxy only costs time),
    // then pulled by the engine through the proxy: what the runs use is the far name.
    sh(join(root, 'scripts/make-signing-key'), [join(work, 'keys')]);
    /** @param {'tiny' | 'mini'} kind @param {string[]} keyArgs */
    const publish = (kind, keyArgs) =>
      sh(join(root, 'scripts/publish'), [kind, '--repo', `${upstream}/bench/${kind}`, '--no-build', ...keyArgs])
        .split('\n')
        .pop() ?? '';
    const tinyVersion = /** @type {{ version: string }} */ (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    ).version;
    const miniVersion = utcVersion(new Date());
    const tinyDirect = publish('tiny', ['--trust-key', join(work, 'keys', 'signing-key.pub.pem')]);
    publish('mini', ['--signing-key', join(work, 'keys', 'signing-key.pem'), '--version', miniVersion]);
    images.push(tinyDirect, `${registry}/bench/tiny:${tinyVersion}`, `${registry}/bench/mini:${miniVersion}`);
    buildProjectImage(join(work, 'image'), `${registry}/bench/app:1.0.0`);
    sh('docker', ['push', '--quiet', `${registry}/bench/app:1.0.0`]);
    images.push(`${registry}/bench/app:1.0.0`);

    const tiny = tinyDirect.replace(upstream, proxy.address);
    const mini = `${proxy.address}/bench/mini`;
    const app = `${proxy.address}/bench/app`;
    for (const reference of [tiny, `${mini}:${miniVersion}`, `${app}:1.0.0`]) {
      await shAsync('docker', ['pull', '--quiet', reference]);
      images.push(reference);
    }
    const enginePull = proxy.requests();
    proxy.reset();

    const warmHome = join(work, 'home');
    /** @param {string} home */
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
      trustCa(home);
      return home;
    };
    const tokenColdHome = join(work, 'token-cold');

    /** @type {Record<ScenarioKey, Scenario>} */
    const scenarios = {
      a: {
        label: 'a. docker run --rm --init IMG true',
        run: () => ['docker', ['run', '--rm', '--init', `${app}:1.0.0`, 'true']],
        home: () => warmHome,
      },
      b: {
        label: 'b. run-docker --local IMG true (warm)',
        run: () => [process.execPath, [shim, '--local', app, 'true']],
        home: () => warmHome,
      },
      c: {
        label: 'c. run-docker IMG true (warm)',
        run: () => [process.execPath, [shim, app, 'true']],
        home: () => warmHome,
      },
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
      d: {
        label: 'd. run-docker --local IMG true (fresh host folder)',
        run: () => [process.execPath, [shim, '--local', app, 'true']],
        home: freshHome,
      },
      e: {
        label: 'e. run-docker IMG true (fresh host folder: cold)',
        run: () => [process.execPath, [shim, app, 'true']],
        home: freshHome,
      },
    };
    mkdirSync(warmHome);
    trustCa(warmHome);
    const keys = /** @type {ScenarioKey[]} */ (Object.keys(scenarios));
    /** @type {Record<ScenarioKey, number[]>} */
    const timings = { a: [], b: [], c: [], t: [], d: [], e: [] };
    /** @type {Record<ScenarioKey, FarRegistryCounts[]>} */
    const counts = { a: [], b: [], c: [], t: [], d: [], e: [] };
    /** @type {Record<ScenarioKey, { waitedMs: number, spanMs: number }[]>} */
    const conversations = { a: [], b: [], c: [], t: [], d: [], e: [] };
    /** @type {Record<ScenarioKey, FarRegistryRequest[]>} */
    const requestLists = { a: [], b: [], c: [], t: [], d: [], e: [] };
    /** @param {ScenarioKey} key */
    const runOnce = async (key) => {
      const scenario = scenarios[key];
      const home = scenario.home();
      const [file, argv] = scenario.run();
      const before = proxy.counts();
      const logged = proxy.requests().length;
      const since = Date.now();
      const started = process.hrtime.bigint();
      const result = await runToEnd(file, argv, hostEnv(home));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (result.status !== 0) throw new Error(`${scenario.label} failed (exit ${result.status}): ${result.stderr}`);
      counts[key].push(diffCounts(proxy.counts(), before));
      requestLists[key] = proxy.requests().slice(logged);
      conversations[key].push(measureConversation(requestLists[key], since));
      return seconds;
    };
    for (const key of keys) await runOnce(key); // warm-up: caches, page cache
    for (const key of keys) {
      counts[key] = [];
      conversations[key] = [];
    }
    for (let round = 0; round < rounds; round++) {
      for (const key of keys) timings[key].push(await runOnce(key));
    }

    const m = /** @type {Record<ScenarioKey, number>} */ (
      Object.fromEntries(keys.map((key) => [key, median(timings[key])]))
    );
    const rtt = rttMs / 1000;
    /** @param {FarRegistryRequest[]} list */
    const countLongestConnection = (list) => {
      /** @type {Map<number, number>} */
      const perConnection = new Map();
      for (const request of list) {
        const handshake = handshakeRtts + (tlsVersion ? (request.resumed || tlsVersion === '1.3' ? 1 : 2) : 0);
        perConnection.set(request.connection, (perConnection.get(request.connection) ?? handshake) + 1);
      }
      return Math.max(0, ...perConnection.values());
    };
    /** @param {ScenarioKey} x @param {ScenarioKey} y */
    const paired = (x, y) => median(timings[x].map((value, i) => value - (timings[y][i] ?? NaN)));
    /** The counts of every round, if they were all alike; otherwise the smallest and largest total. */
    /** @typedef {Partial<FarRegistryCounts> & { requests: number | undefined, varies: string | undefined }} PerCall */
    const perCall = /** @type {Record<ScenarioKey, PerCall>} */ (
      Object.fromEntries(
        keys.map((key) => {
          const list = counts[key];
          const same = list.every((c) => JSON.stringify(c) === JSON.stringify(list[0]));
          const totals = list.map((c) => KINDS.reduce((sum, kind) => sum + c[kind], 0));
          return [
            key,
            {
              ...list[0],
              requests: totals[0],
              varies: same ? undefined : `${Math.min(...totals)}–${Math.max(...totals)} requests`,
            },
          ];
        }),
      )
    );
    const results = {
      date: new Date().toISOString(),
      rounds,
      rttMs,
      handshakeRtts,
      tls: tlsVersion ?? null,
      medianSeconds: m,
      ratiosOverDockerRun: /** @type {Partial<Record<ScenarioKey, number>>} */ (
        Object.fromEntries(keys.filter((key) => key !== 'a').map((key) => [key, m[key] / m.a]))
      ),
      extraRtts: {
        warm_c_minus_b: (m.c - m.b) / rtt,
        warm_c_minus_b_paired: paired('c', 'b') / rtt,
        noTokenCache_t_minus_b_paired: paired('t', 'b') / rtt,
        cold_e_minus_d_paired: paired('e', 'd') / rtt,
      },
      // The registry conversation as the proxy timed it, medians: far steadier than the
      // end-to-end times on a loaded machine (see measureConversation).
      waitedRtts: /** @type {Record<ScenarioKey, number>} */ (
        Object.fromEntries(keys.map((key) => [key, median(conversations[key].map((c) => c.waitedMs)) / rttMs]))
      ),
      spanRtts: /** @type {Record<ScenarioKey, number>} */ (
        Object.fromEntries(keys.map((key) => [key, median(conversations[key].map((c) => c.spanMs)) / rttMs]))
      ),
      // What the longest connection of a call costs, its requests one after the other: its
      // handshakes (TLS: a full one 1 RTT with TLS 1.3 and 2 with TLS 1.2, a resumed one 1)
      // and one RTT per request. Connections opened at once overlap; the span shows whether
      // they did.
      countedRtts: /** @type {Record<ScenarioKey, number>} */ (
        Object.fromEntries(keys.map((key) => [key, countLongestConnection(requestLists[key])]))
      ),
      perCall,
      requestLists,
      enginePull,
      samples: timings,
      conversationSamplesMs: conversations,
    };

    /** @param {number | undefined} seconds */
    const ms = (seconds) => `${((seconds ?? NaN) * 1000).toFixed(0)} ms`;
    /** @type {[string, string, string][]} */
    const rows = [
      ...keys.map(
        (key) =>
          /** @type {[string, string, string]} */ ([
            scenarios[key].label,
            `${ms(m[key])}${key === 'a' ? '' : ` (${(results.ratiosOverDockerRun[key] ?? NaN).toFixed(2)}×a)`}`,
            `${perCall[key].requests} req, ${perCall[key].connections} conn${perCall[key].varies ? ` (varies: ${perCall[key].varies})` : ''}`,
          ]),
      ),
      .../** @type {ScenarioKey[]} */ (['c', 't', 'e']).map(
        (key) =>
          /** @type {[string, string, string]} */ ([
            `${key}: first connect to last answer (proxy-timed)`,
            `${results.spanRtts[key].toFixed(1)} RTT`,
            `counted ${results.countedRtts[key]} on its longest connection (handshakes + requests); waiting summed over requests ${results.waitedRtts[key].toFixed(1)} RTT`,
          ]),
      ),
      [
        `c − b: registry call over --local, warm (goal ≤ ${tlsVersion ? '3 RTT over TLS' : '2 RTT over plain http'})`,
        `${results.extraRtts.warm_c_minus_b.toFixed(1)} RTT`,
        `paired per round ${results.extraRtts.warm_c_minus_b_paired.toFixed(1)} RTT`,
      ],
      ['t − b: no token cache, paired', `${results.extraRtts.noTokenCache_t_minus_b_paired.toFixed(1)} RTT`, ''],
      ['e − d: cold, paired', `${results.extraRtts.cold_e_minus_d_paired.toFixed(1)} RTT`, ''],
    ];
    const labelWidth = Math.max(...rows.map(([label]) => label.length));
    const valueWidth = Math.max(...rows.map(([, value]) => value.length));
    const handshakes = tlsVersion
      ? `TLS ${tlsVersion} with a private CA (real handshakes) after ${handshakeRtts} RTT for TCP`
      : `${handshakeRtts} RTT per new connection`;
    console.log(
      `\nrun-docker far-registry benchmark: RTT ${rttMs} ms, ${handshakes}, medians of ${rounds} interleaved rounds\n`,
    );
    for (const [label, value, extra] of rows)
      console.log(`${label.padEnd(labelWidth)}  ${value.padStart(valueWidth)}  ${extra}`);
    console.log(`\nrequests per call (${KINDS.join(', ')}, connections, resumed TLS sessions):`);
    for (const key of keys) {
      const c = perCall[key];
      console.log(
        `  ${key}: ${[...KINDS, /** @type {const} */ ('connections'), /** @type {const} */ ('resumed')].map((kind) => `${kind} ${c[kind]}`).join(', ')}`,
      );
    }
    for (const key of /** @type {ScenarioKey[]} */ (['c', 'e'])) {
      console.log(
        `\nwhat one call of ${key} sent (ms from its first request, #connection within the call: request → status):`,
      );
      const first = Math.min(...requestLists[key].map((r) => r.connection));
      const t0 = Math.min(...requestLists[key].map((r) => r.arrivedAt));
      for (const r of requestLists[key]) {
        console.log(
          `  +${String(r.arrivedAt - t0).padStart(4)} ms #${r.connection - first + 1} ${r.method} ${r.path} → ${r.status} (+${(r.finishedAt ?? NaN) - t0} ms)`,
        );
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
