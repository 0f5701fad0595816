/**
 * Releasing minis to a fleet (issue 23, docs/releasing.md) on the real engine and registry:
 * staged rollouts, halts, roll-forwards and key rotations as scripts/publish makes them and
 * as shims follow them; what someone who can push but holds no key can do to them; and what
 * a shim before 0.2.0 does with each new kind of mini.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { computeHostBucket } from '../../shim/host-bucket';
import { removeImages } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import {
  buildShimOfVersion,
  cachedEntrySha256,
  checkoutOfRevision,
  readMiniFiles,
  removeReleaseFiles,
  repushWithManifest,
} from '../helpers/releases';
import {
  expectOneLineFailure,
  explain,
  makeHost,
  PACKAGE_VERSION,
  publish,
  removeHosts,
  runShim,
  stderrLines,
  type HostEnv,
  type Outcome,
  type Signer,
} from '../helpers/shim';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/shim';

let registry: TestRegistry;
let prefix: string;
let tiny: string;
const images: string[] = [];

const V1 = '20260101-000000';
const V2 = '20260102-000000';
const V3 = '20260103-000000';
const V4 = '20260104-000000';

beforeAll(async () => {
  registry = await startRegistry();
  prefix = `${registry.address}/releases-${process.pid}`;
  // A range older shims accept too, so that the test of a 0.1.0 shim can use this tiny.
  tiny = await publish('tiny', `${prefix}/tiny`, ['--shim-range', '>=0.1.0 <1.0.0']);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`);
});

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
  await removeReleaseFiles();
});

/** scripts/publish for a mini of `repo` as `version`; `root`: another checkout (a mini of another revision). */
async function publishMini(
  repo: string,
  version: string,
  extra: string[] = [],
  signer: Signer = 'trusted',
  root?: string,
): Promise<void> {
  images.push(`${repo}:${version}`);
  await publish('mini', repo, ['--version', version, ...extra], signer, root);
}

/** scripts/publish as it fails: its exit code and stderr. */
async function publishFails(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await promisify(execFile)(join(ROOT, 'scripts', 'publish'), ['--no-build', ...args], {
      cwd: ROOT,
      env: { ...process.env, RUN_DOCKER_SIGNING_KEY_FILE: '' },
    });
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
  throw new Error(`scripts/publish ${args.join(' ')} succeeded`);
}

/** A host identity whose bucket for `repo` is below 50 (`admitted`) or not. Not "host-N": that
 *  can be part of a host's temporary home (run-docker-host-6xWfaB), which --show-config shows. */
function hostIdIn(repo: string, admitted: boolean, skip = 0): string {
  let found = 0;
  for (let n = 0; ; n++) {
    const id = `identity-${n}-of-a-test-host`;
    if (computeHostBucket('stable', id, repo) < 50 === admitted && found++ === skip) return id;
  }
}

function host(repo: string, hostId: string, env: Record<string, string> = {}): Promise<HostEnv> {
  return makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: repo, RUN_DOCKER_HOST_ID: hostId, ...env });
}

