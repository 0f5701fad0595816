/**
 * Which image the run payload runs (payload/run/resolve-image.ts) on an engine in memory and
 * a tag list served on 127.0.0.1: pinned or newest, pulled or not, and where a pull the
 * registry cannot serve falls back to this host. Against the real engine and registry:
 * run-behaviour, fleet-faults, pull-progress, bad-input.
 */
import { resolveImage, selectRepoDigest } from '../../payload/run/resolve-image';
import { createFakeEngine, type FakeEngine } from '../helpers/fake-engine';
import { failure, makeLocatorContext } from '../helpers/locator-context';
import { useTagServer, type TagServer } from '../helpers/tag-server';

const fixture = useTagServer('run-docker-resolve-');
let home: string;
let server: TagServer;
let engine: FakeEngine;
let repository: string;
let progressText: string;
beforeEach(() => {
  ({ home, server, engine, repository } = fixture);
  progressText = '';
});

function resolve(
  text: string,
  { local = false, pull = true, env = {} }: { local?: boolean; pull?: boolean; env?: Record<string, string> } = {},
) {
  const { ctx, warnings } = makeLocatorContext(
    engine,
    { HOME: home, RUN_DOCKER_REGISTRY_DEADLINE_MS: '600000', ...env },
    { local },
  );
  const progress = {
    stream: { write: (text: string) => (progressText += text) },
    mode: 'plain' as const,
    color: false,
  };
  return { result: resolveImage(ctx, text, { pull, progress }), warnings };
}

const pulls = () => engine.calls.filter((line) => line.startsWith('pullImage'));

it('a pinned tag on the host: that image, nothing pulled, no registry asked', async () => {
  const id = engine.addImage(`${repository}:1.0.0`, {});
  server.failWith = 500;
  const { result, warnings } = resolve(`${repository}:1.0.0`);
  expect(await result).toEqual({ reference: `${repository}:1.0.0`, repository, name: 'app', version: '1.0.0', id });
  expect(pulls()).toEqual([]);
  expect(warnings).toEqual([]);
});

it('the newest tag, pulled from the registry with progress on stderr', async () => {
  engine.addImage(`${repository}:1.0.0`, {});
  engine.publish(`${repository}:1.1.0`, { labels: { v: '1.1.0' } });
  server.tags.set('team/app', ['1.0.0', '1.1.0']);
  const { result } = resolve(repository);
  const image = await result;
  expect(image).toMatchObject({ reference: `${repository}:1.1.0`, version: '1.1.0' });
  expect(image.id).toBe((await engine.inspectImage(`${repository}:1.1.0`))?.id);
  expect(pulls()).toEqual([`pullImage ${repository}:1.1.0`]);
  expect(progressText).toMatch(/Downloaded newer image/);
});

it('--dry-run: nothing pulled, and no ID for an image not on the host', async () => {
  server.tags.set('team/app', ['1.1.0']);
  engine.publish(`${repository}:1.1.0`, {});
  const { result } = resolve(repository, { pull: false });
  expect(await result).toMatchObject({ reference: `${repository}:1.1.0`, id: undefined });
  expect(pulls()).toEqual([]);
});

it('--local and a pinned image not on the host: one line, nothing pulled', async () => {
  const { result } = resolve(`${repository}:1.0.0`, { local: true });
  const error = await failure(result);
  expect([error.message, error.hint]).toEqual([
    `the image "${repository}:1.0.0" is not on this host, and --local forbids pulling it`,
    'Run without --local to pull it, or build or load it first.',
  ]);
  expect(pulls()).toEqual([]);
});

