/**
 * Images for other platforms (issue 21, part B), on the real engine (amd64) and registry:
 * a teammate's arm64-only push is the newest tag; an index with both platforms; a pinned
 * tag of another platform. The arm64 image is files only (FROM scratch, built with
 * --platform linux/arm64 by the legacy builder: nothing runs, so no emulation); the index is
 * put through the registry API as `docker manifest push` would. No tiny is configured: the
 * payload built into the shim runs.
 */
import { buildBusyboxImage, buildFilesOnlyImage, docker, pushImage, removeImages } from '../helpers/fixtures';
import { putManifestList, startRegistry, type TestRegistry } from '../helpers/registry';
import {
  expectOneLineFailure,
  explain,
  makeHost,
  removeHosts,
  runShim,
  stderrLines,
  type Outcome,
} from '../helpers/shim';

let registry: TestRegistry;
let repo: string;
const built: string[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  repo = `${registry.address}/platforms-${process.pid}/app`;
}, 120_000);

afterAll(async () => {
  await removeImages(built);
  await registry?.remove();
  await removeHosts();
});

function expectSuccess(outcome: Outcome): void {
  if (outcome.code !== 0) throw new Error(`expected exit 0\n${explain(outcome)}`);
}

/** An image of `reference` for `platform` that holds only a file (never run), pushed, and gone from this host. */
async function pushFilesOnlyImage(reference: string, platform: string): Promise<void> {
  await buildFilesOnlyImage(reference, platform);
  built.push(reference);
  await pushImage(reference);
  await removeImages([reference]);
}

test("a newer tag with no image for this engine's platform is skipped with one warning naming its platforms; pinned, it is one line", async () => {
  // Yesterday's amd64 build is on this host; a teammate's arm64 laptop pushed today's.
  await buildBusyboxImage(`${repo}:20261127-090000`);
  built.push(`${repo}:20261127-090000`);
  await pushImage(`${repo}:20261127-090000`);
  await pushFilesOnlyImage(`${repo}:20261128-090000`, 'linux/arm64');
  const host = await makeHost({});

  const outcome = await runShim([repo, 'echo', 'ran'], host);
  expectSuccess(outcome);
  expect(outcome.stdout).toBe('ran\n');
  expect(stderrLines(outcome)).toEqual([
    `run-docker: warning: the newest tag of "${repo}", "20261128-090000", has no image for linux/amd64 (it is for linux/arm64); running "${repo}:20261127-090000"`,
  ]);
  // Not pulled: the engine would have taken it (a single image of another platform) and failed to run it.
  expect((await docker(['image', 'inspect', `${repo}:20261128-090000`])).code).not.toBe(0);

  const pinned = await runShim([`${repo}:20261128-090000`, 'true'], host);
  expect(expectOneLineFailure(pinned)).toBe(
    `run-docker: the image "${repo}:20261128-090000" has no image for linux/amd64, the engine's platform (it is for linux/arm64). Pin a tag built for linux/amd64, or publish this one for it too (build-docker --platform linux/amd64,…).`,
  );
  expect((await docker(['image', 'inspect', `${repo}:20261128-090000`])).code).not.toBe(0);
});

test('a newer index with an image for this platform is pulled and runs, without a word', async () => {
  await buildBusyboxImage(`${repo}:20261129-amd64`, { labels: { built: 'amd64' } });
  built.push(`${repo}:20261129-amd64`, `${repo}:20261129-090000`);
  await pushImage(`${repo}:20261129-amd64`);
  await pushFilesOnlyImage(`${repo}:20261129-arm64`, 'linux/arm64');
  await putManifestList(registry.address, repo.slice(registry.address.length + 1), '20261129-090000', [
    { tag: '20261129-amd64', platform: { os: 'linux', architecture: 'amd64' } },
    { tag: '20261129-arm64', platform: { os: 'linux', architecture: 'arm64' } },
  ]);
  await removeImages([`${repo}:20261129-amd64`]);
  const host = await makeHost({ RUN_DOCKER_QUIET: '1' });

  const outcome = await runShim([repo, 'sh', '-c', 'echo "$IMAGE_VERSION"'], host);
  expectSuccess(outcome);
  expect({ stdout: outcome.stdout, stderr: outcome.stderr }).toEqual({ stdout: '20261129-090000\n', stderr: '' });
  const pulled = await docker([
    'image',
    'inspect',
    '--format',
    '{{.Architecture}} {{index .Config.Labels "built"}}',
    `${repo}:20261129-090000`,
  ]);
  expect(pulled.stdout.trim()).toBe('amd64 amd64');
});
