import { readShimFlags } from '../../shim/read-shim-flags';
/**
 * The shim's choice of a run payload (shim/run-shim.ts, load-newest-mini.ts,
 * obtain-trusted-mini.ts, select-fallback-minis.ts) on an engine in memory: which mini runs,
 * or the built-in payload, with which one warning line, or which error. The same chains
 * against the real engine and registry: trust-chain, trust, delivery, faults, built-in-payload.
 */
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BaseContext, LocatedTag, LocatorModule } from '../../contract/contract';
import { selectNewestTag, sortTagsNewestFirst } from '../../payload/locator/select-newest-tag';
import { CodeCaches } from '../../shim/code-cache';
import { computeHostBucket } from '../../shim/host-bucket';
import { runShim, type ShimDeps } from '../../shim/run-shim';
import { createFakeEngine, type FakeEngine } from '../helpers/fake-engine';
import {
  builtInRun,
  keyStatement,
  makeSigningKey,
  miniImage,
  RAN,
  tinyImage,
  useLocator,
} from '../helpers/payload-images';

const TINY = 'registry.test/rd/tiny:1.0.0';
const MINI = 'registry.test/rd/mini';
const SHIM_VERSION = '1.0.0';
const key = makeSigningKey();
const stranger = makeSigningKey();

let home: string;
let engine: FakeEngine;
let warnings: string[];
let runs: string[];
/** What the payloads were told of rollouts on --version (RunContext.release). */
let releases: Array<{ channel: string; bucket: number; reason: string }>;
/** The shim's clock (ShimDeps.now). */
let clock: number;

/** What ran since the last look: `mini <reference>` or `built-in (<reason>)`. */
function takeRuns(): string[] {
  return runs.splice(0).map((line) => line.replace(RAN, ''));
}
/** The registry's tags per repository, as the fake locator sees them; 'unreachable' warns and uses local tags. */
let registryTags: Map<string, string[] | 'unreachable'>;

/** A locator like the tiny's: local tags from the engine, the registry's from registryTags. */
const locator: Required<LocatorModule> = {
  async findNewestTag(ctx, repository) {
    const tags = await this.listTagsNewestFirst(ctx, repository);
    const tag = selectNewestTag(tags.map((located) => located.tag));
    if (tag === undefined)
      throw Object.assign(new Error(`no usable tag of "${repository}"`), {
        name: 'RunDockerError',
        hint: 'Publish one.',
        exitCode: 125,
      });
    return tags.find((located) => located.tag === tag)!;
  },
  async listLocalTagsNewestFirst(ctx, repository) {
    return sortTagsNewestFirst(await ctx.engine.listImageTags(repository));
  },
  async listTagsNewestFirst(ctx: BaseContext, repository: string): Promise<LocatedTag[]> {
    const local = await ctx.engine.listImageTags(repository);
    const remote = ctx.local ? [] : (registryTags.get(repository) ?? []);
    if (remote === 'unreachable')
      ctx.log.warn(
        `cannot reach the registry "registry.test" (ECONNREFUSED); using the images of "${repository}" on this host`,
      );
    const all = remote === 'unreachable' ? local : [...new Set([...local, ...remote])];
    return sortTagsNewestFirst(all).map((tag) => ({ tag, presentLocally: local.includes(tag) }));
  },
};

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'run-docker-run-shim-'));
  warnings = [];
  runs = [];
  releases = [];
  clock = Date.parse('2026-12-07T12:00:00Z');
  registryTags = new Map();
  engine = createEngineWithTiny();
});

function createEngineWithTiny(options: Parameters<typeof createFakeEngine>[0] = {}): FakeEngine {
  const created = createFakeEngine(options);
  useLocator(created, locator);
  created.addImage(TINY, tinyImage({ version: '1.0.0', trustedKeys: [key.trusted] }));
  return created;
}

const log = {
  warn: (line: string) => warnings.push(line),
  debug: (line: string) => {
    if (RAN.test(line)) runs.push(line);
    if (line.startsWith('release '))
      releases.push(JSON.parse(line.slice('release '.length)) as (typeof releases)[number]);
  },
};

afterEach(() => rm(home, { recursive: true, force: true }));

