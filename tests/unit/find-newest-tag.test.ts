/**
 * The locator's choice (payload/locator/find-newest-tag.ts, list-tags-newest-first.ts) on an
 * engine in memory and a tag list served on 127.0.0.1: which tag, whether it is on the host,
 * which warning, which error. Against the real engine and registry: locator, fleet-faults.
 */
import { findNewestTag, listLocalTagsNewestFirst } from '../../payload/locator/find-newest-tag';
import { listTagsNewestFirst } from '../../payload/locator/list-tags-newest-first';
import { createFakeEngine, type FakeEngine } from '../helpers/fake-engine';
import { failure, makeLocatorContext } from '../helpers/locator-context';
import { useTagServer, type TagServer } from '../helpers/tag-server';

const fixture = useTagServer('run-docker-find-newest-');
let home: string;
let server: TagServer;
let engine: FakeEngine;
let repository: string;
beforeEach(() => {
  ({ home, server, engine, repository } = fixture);
});

function context(overrides: Parameters<typeof makeLocatorContext>[2] = {}) {
  return makeLocatorContext(engine, { HOME: home, RUN_DOCKER_REGISTRY_DEADLINE_MS: '600000' }, overrides);
}

it('takes the newest of local and registry tags, and says whether it is on the host', async () => {
  engine.addImage([`${repository}:1.0.0`, `${repository}:latest`], {});
  server.tags.set('team/app', ['1.0.0', '1.2.0', 'nightly']);
  const { ctx, warnings } = context();
  expect(await findNewestTag(ctx, repository)).toEqual({ tag: '1.2.0', presentLocally: false });
  engine.addImage(`${repository}:1.2.0`, {});
  expect(await findNewestTag(ctx, repository)).toEqual({ tag: '1.2.0', presentLocally: true });
  expect(warnings).toEqual([]);
});

it('matches the repository exactly: another registry or a longer name is not it', async () => {
  engine.addImage([`${repository}-main:9.0.0`, 'team/app:8.0.0', `${repository}:1.0.0`], {});
  const { ctx } = context({ local: true });
  expect(await findNewestTag(ctx, repository)).toEqual({ tag: '1.0.0', presentLocally: true });
});

it('with --local asks no registry and refuses a repository with no usable tag on the host', async () => {
  engine.addImage(`${repository}:nightly`, {});
  server.failWith = 500; // would be a warning if it were asked
  const { ctx, warnings } = context({ local: true });
  const error = await failure(findNewestTag(ctx, repository));
  expect(error.message).toBe(`no usable tag of "${repository}" among the images on this host (--local) (1 other tag)`);
  expect(error.hint).toMatch(
    /^With --local only images already on this host are considered: pull or build a tagged image/,
  );
  expect(warnings).toEqual([]);
});

it('a failing registry: one warning, and the newest tag on the host', async () => {
  engine.addImage(`${repository}:20260101-000000`, {});
  server.failWith = 503;
  const { ctx, warnings } = context();
  expect(await findNewestTag(ctx, repository)).toEqual({ tag: '20260101-000000', presentLocally: true });
  expect(warnings).toEqual([
    `the registry "${server.registry}" is failing (HTTP 503 Service Unavailable); using the images of "${repository}" on this host`,
  ]);
});

it('a registry answering what it cannot read (an HTML page with 200): one warning, and the newest tag on the host', async () => {
  engine.addImage(`${repository}:20260101-000000`, {});
  server.portal = '<html><body>Sign in to the guest network</body></html>';
  const { ctx, warnings } = context();
  expect(await findNewestTag(ctx, repository)).toEqual({ tag: '20260101-000000', presentLocally: true });
  expect(warnings).toEqual([
    `the registry "${server.registry}" sent a malformed tag list for "${repository}" (text/html, not JSON); using the images of "${repository}" on this host`,
  ]);
});

it('a failing registry and nothing on the host: one error line that says both', async () => {
  server.failWith = 503;
  const { ctx } = context();
  expect((await failure(findNewestTag(ctx, repository))).message).toBe(
    `no usable tag of "${repository}" among the images on this host (the registry "${server.registry}" is failing (HTTP 503 Service Unavailable))`,
  );
});

it('lists every usable tag newest first, once each, for the fallback chain', async () => {
  engine.addImage([`${repository}:20260101-000000`, `${repository}:20260103-000000`], {});
  server.tags.set('team/app', ['20260102-000000', '20260103-000000', 'latest-build']);
  const { ctx } = context();
  expect(await listTagsNewestFirst(ctx, repository)).toEqual([
    { tag: '20260103-000000', presentLocally: true },
    { tag: '20260102-000000', presentLocally: false },
    { tag: '20260101-000000', presentLocally: true },
  ]);
  expect(await listLocalTagsNewestFirst(ctx, repository)).toEqual(['20260103-000000', '20260101-000000']);
});

