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