/** What main.ts hands runShim, on this file's fake engine, with exactly `env`. */
function shimDeps(argv: string[], env: Record<string, string>): ShimDeps {
  return {
    call: { argv, flags: readShimFlags(argv), env, homeDir: home },
    shim: { version: SHIM_VERSION, defaults: {}, builtInRun },
    engine: { client: engine },
    log,
    progress: { stream: { write: () => true }, mode: 'off', color: false },
    // No code caches: every test compiles its payloads in this one process.
    codeCaches: new CodeCaches(undefined, undefined),
    now: () => clock,
    // Not this machine's: a test's host identity is its RUN_DOCKER_HOST_ID, or one made in its state folder.
    machineIdFile: join(home, 'no-machine-id'),
  };
}

function run(argv: string[] = ['app'], env: Record<string, string> = {}) {
  return runShim(shimDeps(argv, { HOME: home, RUN_DOCKER_TINY: TINY, RUN_DOCKER_MINI: MINI, ...env }));
}

/** A mini on the host (and, with `published`, in the registry too). */
function addMini(
  version: string,
  options: Omit<Parameters<typeof miniImage>[0], 'version'> = {},
  where: 'host' | 'registry' | 'both' = 'host',
) {
  const image = miniImage({ signer: key, ...options, version });
  if (where !== 'registry') engine.addImage(`${MINI}:${version}`, image);
  if (where !== 'host') {
    engine.publish(`${MINI}:${version}`, image);
    const tags = registryTags.get(MINI);
    registryTags.set(MINI, [...(Array.isArray(tags) ? tags : []), version]);
  }
}

const V1 = '20260101-000000';
const V2 = '20260102-000000';
const V3 = '20260103-000000';