/** The mini reference --version names, or a failure that shows what the shim printed. */
function ranMini(outcome: Outcome): string {
  const line = /^mini (\S+) \(/m.exec(outcome.stdout);
  if (outcome.code !== 0 || !line?.[1]) throw new Error(`no mini ran\n${explain(outcome)}`);
  return line[1];
}

const releaseLine = (outcome: Outcome) => /^release .*$/m.exec(outcome.stdout)?.[0];
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const stateFile = (hostEnv: HostEnv, name: string) => join(hostEnv.HOME, '.local', 'state', 'run-docker', name);

describe('a staged rollout', () => {
  let repo: string;
  beforeAll(async () => {
    repo = `${prefix}/mini-staged`;
    await publishMini(repo, V1);
    await publishMini(repo, V2, ['--rollout', '50%,100%@1d']);
  });

  test('reaches the hosts its schedule admits; the others run the mini before, without a word', async () => {
    const early = await host(repo, hostIdIn(repo, true));
    const late = await host(repo, hostIdIn(repo, false));
    const onEarly = await runShim(['--version'], early);
    const onLate = await runShim(['--version'], late);
    expect(ranMini(onEarly)).toBe(`${repo}:${V2}`);
    expect(ranMini(onLate)).toBe(`${repo}:${V1}`);
    expect([onEarly.stderr, onLate.stderr]).toEqual(['', '']);
    const lateBucket = computeHostBucket('stable', late.RUN_DOCKER_HOST_ID!, repo);
    expect(releaseLine(onEarly)).toMatch(
      /^release channel stable, bucket \d+: the newest mini \(staged, now at 50%, which admits bucket \d+\)$/,
    );
    expect(releaseLine(onLate)).toMatch(
      new RegExp(
        `^release channel stable, bucket ${lateBucket}: the newest mini that has reached this host \\(no rollout schedule: every host\\); not yet here: ${V2} \\(at 50%; this host from \\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z\\)$`,
      ),
    );
    // Each host's record holds what it ran: the staged mini never raised the late one's.
    expect(JSON.parse(await readFile(stateFile(late, 'mini-versions.json'), 'utf8'))).toEqual({
      minis: { [repo]: V1 },
    });
    // A second call of the waiting host: the same, from its cache, still without a word.
    const again = await runShim(['--version'], late);
    expect([ranMini(again), again.stderr]).toEqual([`${repo}:${V1}`, '']);
  });

  test('reaches a canary host first, whatever its bucket; --show-config says channel and bucket', async () => {
    const canary = await host(repo, hostIdIn(repo, false), { RUN_DOCKER_CHANNEL: 'canary' });
    const outcome = await runShim(['--version'], canary);
    expect(ranMini(outcome)).toBe(`${repo}:${V2}`);
    expect(releaseLine(outcome)).toMatch(/^release channel canary, bucket 0: /);
    const shown = await runShim(['--show-config'], canary);
    expect(shown.stdout).toMatch(/^channel +canary +\(env RUN_DOCKER_CHANNEL\)$/m);
    expect(shown.stdout).toMatch(
      new RegExp(`^rollout bucket +0 of 0-99 for ${repo.replace(/[.]/g, '\\.')} +\\(canary: always 0\\)$`, 'm'),
    );
    // The identity itself is never shown.
    expect(shown.stdout).not.toContain(canary.RUN_DOCKER_HOST_ID);
  });

  test('followed on a channel run-docker does not know: one line, exit 125, nothing run', async () => {
    const hostEnv = await host(repo, 'host-beta', { RUN_DOCKER_CHANNEL: 'beta' });
    expect(expectOneLineFailure(await runShim(['--version'], hostEnv))).toBe(
      'run-docker: the channel "beta" (from env RUN_DOCKER_CHANNEL) is not one run-docker knows. Write "stable" or "canary" (docs/releasing.md), or remove it to follow stable.',
    );
  });

  test('re-pushed without its schedule by someone without the key, it is refused: it cannot reach every host at once', async () => {
    const stripped = `${prefix}/mini-stripped`;
    await publishMini(stripped, V1);
    await publishMini(stripped, V2, ['--rollout', '50%,100%@1d']);
    await repushWithManifest(`${stripped}:${V2}`, `${stripped}:${V2}`, ({ rollout: _dropped, ...rest }) => rest);
    const hostEnv = await host(stripped, hostIdIn(stripped, true));
    const outcome = await runShim(['--version'], hostEnv);
    expect(ranMini(outcome)).toBe(`${stripped}:${V1}`);
    expect(stderrLines(outcome)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^run-docker: warning: the newest mini ".*/mini-stripped:${V2}" cannot be used: its signature by key [0-9a-f]{16} does not verify; `,
        ),
      ),
    ]);
  });
});

describe('a halt', () => {
  test('sends the hosts that moved forward to the earlier payload, leaves the others on theirs, and the halted version never runs again', async () => {
    const repo = `${prefix}/mini-halt`;
    await publishMini(repo, V1);
    await publishMini(repo, V2, ['--rollout', '50%,100%@1d'], 'trusted', await checkoutOfRevision('bad'));
    const moved = await host(repo, hostIdIn(repo, true));
    const stayed = await host(repo, hostIdIn(repo, false));
    expect(ranMini(await runShim(['--version'], moved))).toBe(`${repo}:${V2}`);
    expect(ranMini(await runShim(['--version'], stayed))).toBe(`${repo}:${V1}`);

    images.push(`${repo}:${V3}`);
    await publish('halt', repo, [V2, '--version', V3]);
    const onMoved = await runShim(['--version'], moved);
    const onStayed = await runShim(['--version'], stayed);
    expect([ranMini(onMoved), onMoved.stderr]).toEqual([`${repo}:${V3}`, '']);
    expect([ranMini(onStayed), onStayed.stderr]).toEqual([`${repo}:${V3}`, '']);
    // The halt mini carries the good payload: what the host that stayed ran before, byte for byte.
    const good = await cachedEntrySha256(stayed, `${repo}:${V1}`);
    expect(await cachedEntrySha256(moved, `${repo}:${V3}`)).toBe(good);
    expect(await cachedEntrySha256(stayed, `${repo}:${V3}`)).toBe(good);
    expect(await cachedEntrySha256(moved, `${repo}:${V2}`)).not.toBe(good);
    // Going back went forward: the record rose to the halt mini's version, nothing was lowered.
    expect(JSON.parse(await readFile(stateFile(moved, 'mini-versions.json'), 'utf8'))).toEqual({
      minis: { [repo]: V3 },
    });
    expect(JSON.parse(await readFile(stateFile(moved, 'releases.json'), 'utf8'))).toEqual({
      repositories: { [repo]: { addedKeys: [], retiredKeys: [], halted: [V2] } },
    });
    // Pinned, a halted version still runs: the operator's choice, as any pin.
    const pinned = await runShim(['--version'], { ...moved, RUN_DOCKER_MINI: `${repo}:${V2}` });
    expect([ranMini(pinned), pinned.stderr]).toEqual([`${repo}:${V2}`, '']);
    // A later mini carries the halt on, signed again: a fresh host learns it from the newest.
    await publishMini(repo, V4);
    const fresh = await host(repo, hostIdIn(repo, false, 1));
    expect(ranMini(await runShim(['--version'], fresh))).toBe(`${repo}:${V4}`);
    expect(JSON.parse(await readFile(stateFile(fresh, 'releases.json'), 'utf8'))).toEqual({
      repositories: { [repo]: { addedKeys: [], retiredKeys: [], halted: [V2] } },
    });
  });

  test('whose statement someone without the key unsigned or re-signed is ignored, with one warning', async () => {
    const repo = `${prefix}/mini-forged-halt`;
    await publishMini(repo, V1);
    await publishMini(repo, V2, [], 'trusted', await checkoutOfRevision('bad'));
    images.push(`${repo}:${V3}`);
    await publish('halt', repo, [V2, '--version', V3]);
    await repushWithManifest(`${repo}:${V3}`, `${repo}:${V3}`, (manifest) => ({
      ...manifest,
      halts: { versions: [V2], signature: null },
    }));
    const fresh = await host(repo, 'host-forged');
    const outcome = await runShim(['--version'], fresh);
    // The payload is still signed: it runs; only the halt is not followed.
    expect(ranMini(outcome)).toBe(`${repo}:${V3}`);
    expect(stderrLines(outcome)).toEqual([
      `run-docker: warning: the halt statement of the mini "${repo}:${V3}" is ignored: it is not signed`,
    ]);
    await expect(readFile(stateFile(fresh, 'releases.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('is refused by publish when it would send hosts back past a newer mini, or go back to a mini still rolling out', async () => {
    const repo = `${prefix}/mini-halt-refused`;
    await publishMini(repo, V1, ['--rollout', '10%,100%@1d']);
    await publishMini(repo, V2, [], 'trusted', await checkoutOfRevision('bad'));
    const { trusted } = await import('../helpers/shim').then((shim) => shim.signingKeys());
    const notNewest = await publishFails(['halt', V1, '--repo', repo, '--signing-key', trusted.privateKey]);
    expect({ code: notNewest.code, lines: stderrLines({ stderr: notNewest.stderr } as Outcome) }).toEqual({
      code: 2,
      lines: [
        `publish: cannot halt: mini ${V1} is not the newest (${V2} is): a halt sends every host back past the newer ones too; halt ${V2}, or publish a good payload with "scripts/publish mini --from VERSION"`,
      ],
    });
    const stillRolling = await publishFails(['halt', V2, '--repo', repo, '--signing-key', trusted.privateKey]);
    expect(stillRolling.code).toBe(2);
    expect(stderrLines({ stderr: stillRolling.stderr } as Outcome)).toEqual([
      `publish: cannot halt ${V2}: no mini before it can take its place (tried ${V1} (it is still rolling out (at 10%))); publish a good payload with "scripts/publish mini --from VERSION"`,
    ]);
    const unsigned = await publishFails(['halt', V2, '--repo', repo]);
    expect(stderrLines({ stderr: unsigned.stderr } as Outcome)).toEqual([
      'publish: halt needs --signing-key (or RUN_DOCKER_SIGNING_KEY_FILE): hosts ignore what no trusted key signed',
    ]);
  });
});

describe('a roll forward', () => {
  test('republishes an earlier payload, verified first, under a new version that no rollback rule blocks', async () => {
    const repo = `${prefix}/mini-forward`;
    await publishMini(repo, V1, [], 'none');
    await publishMini(repo, V2);
    await publishMini(repo, V3, [], 'trusted', await checkoutOfRevision('bad'));
    const hostEnv = await host(repo, 'host-forward');
    expect(ranMini(await runShim(['--version'], hostEnv))).toBe(`${repo}:${V3}`);

    await publishMini(repo, V4, ['--from', V2]);
    const outcome = await runShim(['--version'], hostEnv);
    expect([ranMini(outcome), outcome.stderr]).toEqual([`${repo}:${V4}`, '']);
    const published = await readMiniFiles(`${repo}:${V2}`);
    expect(await cachedEntrySha256(hostEnv, `${repo}:${V4}`)).toBe(sha256(published.get('run.js')!));
    const forward = await readMiniFiles(`${repo}:${V4}`);
    expect(forward.get('build.js')).toEqual(published.get('build.js'));
    expect(forward.get('THIRD-PARTY-NOTICES.txt')).toEqual(published.get('THIRD-PARTY-NOTICES.txt'));

    // A payload no key publish knows signed is not republished.
    const { trusted } = await import('../helpers/shim').then((shim) => shim.signingKeys());
    const refused = await publishFails([
      'mini',
      '--repo',
      repo,
      '--from',
      V1,
      '--version',
      '20260105-000000',
      '--signing-key',
      trusted.privateKey,
    ]);
    expect({ code: refused.code, lines: stderrLines({ stderr: refused.stderr } as Outcome) }).toEqual({
      code: 2,
      lines: [`publish: --from ${V1} is not republished: it is not signed`],
    });
  });
});

describe('a key rotation', () => {
  test('signed by the old key makes hosts trust the new one and never the retired one again; a fresh host follows the chain', async () => {
    const repo = `${prefix}/mini-rotation`;
    const { next } = await import('../helpers/shim').then((shim) => shim.signingKeys());
    await publishMini(repo, V1);
    const hostEnv = await host(repo, 'host-rotation');
    expect(ranMini(await runShim(['--version'], hostEnv))).toBe(`${repo}:${V1}`);

    images.push(`${repo}:${V2}`);
    await publish('rotate-key', repo, ['--new', next.privateKey, '--version', V2]);
    const rotated = await runShim(['--version'], hostEnv);
    expect([ranMini(rotated), rotated.stderr]).toEqual([`${repo}:${V2}`, '']);
    const state = JSON.parse(await readFile(stateFile(hostEnv, 'releases.json'), 'utf8')) as {
      repositories: Record<string, { addedKeys: Array<{ keyId: string }>; retiredKeys: string[] }>;
    };
    const entry = state.repositories[repo]!;
    expect(entry.addedKeys).toHaveLength(1);
    expect(entry.retiredKeys).toHaveLength(1);
    expect(await cachedEntrySha256(hostEnv, `${repo}:${V2}`)).toBe(await cachedEntrySha256(hostEnv, `${repo}:${V1}`));

    // Signed by the new key from now on, with no word of a rotation of its own.
    await publishMini(repo, V3, [], 'next');
    const later = await runShim(['--version'], hostEnv);
    expect([ranMini(later), later.stderr]).toEqual([`${repo}:${V3}`, '']);
    // A fresh host (its tiny trusts only the old key) follows the chain the newest mini carries.
    const fresh = await host(repo, 'host-rotation-fresh');
    const onFresh = await runShim(['--version'], fresh);
    expect([ranMini(onFresh), onFresh.stderr]).toEqual([`${repo}:${V3}`, '']);

    // The old key, stolen: a host that has seen its retirement refuses what it signs.
    // The thief publishes as the team did before the rotation: the newest mini that key signed is V1.
    await publishMini(repo, V4, [], 'trusted');
    const stolen = await runShim(['--version'], hostEnv);
    expect(ranMini(stolen)).toBe(`${repo}:${V3}`);
    expect(stderrLines(stolen)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^run-docker: warning: the newest mini ".*:${V4}" cannot be used: it is signed by key ${entry.retiredKeys[0]}, which a key rotation this host has seen retired; publish it signed with a key this host trusts; running the newest usable mini on this host instead$`,
        ),
      ),
    ]);
    // Nor can the stolen key rotate itself back in: its statement adding it is passed over.
    const { trusted } = await import('../helpers/shim').then((shim) => shim.signingKeys());
    images.push(`${repo}:20260105-000000`);
    await publish('rotate-key', repo, ['--new', trusted.privateKey, '--keep-old', '--version', '20260105-000000']);
    const readded = await runShim(['--version'], hostEnv);
    expect(ranMini(readded)).toBe(`${repo}:${V3}`);
    expect(stderrLines(readded)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^run-docker: warning: the newest mini ".*:20260105-000000" cannot be used: it is signed by key ${entry.retiredKeys[0]}, which a key rotation this host has seen retired; publish it signed with a key this host trusts; running the newest usable mini on this host instead; also skipped 1 older mini: ${V4} \\(it is signed by key ${entry.retiredKeys[0]}, which a key rotation this host has seen retired\\)$`,
        ),
      ),
    ]);
    expect(JSON.parse(await readFile(stateFile(hostEnv, 'releases.json'), 'utf8'))).toEqual(state);
    // What rotation does not protect (docs/trust.md, key compromise): a host with no state that
    // meets the thief's mini first trusts its tiny's keys, the stolen one among them.
    const unaware = await host(repo, 'host-rotation-unaware');
    expect(ranMini(await runShim(['--version'], unaware))).toBe(`${repo}:20260105-000000`);
  });

  test('is refused by publish while the newest mini is still rolling out: waiting hosts would be left with no trusted mini', async () => {
    const repo = `${prefix}/mini-rotation-refused`;
    const { trusted, next } = await import('../helpers/shim').then((shim) => shim.signingKeys());
    await publishMini(repo, V1, ['--rollout', '10%,100%@1d']);
    const refused = await publishFails([
      'rotate-key',
      '--repo',
      repo,
      '--signing-key',
      trusted.privateKey,
      '--new',
      next.privateKey,
    ]);
    expect({ code: refused.code, lines: stderrLines({ stderr: refused.stderr } as Outcome) }).toEqual({
      code: 2,
      lines: [
        `publish: rotate-key republishes the newest mini, ${V1}, for every host, and it is still rolling out (at 10%): let it reach 100%, or halt it first`,
      ],
    });
  });
});

describe('a shim before 0.2.0', () => {
  test('skips a staged or rotated mini as made for a newer shim (one warning), and runs a halt', async () => {
    const oldShim = await buildShimOfVersion('0.1.0');
    const repo = `${prefix}/mini-old-shim`;
    const wide = ['--shim-range', '>=0.1.0 <1.0.0'];
    await publishMini(repo, V1, wide);
    // Even asked to admit older shims, a staged mini is narrowed to those that follow schedules.
    await publishMini(repo, V2, [...wide, '--rollout', '100%'], 'trusted', await checkoutOfRevision('bad'));
    const hostEnv = await host(repo, 'host-old-shim');
    const run = async () => {
      const { runCommand } = await import('../helpers/fixtures');
      const result = await runCommand(process.execPath, [oldShim, '--version'], { env: hostEnv });
      return { ...result, signal: null } as Outcome;
    };
    const staged = await run();
    expect(staged.stdout).toMatch(/^run-docker shim 0\.1\.0$/m);
    expect(ranMini(staged)).toBe(`${repo}:${V1}`);
    expect(stderrLines(staged)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^run-docker: warning: the newest mini ".*:${V2}" cannot be used: it needs shim >=0\\.1\\.0 <1\\.0\\.0 >=0\\.2\\.0 and this shim is 0\\.1\\.0; update the shim`,
        ),
      ),
    ]);
    // The halt mini is the old payload under a new version, signed as every mini before: it runs.
    images.push(`${repo}:${V3}`);
    await publish('halt', repo, [V2, '--version', V3]);
    const halted = await run();
    expect([ranMini(halted), halted.stderr]).toEqual([`${repo}:${V3}`, '']);
    // A rotation's mini is signed by a key its tiny does not know: skipped as for another shim.
    const { next } = await import('../helpers/shim').then((shim) => shim.signingKeys());
    images.push(`${repo}:${V4}`);
    await publish('rotate-key', repo, ['--new', next.privateKey, '--version', V4]);
    const rotated = await run();
    expect(ranMini(rotated)).toBe(`${repo}:${V3}`);
    expect(stderrLines(rotated)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^run-docker: warning: the newest mini ".*:${V4}" cannot be used: it needs shim .*>=0\\.2\\.0 and this shim is 0\\.1\\.0`,
        ),
      ),
    ]);
  });
});