describe('a pull the registry cannot serve', () => {
  beforeEach(() => {
    engine.addImage(`${repository}:1.0.0`, {});
    server.tags.set('team/app', ['1.0.0', '2.0.0']);
  });

  it('rate limited: one warning, and the newest tag on this host runs', async () => {
    engine.failPull(`${repository}:2.0.0`, { errorEvent: 'toomanyrequests: You have reached your pull rate limit.' });
    const { result, warnings } = resolve(repository);
    expect(await result).toMatchObject({ reference: `${repository}:1.0.0`, version: '1.0.0' });
    expect(warnings).toEqual([
      `the registry is rate limiting this host and refused to pull "${repository}:2.0.0" (toomanyrequests: You have reached your pull rate limit.); running "${repository}:1.0.0", the newest on this host`,
    ]);
  });

  it('stalled: cancelled after RUN_DOCKER_PULL_STALL_MS, and the newest tag on this host runs', async () => {
    engine.failPull(`${repository}:2.0.0`, 'stall');
    const { result, warnings } = resolve(repository, { env: { RUN_DOCKER_PULL_STALL_MS: '50' } });
    expect(await result).toMatchObject({ reference: `${repository}:1.0.0` });
    expect(warnings).toEqual([
      `the pull of "${repository}:2.0.0" made no progress for 0.05 s and was cancelled; running "${repository}:1.0.0", the newest on this host`,
    ]);
  });

  it("pinned: the pull's failure is the answer", async () => {
    engine.failPull(`${repository}:2.0.0`, { errorEvent: 'toomanyrequests: slow down' });
    const { result, warnings } = resolve(`${repository}:2.0.0`);
    expect((await failure(result)).message).toBe(
      `the registry is rate limiting this host and refused to pull "${repository}:2.0.0" (toomanyrequests: slow down)`,
    );
    expect(warnings).toEqual([]);
  });

  it('missing from the registry: not a reason to fall back', async () => {
    const { result, warnings } = resolve(repository);
    expect((await failure(result)).message).toBe(
      `the image "${repository}:2.0.0" is not in its registry (manifest for ${repository}:2.0.0 not found: manifest unknown: manifest unknown)`,
    );
    expect(warnings).toEqual([]);
  });
});

describe('selectRepoDigest', () => {
  const d1 = `sha256:${'1'.repeat(64)}`;
  const d2 = `sha256:${'2'.repeat(64)}`;

  it('takes the digest of exactly this repository, when it has one', () => {
    expect(selectRepoDigest([`r:5000/team/app-main@${d2}`, `r:5000/team/app@${d1}`], 'r:5000/team/app')).toBe(d1);
    expect(selectRepoDigest([`r:5000/team/app-main@${d2}`], 'r:5000/team/app')).toBeUndefined();
    expect(selectRepoDigest(undefined, 'r:5000/team/app')).toBeUndefined();
  });

  it('takes none when the repository has two: which one the tag stands for is not known', () => {
    expect(selectRepoDigest([`r:5000/team/app@${d1}`, `r:5000/team/app@${d2}`], 'r:5000/team/app')).toBeUndefined();
  });
});

describe('on Podman, which keeps names qualified (docs/engines.md)', () => {
  beforeEach(() => {
    engine = createFakeEngine({ identity: { kind: 'podman', version: '4.3.1' } });
  });

  it('finds an image it built or loaded without a registry under localhost/, and runs it by that name', async () => {
    const id = engine.addImage('localhost/team/app:1.2.0', {});
    engine.addImage('docker.io/team/app:1.0.0', {});
    const { result, warnings } = resolve('team/app', { local: true });
    expect(await result).toEqual({
      reference: 'localhost/team/app:1.2.0',
      repository: 'team/app',
      name: 'app',
      version: '1.2.0',
      id,
    });
    expect(warnings).toEqual([]);
    // Pinned, too; and a Docker Hub image it pulled is found under docker.io/.
    expect((await resolve('team/app:1.0.0', { local: true }).result).reference).toBe('docker.io/team/app:1.0.0');
    expect((await resolve('team/app:1.2.0', { local: true }).result).reference).toBe('localhost/team/app:1.2.0');
  });

  it('leaves a name with a registry as it is', async () => {
    engine.addImage(`${repository}:1.0.0`, {});
    engine.addImage(`localhost/${repository}:2.0.0`, {});
    expect((await resolve(repository, { local: true }).result).reference).toBe(`${repository}:1.0.0`);
  });

  it('on Docker, localhost/ is just another repository', async () => {
    engine = createFakeEngine();
    engine.addImage('localhost/team/app:1.2.0', {});
    const error = await failure(resolve('team/app', { local: true }).result);
    expect(error.message).toMatch(/^no usable tag of "team\/app" among the images on this host \(--local\)$/);
  });
});
