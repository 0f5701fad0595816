/**
 * Signed payloads: a mini runs only when it is signed by a key the pinned tiny carries;
 * otherwise one line says why, and the newest trusted mini on the host runs instead.
 * Running unsigned payloads is a loud, explicit opt-in.
 */
import { removeImages } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { makeHost, PACKAGE_VERSION, publish, removeHosts, runShim, stderrLines, type Signer } from '../helpers/shim';

const SIGNED = '20260101-000000';
let registry: TestRegistry;
let prefix: string;
let host: Record<string, string>;
const images: string[] = [];

async function publishMini(tag: string, signer: Signer): Promise<void> {
  await publish('mini', `${prefix}/mini`, ['--version', tag], signer);
  images.push(`${prefix}/mini:${tag}`);
}

beforeAll(async () => {
  registry = await startRegistry();
  prefix = `${registry.address}/trust-${process.pid}`;
  const tiny = await publish('tiny', `${prefix}/tiny`);
  images.push(tiny, `${prefix}/tiny:${PACKAGE_VERSION}`);
  await publishMini(SIGNED, 'trusted');
  host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: `${prefix}/mini` });
});

afterAll(async () => {
  await removeImages(images);
  await registry?.remove();
  await removeHosts();
});

test('a mini signed with the trusted key runs without a word', async () => {
  const outcome = await runShim(['--version'], host);
  expect({ code: outcome.code, stderr: outcome.stderr }).toEqual({ code: 0, stderr: '' });
  expect(outcome.stdout).toContain(`mini ${prefix}/mini:${SIGNED}`);
});

test.each<[string, string, Signer, RegExp]>([
  ['unsigned', '20260102-000000', 'none', /it is not signed/],
  [
    'signed by a key tiny does not trust',
    '20260103-000000',
    'untrusted',
    /it is signed by key [0-9a-f]{16}, which this host does not trust/,
  ],
])('a newest mini %s is refused in one line, and the trusted one runs', async (_name, tag, signer, why) => {
  await publishMini(tag, signer);
  const outcome = await runShim(['--version'], host);
  expect(outcome.code).toBe(0);
  expect(outcome.stdout).toContain(`mini ${prefix}/mini:${SIGNED}`);
  const lines = stderrLines(outcome);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^run-docker: warning: the newest mini ".*/mini:${tag}" cannot be used: `));
  expect(lines[0]).toMatch(why);
  expect(lines[0]).toContain('publish it signed with a key this host trusts');
});

test('RUN_DOCKER_ALLOW_UNSIGNED=1 runs the newest mini anyway, with a loud warning every time', async () => {
  for (let call = 0; call < 2; call++) {
    const outcome = await runShim(['--version'], { ...host, RUN_DOCKER_ALLOW_UNSIGNED: '1' });
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain(`mini ${prefix}/mini:20260103-000000`);
    expect(stderrLines(outcome)).toEqual([
      expect.stringMatching(
        /^run-docker: warning: RUNNING UNTRUSTED CODE: mini ".*:20260103-000000" it is signed by key/,
      ),
    ]);
  }
});

test('a pinned mini that is not trusted is an error, not replaced', async () => {
  const outcome = await runShim(['--version'], { ...host, RUN_DOCKER_MINI: `${prefix}/mini:20260102-000000` });
  expect(outcome.code).toBe(125);
  expect(stderrLines(outcome)).toEqual([
    expect.stringMatching(
      /^run-docker: the mini image ".*:20260102-000000" cannot be used: it is not signed\. Pin a mini signed with a key this host trusts/,
    ),
  ]);
});

test('a tiny that trusts no key refuses every mini: one warning, then the payload built into the shim', async () => {
  const bareTiny = await publish('tiny', `${prefix}/tiny-no-keys`, ['--version', '0.0.1-nokeys'], 'none');
  images.push(bareTiny, `${prefix}/tiny-no-keys:0.0.1-nokeys`);
  const outcome = await runShim(['--version'], { ...host, RUN_DOCKER_TINY: bareTiny.replace(/@.*/, ':0.0.1-nokeys') });
  expect(outcome.code).toBe(0);
  expect(outcome.stdout).toMatch(/^mini built into shim .* \(no usable mini of /m);
  expect(stderrLines(outcome)).toEqual([
    // --version names a tiny pinned by tag (the next test).
    expect.stringMatching(
      /^run-docker: warning: the tiny image ".*:0\.0\.1-nokeys" .* is pinned by tag, not by digest/,
    ),
    expect.stringMatching(
      /^run-docker: warning: no usable mini of ".*\/mini": the newest, ".*" cannot be used: it is signed by key [0-9a-f]{16}, which this host does not trust; .*; running the payload built into shim .* instead\. Publish a mini signed with a key this host trusts/,
    ),
  ]);
});

test('a tiny pinned by tag, not digest: one warning on --show-config and on --version, none on a run', async () => {
  const byTag = `${prefix}/tiny:${PACKAGE_VERSION}`;
  const warning = `run-docker: warning: the tiny image "${byTag}" (from env RUN_DOCKER_TINY) is pinned by tag, not by digest: whoever can push that tag chooses the keys this host trusts; pin it as ${prefix}/tiny@sha256:… ("docker image inspect --format '{{index .RepoDigests 0}}' ${byTag}" prints it)`;
  // The mini pinned too: the newest minis of this file's other tests are refused with warnings of their own.
  const tagHost = { ...host, RUN_DOCKER_TINY: byTag, RUN_DOCKER_MINI: `${prefix}/mini:${SIGNED}` };
  const config = await runShim(['--show-config'], tagHost);
  expect({ code: config.code, stderr: stderrLines(config) }).toEqual({ code: 0, stderr: [warning] });
  expect(config.stdout).toMatch(new RegExp(`^tiny +${byTag.replace(/[.]/g, '\\.')} +\\(env RUN_DOCKER_TINY\\)$`, 'm'));
  const version = await runShim(['--version'], tagHost);
  expect({ code: version.code, stderr: stderrLines(version) }).toEqual({ code: 0, stderr: [warning] });
  expect(version.stdout).toContain(`tiny ${byTag} (${PACKAGE_VERSION})`);
  // A run is not where the trust root is checked: no warning on every call.
  const help = await runShim(['--help'], tagHost);
  expect({ code: help.code, stderr: help.stderr }).toEqual({ code: 0, stderr: '' });
  // Pinned by digest: not a word.
  const byDigest = await runShim(['--show-config'], host);
  expect({ code: byDigest.code, stderr: byDigest.stderr }).toEqual({ code: 0, stderr: '' });
});