describe('the newest mini', () => {
  it('runs when it is trusted, and the host records its version', async () => {
    addMini(V1);
    addMini(V2);
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V2}`]);
    expect(warnings).toEqual([]);
    const record: unknown = JSON.parse(
      await readFile(join(home, '.local', 'state', 'run-docker', 'mini-versions.json'), 'utf8'),
    );
    expect(record).toEqual({ minis: { [MINI]: V2 } });
  });

  it('is pulled when only the registry has it, and a warm call reads no image again', async () => {
    addMini(V1);
    addMini(V2, {}, 'registry');
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V2}`]);
    expect(engine.references()).toContain(`${MINI}:${V2}`);

    engine.calls.length = 0;
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V2}`]);
    // Warm: the payloads come from the cache; nothing exported, no container, no pull.
    expect(engine.calls.filter((line) => !/^(listImageTags|inspectImage) /.test(line))).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('unsigned: one warning, and the newest usable mini on this host runs', async () => {
    addMini(V1);
    addMini(V2, { signer: undefined });
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    expect(warnings).toEqual([
      `the newest mini "${MINI}:${V2}" cannot be used: it is not signed; publish it signed with a key this host trusts; running the newest usable mini on this host instead`,
    ]);
  });

  it('signed by a key the tiny does not trust, with RUN_DOCKER_ALLOW_UNSIGNED: runs with the loud warning, and is not recorded', async () => {
    addMini(V1, { signer: stranger });
    expect(await run(['app'], { RUN_DOCKER_ALLOW_UNSIGNED: '1' })).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^RUNNING UNTRUSTED CODE: mini "${MINI}:${V1}" it is signed by key [0-9a-f]{16}, which this host does not trust`,
        ),
      ),
    ]);
    await expect(readFile(join(home, '.local', 'state', 'run-docker', 'mini-versions.json'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('signed as another version than its tag: refused, the older one runs', async () => {
    addMini(V1);
    addMini(V3, { signedVersion: V1 });
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    expect(warnings).toEqual([
      `the newest mini "${MINI}:${V3}" cannot be used: it was signed as version ${V1}, not ${V3}: an older mini pushed again under a newer tag is refused; delete that tag from the registry; running the newest usable mini on this host instead`,
    ]);
  });

  it('that fails to pull: only minis on the host are tried after it, none is pulled', async () => {
    addMini(V1);
    addMini(V2, {}, 'registry');
    addMini(V3, {}, 'registry');
    engine.failPull(`${MINI}:${V3}`, { errorEvent: 'received unexpected HTTP status: 502 Bad Gateway' });
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    expect(warnings).toEqual([
      `the newest mini "${MINI}:${V3}" cannot be pulled: could not pull "${MINI}:${V3}": received unexpected HTTP status: 502 Bad Gateway; running the newest usable mini on this host instead`,
    ]);
    expect(engine.calls.filter((line) => line.startsWith('pullImage'))).toEqual([`pullImage ${MINI}:${V3}`]);
  });

  it('made for a newer shim: an older one from the registry runs, and the unsigned one between is summed up', async () => {
    addMini(V1, {}, 'registry');
    addMini(V2, { signer: undefined });
    addMini(V3, { shim: '>=99.0.0' });
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    expect(warnings).toEqual([
      `the newest mini "${MINI}:${V3}" cannot be used: it needs shim >=99.0.0 and this shim is ${SHIM_VERSION}; update the shim (see docs/install.md of run-docker); running the older mini "${V1}" from the registry instead; also skipped 1 older mini: ${V2} (it is not signed)`,
    ]);
  });

  it('of another contract version: refused as incompatible like a shim range', async () => {
    addMini(V1);
    addMini(V2, { contract: 1 });
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    expect(warnings).toEqual([
      expect.stringContaining(
        `"${MINI}:${V2}" cannot be used: it uses contract version 1 and this shim speaks version 2; update the shim`,
      ),
    ]);
  });

  it('corrupt under several newer tags: its payload is read once a call, and not at all on the next call', async () => {
    addMini(V1);
    const tags = ['20260201-000000', '20260202-000000', '20260203-000000', '20260204-000000'];
    const corrupt = miniImage({ signer: key, version: tags[0]!, tamperedEntry: 'exports.main = async () => 99;' });
    const id = engine.addImage(
      tags.map((tag) => `${MINI}:${tag}`),
      corrupt,
    );
    const reads = () =>
      engine.calls.filter((line) => line === `exportImage ${id}` || line.startsWith('createContainer'));
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    expect(reads()).toEqual([`exportImage ${id}`]);
    expect(warnings).toEqual([
      `the newest mini "${MINI}:${tags[3]}" cannot be used: its entry "run.js" does not match the manifest's sha256; running the newest usable mini on this host instead; also skipped 3 older minis: ${tags[2]} (its entry "run.js" does not match the manifest's sha256); ${tags[1]} (its entry "run.js" does not match the manifest's sha256); ${tags[0]} (its entry "run.js" does not match the manifest's sha256)`,
    ]);
    engine.calls.length = 0;
    warnings.length = 0;
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    expect(reads()).toEqual([]);
    expect(warnings).toHaveLength(1);
  });

  it('corrupt under several newer tags, without a trusted cache: still read once a call', async () => {
    addMini(V1);
    const tags = ['20260201-000000', '20260202-000000', '20260203-000000'];
    const id = engine.addImage(
      tags.map((tag) => `${MINI}:${tag}`),
      miniImage({ signer: key, version: tags[0]!, tamperedEntry: 'exports.main = async () => 99;' }),
    );
    // A cache root that is a symlink is not used (payload-cache.ts, prepareCache): nothing is remembered.
    await mkdir(join(home, 'elsewhere'));
    await mkdir(join(home, 'linked'));
    await symlink(join(home, 'elsewhere'), join(home, 'linked', 'run-docker'));
    for (let call = 0; call < 2; call++) {
      engine.calls.length = 0;
      expect(await run(['app'], { XDG_CACHE_HOME: join(home, 'linked') })).toBe(0);
      expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
      expect(engine.calls.filter((line) => line === `exportImage ${id}`)).toHaveLength(1);
    }
  });

  it("refused for the tiny's keys: decided again on the next call, so a tiny that trusts the key runs it", async () => {
    addMini(V1);
    addMini(V2, { signer: stranger });
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    const trusting = 'registry.test/rd/tiny:2.0.0';
    engine.addImage(trusting, tinyImage({ version: '2.0.0', trustedKeys: [key.trusted, stranger.trusted] }));
    warnings.length = 0;
    expect(await run(['app'], { RUN_DOCKER_TINY: trusting })).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V2}`]);
    expect(warnings).toEqual([]);
  });

  it('with no usable mini at all: one warning with the real fix, and the built-in payload runs', async () => {
    addMini(V1, { signer: undefined });
    addMini(V2, { signer: stranger });
    expect(await run()).toBe(0);
    const reason = `no usable mini of "${MINI}": the newest, "${MINI}:${V2}" cannot be used: it is signed by key ${stranger.trusted.keyId}, which this host does not trust; 1 older mini skipped: ${V1} (it is not signed)`;
    expect(takeRuns()).toEqual([`built-in (${reason})`]);
    expect(warnings).toEqual([
      `${reason}; running the payload built into shim ${SHIM_VERSION} instead. Publish a mini signed with a key this host trusts (scripts/publish mini --signing-key), or pin a tiny that trusts its key.`,
    ]);
  });

  it('pulls at most three older minis from the registry, and says how many it left', async () => {
    const versions = ['20260101-000000', '20260102-000000', '20260103-000000', '20260104-000000', '20260105-000000'];
    for (const version of versions) addMini(version, { signer: undefined }, 'registry');
    expect(await run()).toBe(0);
    expect(engine.calls.filter((line) => line.startsWith('pullImage'))).toHaveLength(4); // the newest and three older
    expect(warnings).toEqual([
      expect.stringMatching(
        /; 3 older minis skipped: .*; 1 older mini in the registry not pulled \(at most 3 are tried\); running the payload built into shim .*, or pin a mini with RUN_DOCKER_MINI=registry\.test\/rd\/mini:TAG\.$/,
      ),
    ]);
  });

  it('older than the version this host has run: refused without a pull, and the built-in payload runs', async () => {
    addMini(V1);
    addMini(V2);
    expect(await run()).toBe(0);
    takeRuns();
    engine = createEngineWithTiny();
    addMini(V1);
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([
      expect.stringMatching(
        /^built-in \(no usable mini of ".*": the newest, ".*:20260101-000000" cannot be used: it is older than 20260102-000000, which this host has already run\)$/,
      ),
    ]);
    expect(warnings).toEqual([
      expect.stringContaining(
        'Publish the good payload again as a new version (scripts/publish mini), or pin a mini with RUN_DOCKER_MINI=',
      ),
    ]);
  });

  it('an unreachable registry: its warning once, though the locator is asked twice', async () => {
    addMini(V1);
    addMini(V2, { signer: undefined });
    registryTags.set(MINI, 'unreachable');
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    expect(warnings).toEqual([
      `cannot reach the registry "registry.test" (ECONNREFUSED); using the images of "${MINI}" on this host`,
      expect.stringMatching(/^the newest mini .* cannot be used: it is not signed;/),
    ]);
  });
});

describe('a pinned mini', () => {
  it('runs even when older than the record: that is how a host rolls back', async () => {
    addMini(V1);
    addMini(V2);
    await run();
    takeRuns();
    expect(await run(['app'], { RUN_DOCKER_MINI: `${MINI}:${V1}` })).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    expect(warnings).toEqual([]);
  });

  it('that cannot be used is an error, never replaced', async () => {
    addMini(V3, { signedVersion: V1 });
    await expect(run(['app'], { RUN_DOCKER_MINI: `${MINI}:${V3}` })).rejects.toMatchObject({
      name: 'RunDockerError',
      exitCode: 125,
      message: `the mini image "${MINI}:${V3}" pinned by env RUN_DOCKER_MINI was signed as version ${V1}, not ${V3}: an older mini pushed again under a newer tag is refused`,
    });
    expect(takeRuns()).toEqual([]);
  });

  it('absent with --local: one line, no pull', async () => {
    await expect(run(['--local', 'app'], { RUN_DOCKER_MINI: `${MINI}:${V1}` })).rejects.toMatchObject({
      message: `the mini image pinned by env RUN_DOCKER_MINI "${MINI}:${V1}" is not on this host, and --local forbids pulling it`,
      hint: 'Run once without --local to pull it, or "docker load" it onto this host.',
    });
    expect(engine.calls.filter((line) => line.startsWith('pullImage'))).toEqual([]);
  });
});

describe('the tiny', () => {
  it('not configured: the built-in payload runs without a word or an engine call', async () => {
    expect(await runShim(shimDeps(['app'], { HOME: home }))).toBe(0);
    expect(takeRuns()).toEqual(['built-in (no tiny configured)']);
    expect(warnings).toEqual([]);
    expect(engine.calls).toEqual([]);
  });

  it('absent with --local: one warning, and the built-in payload runs', async () => {
    const absent = 'registry.test/rd/tiny:2.0.0';
    expect(await run(['--local', 'app'], { RUN_DOCKER_TINY: absent })).toBe(0);
    expect(warnings).toEqual([
      `the tiny image "${absent}" is not on this host, and --local forbids pulling it; running the payload built into shim ${SHIM_VERSION} instead. Run once without --local to pull it, or "docker load" it onto this host.`,
    ]);
    expect(takeRuns()).toEqual([
      `built-in (the tiny image "${absent}" is not on this host, and --local forbids pulling it)`,
    ]);
  });

  it('absent and its pull stalls: cancelled after RUN_DOCKER_PULL_STALL_MS, one warning, the built-in payload', async () => {
    const absent = 'registry.test/rd/tiny:2.0.0';
    engine.failPull(absent, 'stall');
    expect(await run(['app'], { RUN_DOCKER_TINY: absent, RUN_DOCKER_PULL_STALL_MS: '50' })).toBe(0);
    expect(warnings).toEqual([
      `the pull of "${absent}" made no progress for 0.05 s and was cancelled; running the payload built into shim ${SHIM_VERSION} instead. Check the registry and the network and try again (a slow link may need a higher RUN_DOCKER_PULL_STALL_MS), or run with --local to use only images on this host.`,
    ]);
    expect(takeRuns()).toHaveLength(1);
  });

  it('absent: pulled, and its locator finds the newest mini', async () => {
    const fresh = 'registry.test/rd/tiny:2.0.0';
    engine.publish(fresh, tinyImage({ version: '2.0.0', trustedKeys: [key.trusted] }));
    addMini(V1);
    expect(await run(['app'], { RUN_DOCKER_TINY: fresh })).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    expect(engine.calls).toContain(`pullImage ${fresh}`);
    expect(warnings).toEqual([]);
  });

  it("pinned by digest: used when the engine's record of the image shows that digest", async () => {
    const pinned = `registry.test/rd/tiny@sha256:${'d'.repeat(64)}`;
    engine.addImage(pinned, tinyImage({ version: '2.0.0', trustedKeys: [key.trusted] }));
    addMini(V1);
    expect(await run(['app'], { RUN_DOCKER_TINY: pinned })).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    expect(warnings).toEqual([]);
  });

  it('pinned by digest, but the image the engine has under that name was not pulled by it: one warning, the built-in payload', async () => {
    // What an engine that lets an image carry the name (or one that keeps no record) answers.
    const pinned = `registry.test/rd/tiny@sha256:${'d'.repeat(64)}`;
    engine.addImage(pinned, {
      ...tinyImage({ version: '6.6.6', trustedKeys: [makeSigningKey().trusted] }),
      repoDigests: [],
    });
    addMini(V1);
    expect(await run(['app'], { RUN_DOCKER_TINY: pinned })).toBe(0);
    expect(warnings).toEqual([
      `the tiny image "${pinned}" cannot be used: the engine answers for that name, but its record of the image does not show that digest (RepoDigests: none); running the payload built into shim ${SHIM_VERSION} instead. Remove that image ("docker image rm ${pinned}") so that it is pulled by its digest, and check which engine this is (DOCKER_HOST, the docker context).`,
    ]);
    expect(takeRuns()).toEqual([expect.stringMatching(/^built-in \(the tiny image .* does not show that digest/)]);
  });

  it('pinned by tag, not digest: one warning on --version, none on a run or when pinned by digest', async () => {
    addMini(V1);
    expect(await run(['--local', '--version'])).toBe(0);
    expect(warnings).toEqual([
      `the tiny image "${TINY}" (from env RUN_DOCKER_TINY) is pinned by tag, not by digest: whoever can push that tag chooses the keys this host trusts; pin it as registry.test/rd/tiny@sha256:… ("docker image inspect --format '{{index .RepoDigests 0}}' ${TINY}" prints it)`,
    ]);
    warnings.length = 0;
    expect(await run(['--local', 'app', '--version'])).toBe(0);
    expect(warnings).toEqual([]);
    const byDigest = `registry.test/rd/tiny@sha256:${'c'.repeat(64)}`;
    engine.addImage(byDigest, tinyImage({ version: '1.0.0', trustedKeys: [key.trusted] }));
    expect(await run(['--local', '--version'], { RUN_DOCKER_TINY: byDigest })).toBe(0);
    expect(warnings).toEqual([]);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`, `mini ${MINI}:${V1}`, `mini ${MINI}:${V1}`]);
  });

  it('an engine that cannot be reached is an error, not a fallback', async () => {
    engine = createEngineWithTiny({ unreachable: true });
    await expect(run()).rejects.toMatchObject({ code: 'ENOENT', syscall: 'connect' });
    expect(takeRuns()).toEqual([]);
  });
});

