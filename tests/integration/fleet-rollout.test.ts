/**
 * The fleet simulation of issue 23 (docs/releasing.md) on the real engine and registry: 40
 * hosts, each with its identity set in its config file, follow one mini repository while a
 * mini goes out to 50% of them, then to 100%, then is halted. The hosts on each mini are the
 * ones the schedule names (and their number is within binomial bounds), and no host ever runs
 * an unsigned mini or a lower version than one it ran.
 *
 * The hosts share one payload cache (one extraction per image, not per host) and have their
 * own config and state, as separate machines would. Each host asks `--version`, which is a
 * whole call of the shim and the mini's answer, without a container.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareTagOrder } from '../../common/compare-tag-order';
import { computeHostBucket } from '../../shim/host-bucket';
import { removeImages } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { cachedEntrySha256, checkoutOfRevision, removeReleaseFiles } from '../helpers/releases';
import {
  explain,
  makeHost,
  PACKAGE_VERSION,
  publish,
  removeHosts,
  runShim,
  stderrLines,
  type HostEnv,
  type Outcome,
} from '../helpers/shim';

const HOSTS = 40;
const V1 = '20260101-000000';
const V2 = '20260102-000000';
/** Pushed by someone without a key while V2 rolls out. */
const UNSIGNED = '20260102-120000';
const HALT = '20260103-000000';
const SIGNED = new Set([V1, V2, HALT]);

let registry: TestRegistry;
let repo: string;
const images: string[] = [];
let hosts: Array<{ id: string; env: HostEnv }>;
/** Every version each host ran, in order. */
const history = new Map<string, string[]>();