it('an engine that cannot be reached: one line naming it', async () => {
  engine = createFakeEngine({ unreachable: true });
  const { ctx } = context({ local: true });
  expect((await failure(findNewestTag(ctx, repository))).message).toBe(
    'cannot reach the Docker engine at "unix:///var/run/docker.sock" (ENOENT)',
  );
});

it('a tag or digest is not a repository', async () => {
  const { ctx } = context();
  expect((await failure(findNewestTag(ctx, `${repository}:1.0.0`))).message).toBe(
    `"${repository}:1.0.0" names a tag or digest, not a repository`,
  );
});

describe("only tags with an image for the engine's platform", () => {
  const amd64 = { os: 'linux', architecture: 'amd64' };
  const arm64 = { os: 'linux', architecture: 'arm64' };
  const platform = () => Promise.resolve(amd64);

  it('a newer registry tag for another platform is skipped with one warning; the newest local one runs', async () => {
    engine.addImage(`${repository}:1.0.0`, {});
    server.tags.set('team/app', ['1.0.0', '2.0.0']);
    server.manifests.set('team/app:2.0.0', { image: arm64 });
    const { ctx, warnings } = context();
    expect(await findNewestTag(ctx, repository, { platform })).toEqual({ tag: '1.0.0', presentLocally: true });
    expect(warnings).toEqual([
      `the newest tag of "${repository}", "2.0.0", has no image for linux/amd64 (it is for linux/arm64); running "${repository}:1.0.0"`,
    ]);
    // A single image: its manifest, then its config.
    expect(server.manifestRequests.map((path) => path.split('/')[4])).toEqual(['manifests', 'blobs']);
  });

  it('an index for this platform counts (one request); an older one of another platform behind it is never asked about', async () => {
    server.tags.set('team/app', ['1.0.0', '2.0.0', '3.0.0']);
    server.manifests.set('team/app:3.0.0', { index: [arm64, amd64] });
    server.manifests.set('team/app:2.0.0', { image: arm64 });
    const { ctx, warnings } = context();
    expect(await findNewestTag(ctx, repository, { platform })).toEqual({ tag: '3.0.0', presentLocally: false });
    expect(server.manifestRequests).toEqual([`/v2/team/app/manifests/3.0.0`]);
    expect(warnings).toEqual([]);
  });

  it('no tag for this platform anywhere is one line naming each tag asked about and its platforms', async () => {
    server.tags.set('team/app', ['1.0.0', '2.0.0']);
    server.manifests.set('team/app:2.0.0', { image: arm64 });
    server.manifests.set('team/app:1.0.0', { index: [arm64, { os: 'windows', architecture: 'amd64' }] });
    const { ctx, warnings } = context();
    const error = await failure(findNewestTag(ctx, repository, { platform }));
    expect(error.message).toBe(
      `no tag of "${repository}" has an image for linux/amd64, the engine's platform (the newest 2 are for "2.0.0": linux/arm64; "1.0.0": linux/arm64, windows/amd64)`,
    );
    // The line says it all: no warning before it.
    expect(warnings).toEqual([]);
  });

  it('asks about five tags at most a call, then runs the newest local one', async () => {
    engine.addImage(`${repository}:1.0.0`, {});
    const newer = ['2.0.0', '3.0.0', '4.0.0', '5.0.0', '6.0.0', '7.0.0', '8.0.0'];
    server.tags.set('team/app', ['1.0.0', ...newer]);
    for (const tag of newer) server.manifests.set(`team/app:${tag}`, { index: [arm64] });
    const { ctx, warnings } = context();
    expect(await findNewestTag(ctx, repository, { platform })).toEqual({ tag: '1.0.0', presentLocally: true });
    expect(server.manifestRequests).toHaveLength(5);
    expect(warnings[0]).toMatch(/^the 5 newest tags of /);
  });

  it('a manifest the registry does not show, an engine that does not say its platform, or no platform asked for: the newest counts', async () => {
    server.tags.set('team/app', ['1.0.0', '2.0.0']);
    const { ctx, warnings } = context();
    expect(await findNewestTag(ctx, repository, { platform })).toEqual({ tag: '2.0.0', presentLocally: false });
    server.manifests.set('team/app:2.0.0', { image: arm64 });
    server.manifestRequests.length = 0;
    expect(await findNewestTag(ctx, repository, { platform: () => Promise.resolve(undefined) })).toEqual({
      tag: '2.0.0',
      presentLocally: false,
    });
    expect(await findNewestTag(ctx, repository)).toEqual({ tag: '2.0.0', presentLocally: false });
    expect(server.manifestRequests).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