describe('staged rollouts (docs/releasing.md)', () => {
  const START = '2026-12-07T12:00:00Z';
  /** 50% now, 100% an hour later. */
  const halfThenAll = {
    start: START,
    steps: [
      { percent: 50, afterSeconds: 0 },
      { percent: 100, afterSeconds: 3600 },
    ],
  };
  /** Host identities in a bucket below 50 (admitted at 50%) and at or above it. */
  const hostIn = (admitted: boolean) => {
    for (let n = 0; ; n++) {
      const id = `host-${n}`;
      if (computeHostBucket('stable', id, MINI) < 50 === admitted) return id;
    }
  };
  const early = hostIn(true);
  const late = hostIn(false);
  /** Each host its identity and its own state (rollback record, release state). */
  const as = (hostId: string, env: Record<string, string> = {}) => ({
    RUN_DOCKER_HOST_ID: hostId,
    XDG_STATE_HOME: join(home, hostId),
    ...env,
  });
  /** Warnings but the one every --version here gives: this file's tiny is pinned by tag. */
  const warned = () => warnings.filter((line) => !line.includes('is pinned by tag, not by digest'));

  it('a host in an admitted bucket runs the staged mini; one outside runs the one before, without a warning', async () => {
    addMini(V1);
    addMini(V2, { rollout: halfThenAll });
    expect(await run(['app'], as(early))).toBe(0);
    expect(await run(['app'], as(late))).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V2}`, `mini ${MINI}:${V1}`]);
    expect(warned()).toEqual([]);
  });

  it('--version says the channel, the bucket and why; the schedule moves a waiting host on when its step comes', async () => {
    addMini(V1);
    addMini(V2, { rollout: halfThenAll });
    const bucket = computeHostBucket('stable', late, MINI);
    expect(await run(['--version'], as(late))).toBe(0);
    expect(releases).toEqual([
      {
        channel: 'stable',
        bucket,
        reason: `the newest mini that has reached this host (no rollout schedule: every host); not yet here: ${V2} (at 50%; this host from 2026-12-07T13:00:00Z)`,
      },
    ]);
    clock = Date.parse('2026-12-07T13:00:00Z');
    expect(await run(['--version'], as(late))).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`, `mini ${MINI}:${V2}`]);
    expect(releases[1]).toEqual({ channel: 'stable', bucket, reason: 'the newest mini (staged, now at 100%)' });
    expect(warned()).toEqual([]);
  });

  it('a canary host is bucket 0: admitted by the first step that admits anyone', async () => {
    addMini(V1);
    addMini(V2, { rollout: { start: START, steps: [{ percent: 1, afterSeconds: 0 }] } });
    expect(await run(['--version'], as(late, { RUN_DOCKER_CHANNEL: 'canary' }))).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V2}`]);
    expect(releases).toEqual([
      { channel: 'canary', bucket: 0, reason: 'the newest mini (staged, now at 1%, which admits bucket 0)' },
    ]);
  });

  it('a host that ran a staged mini keeps running it when its clock goes back', async () => {
    addMini(V1);
    addMini(V2, { rollout: { start: START, steps: [{ percent: 100, afterSeconds: 0 }] } });
    expect(await run(['app'], as(late))).toBe(0);
    clock = Date.parse('2026-12-07T11:00:00Z');
    expect(await run(['app'], as(late))).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V2}`, `mini ${MINI}:${V2}`]);
    expect(warned()).toEqual([]);
  });

  it('with every mini staged past this host: the built-in payload, without a warning, and --version says why', async () => {
    addMini(V2, { rollout: halfThenAll });
    expect(await run(['--version'], as(late))).toBe(0);
    expect(warned()).toEqual([]);
    expect(takeRuns()).toEqual([
      `built-in (no mini of "${MINI}" has reached this host yet: ${V2} (at 50%; this host from 2026-12-07T13:00:00Z))`,
    ]);
    expect(releases[0]?.reason).toBe('none of its minis runs here now (above)');
  });

  it('waiting, with the older minis below the record: one warning, as without a rollout', async () => {
    addMini(V2);
    expect(await run(['app'], as(late))).toBe(0);
    // The mini it ran is gone; a staged one is newer, an older one is below its record.
    engine = createEngineWithTiny();
    addMini(V1);
    addMini(V3, { rollout: halfThenAll });
    expect(await run(['app'], as(late))).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V2}`, expect.stringMatching(/^built-in \(no usable mini of /)]);
    expect(warned()).toEqual([
      `no usable mini of "${MINI}": 1 newer mini not for this host yet (${V3} (at 50%; this host from 2026-12-07T13:00:00Z)); 1 older mini below ${V2}, which this host has already run, not tried; running the payload built into shim ${SHIM_VERSION} instead. Publish the good payload again as a new version (scripts/publish mini), or pin a mini with RUN_DOCKER_MINI=${MINI}:TAG to roll back on purpose; this host's record is "${join(home, late, 'run-docker', 'mini-versions.json')}".`,
    ]);
  });

  it('waiting, with older minis in the registry past the pull bound: one warning that says so, not "nothing has reached this host"', async () => {
    const versions = ['20260101-000000', '20260102-000000', '20260103-000000', '20260104-000000', '20260105-000000'];
    for (const version of versions) addMini(version, { rollout: halfThenAll }, 'registry');
    expect(await run(['app'], as(late))).toBe(0);
    expect(engine.calls.filter((line) => line.startsWith('pullImage'))).toHaveLength(4); // the newest and three older
    expect(takeRuns()).toEqual([expect.stringMatching(/^built-in \(no usable mini of /)]);
    expect(warned()).toEqual([
      expect.stringMatching(
        /^no usable mini of "registry\.test\/rd\/mini": 4 newer minis not for this host yet \(.*\); 1 older mini in the registry not pulled \(at most 3 are tried\); running the payload built into shim .* instead\. Wait for a rollout step that admits this host \(docs\/releasing\.md\), or pin a mini with RUN_DOCKER_MINI=registry\.test\/rd\/mini:TAG\.$/,
      ),
    ]);
  });

  it('a staged mini whose schedule was stripped after signing is refused: it cannot reach every host at once', async () => {
    addMini(V1);
    const stripped = miniImage({ signer: key, version: V2, rollout: halfThenAll });
    const manifest = JSON.parse(String(stripped.files!['/run-docker/manifest.json'])) as Record<string, unknown>;
    delete manifest.rollout;
    const bytes = Buffer.from(JSON.stringify(manifest));
    const { createHash } = await import('node:crypto');
    engine.addImage(`${MINI}:${V2}`, {
      ...stripped,
      labels: {
        ...stripped.labels,
        'org.run-docker.manifest.sha256': createHash('sha256').update(bytes).digest('hex'),
      },
      files: { ...stripped.files, '/run-docker/manifest.json': bytes },
    });
    expect(await run(['app'], as(late))).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(`^the newest mini "${MINI}:${V2}" cannot be used: its signature by key \\w+ does not verify`),
      ),
    ]);
  });
});