beforeAll(async () => {
  registry = await startRegistry();
  const prefix = `${registry.address}/fleet-rollout-${process.pid}`;
  repo = `${prefix}/mini`;
  const tiny = await publish('tiny', `${prefix}/tiny`);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`);
  const first = await makeHost({});
  hosts = [];
  for (let n = 0; n < HOSTS; n++) {
    const env = await makeHost({ XDG_CACHE_HOME: first.XDG_CACHE_HOME });
    const id = `fleet-host-${n}`;
    await mkdir(join(env.XDG_CONFIG_HOME, 'run-docker'), { recursive: true });
    await writeFile(
      join(env.XDG_CONFIG_HOME, 'run-docker', 'config.json'),
      JSON.stringify({ tiny, mini: repo, hostId: id }),
    );
    hosts.push({ id, env });
    history.set(id, []);
  }
});

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
  await removeReleaseFiles();
});

/** Every host asks --version, four at a time; the mini each ran (recorded in its history), and what it printed. */
async function callEveryHost(): Promise<Map<string, { version: string; outcome: Outcome }>> {
  const ran = new Map<string, { version: string; outcome: Outcome }>();
  const queue = [...hosts];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const outcome = await runShim(['--version'], next.env);
        const version = new RegExp(`^mini ${repo.replace(/[.]/g, '\\.')}:(\\S+) \\(`, 'm').exec(outcome.stdout)?.[1];
        if (outcome.code !== 0 || version === undefined) throw new Error(`${next.id} ran no mini\n${explain(outcome)}`);
        history.get(next.id)!.push(version);
        ran.set(next.id, { version, outcome });
      }
    }),
  );
  return ran;
}

function hostsOn(ran: Map<string, { version: string }>, version: string): string[] {
  return [...ran].filter(([, call]) => call.version === version).map(([id]) => id);
}

/** The fewest and most of n hosts a share p admits: a fair bucketing lands outside them less than once in a million runs. */
function binomialBounds(n: number, p: number, tail = 1e-6): [number, number] {
  const pmf = (k: number) => {
    let logChoose = 0;
    for (let i = 1; i <= k; i++) logChoose += Math.log((n - k + i) / i);
    return Math.exp(logChoose + k * Math.log(p) + (n - k) * Math.log(1 - p));
  };
  let low = 0;
  for (let below = pmf(0); below + pmf(low + 1) < tail / 2; below += pmf(++low));
  let high = n;
  for (let above = pmf(n); above + pmf(high - 1) < tail / 2; above += pmf(--high));
  // P(X <= low) and P(X >= high) are each below tail / 2.
  return [low + 1, high - 1];
}

test('40 hosts: a mini at 50%, then 100%, then halted; each on the mini its bucket says, none on an unsigned or lower one', async () => {
  // Phase 0: everyone on V1, which also fills the shared cache.
  images.push(`${repo}:${V1}`);
  await publish('mini', repo, ['--version', V1]);
  const phase0Started = Date.now();
  const phase0 = await callEveryHost();
  const phase0Ms = Date.now() - phase0Started;
  expect(hostsOn(phase0, V1)).toHaveLength(HOSTS);

  // Phase 1: V2 (another revision) at 50% now, 100% after a step long enough for one more round of calls.
  const stepSeconds = Math.ceil((phase0Ms * 3) / 1000) + 20;
  images.push(`${repo}:${V2}`);
  const beforePublish = Date.now();
  await publish(
    'mini',
    repo,
    ['--version', V2, '--rollout', `50%,100%@${stepSeconds}s`],
    'trusted',
    await checkoutOfRevision('v2'),
  );
  // The schedule starts at the publish time, to the second: no earlier than this.
  const step = Math.floor(beforePublish / 1000) * 1000 + stepSeconds * 1000;
  const phase1 = await callEveryHost();
  expect(Date.now()).toBeLessThan(step);
  const admitted = hosts.filter((host) => computeHostBucket('stable', host.id, repo) < 50).map((host) => host.id);
  expect(hostsOn(phase1, V2).sort()).toEqual([...admitted].sort());
  expect(hostsOn(phase1, V1).sort()).toEqual(
    hosts
      .map((host) => host.id)
      .filter((id) => !admitted.includes(id))
      .sort(),
  );
  const [low, high] = binomialBounds(HOSTS, 0.5);
  expect(admitted.length).toBeGreaterThanOrEqual(low);
  expect(admitted.length).toBeLessThanOrEqual(high);
  // Waiting for a rollout is no failure: not a word.
  expect([...phase1.values()].filter((call) => call.outcome.stderr !== '')).toEqual([]);

  // Someone without a key pushes an unsigned mini as the newest.
  images.push(`${repo}:${UNSIGNED}`);
  await publish('mini', repo, ['--version', UNSIGNED], 'none');

  // Phase 2: the 100% step has come (waiting for that moment, not for a delay).
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, step + 1000 - Date.now())));
  const phase2 = await callEveryHost();
  expect(hostsOn(phase2, V2)).toHaveLength(HOSTS);
  for (const [id, call] of phase2)
    expect({ id, lines: stderrLines(call.outcome) }).toEqual({
      id,
      lines: [
        expect.stringMatching(
          new RegExp(`^run-docker: warning: the newest mini ".*:${UNSIGNED}" cannot be used: it is not signed; `),
        ),
      ],
    });

  // Phase 3: V2 halted; everyone runs V1's payload again, under the halt's version.
  images.push(`${repo}:${HALT}`);
  await publish('halt', repo, [V2, '--version', HALT]);
  const phase3 = await callEveryHost();
  expect(hostsOn(phase3, HALT)).toHaveLength(HOSTS);
  const [anyHost] = hosts;
  expect(await cachedEntrySha256(anyHost!.env, `${repo}:${HALT}`)).toBe(
    await cachedEntrySha256(anyHost!.env, `${repo}:${V1}`),
  );

  // No host ever ran an unsigned mini, or a lower version than one it had run.
  for (const [id, versions] of history) {
    expect({ id, unsigned: versions.filter((version) => !SIGNED.has(version)) }).toEqual({ id, unsigned: [] });
    const lowered = versions.filter(
      (version, index) => index > 0 && compareTagOrder(version, versions[index - 1]!)! < 0,
    );
    expect({ id, lowered }).toEqual({ id, lowered: [] });
  }
}, 600_000);