describe('halts (docs/releasing.md)', () => {
  const stateFile = () => join(home, '.local', 'state', 'run-docker', 'releases.json');

  it('a signed halt is learnt from the mini that carries it, and kept in the release state', async () => {
    addMini(V1);
    addMini(V2);
    expect(await run()).toBe(0);
    addMini(V3, { halts: { versions: [V2], by: key } });
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V2}`, `mini ${MINI}:${V3}`]);
    expect(JSON.parse(await readFile(stateFile(), 'utf8'))).toEqual({
      repositories: { [MINI]: { addedKeys: [], retiredKeys: [], halted: [V2] } },
    });
    expect(warnings).toEqual([]);
  });

  it('a host that cannot run the halt mini still never runs the halted version, nor pulls it', async () => {
    addMini(V1, {}, 'registry');
    addMini(V2, {}, 'registry');
    addMini(V3, { halts: { versions: [V2], by: key }, shim: '>=99.0.0' });
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    expect(engine.calls.filter((line) => line.startsWith('pullImage'))).toEqual([`pullImage ${MINI}:${V1}`]);
    expect(warnings).toEqual([
      `the newest mini "${MINI}:${V3}" cannot be used: it needs shim >=99.0.0 and this shim is ${SHIM_VERSION}; update the shim (see docs/install.md of run-docker); running the older mini "${V1}" from the registry instead`,
    ]);
    // Remembered: on a later call (the halt mini refused from memory, unread) V2, now on the host, is not run either.
    engine.addImage(`${MINI}:${V2}`, miniImage({ signer: key, version: V2 }));
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
  });

  it('an unsigned or foreign-signed halt is ignored, with one warning', async () => {
    addMini(V1);
    addMini(V2, { halts: { versions: [V1] } });
    expect(await run()).toBe(0);
    addMini(V3, { halts: { versions: [V1], by: stranger } });
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V2}`, `mini ${MINI}:${V3}`]);
    expect(warnings).toEqual([
      `the halt statement of the mini "${MINI}:${V2}" is ignored: it is not signed`,
      `the halt statement of the mini "${MINI}:${V3}" is ignored: it is signed by key ${stranger.trusted.keyId}, which this host does not trust`,
    ]);
    await expect(readFile(stateFile())).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('key rotation (docs/releasing.md)', () => {
  const next = makeSigningKey();

  it('a rotation signed by the old key makes the new key trusted and the old one retired, for good', async () => {
    addMini(V1);
    expect(await run()).toBe(0);
    // The newest payload again, signed by the new key; the statement by the old one.
    addMini(V2, { signer: next, keys: [keyStatement([next], [key.trusted.keyId], key)] });
    expect(await run()).toBe(0);
    // Later minis need no statement of their own on this host; one signed by the old key is refused.
    addMini(V3, { signer: next });
    expect(await run()).toBe(0);
    addMini('20260104-000000', { signer: key, keys: [keyStatement([key], [], key)] });
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([
      `mini ${MINI}:${V1}`,
      `mini ${MINI}:${V2}`,
      `mini ${MINI}:${V3}`,
      `mini ${MINI}:${V3}`,
    ]);
    expect(warnings).toEqual([
      `the newest mini "${MINI}:20260104-000000" cannot be used: it is signed by key ${key.trusted.keyId}, which a key rotation this host has seen retired; publish it signed with a key this host trusts; running the newest usable mini on this host instead`,
    ]);
    expect(JSON.parse(await readFile(join(home, '.local', 'state', 'run-docker', 'releases.json'), 'utf8'))).toEqual({
      repositories: { [MINI]: { addedKeys: [next.trusted], retiredKeys: [key.trusted.keyId], halted: [] } },
    });
  });

  it("a fresh host follows the whole chain from its tiny's key, carried by the newest mini", async () => {
    const third = makeSigningKey();
    addMini(V3, {
      signer: third,
      keys: [keyStatement([next], [key.trusted.keyId], key), keyStatement([third], [next.trusted.keyId], next)],
    });
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V3}`]);
    expect(warnings).toEqual([]);
  });

  it('a statement nobody trusted signed adds nothing: the mini signed by its key is refused', async () => {
    addMini(V1);
    const thief = makeSigningKey();
    addMini(V2, { signer: thief, keys: [keyStatement([thief], [key.trusted.keyId], thief)] });
    expect(await run()).toBe(0);
    expect(takeRuns()).toEqual([`mini ${MINI}:${V1}`]);
    expect(warnings).toEqual([
      `the key statements of the mini "${MINI}:${V2}" are ignored in part: statement 1 is signed by key ${thief.trusted.keyId}, which this host does not trust`,
      `the newest mini "${MINI}:${V2}" cannot be used: it is signed by key ${thief.trusted.keyId}, which this host does not trust; publish it signed with a key this host trusts; running the newest usable mini on this host instead`,
    ]);
  });
});
