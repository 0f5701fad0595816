/**
 * The locator against the real engine and a real registry (Debian's docker-registry,
 * distribution 2.8, on 127.0.0.1): pagination over hundreds of tags, --local, and the
 * fallback to local images when the registry is gone.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { createDockerodeEngineClient } from '../helpers/dockerode-engine-client';
import type { BaseContext } from '../../contract/contract';
import { RunDockerError } from '../../common/run-docker-error';
import { findNewestTag, listLocalTagsNewestFirst } from '../../payload/locator/main';
import { createRegistryClient } from '../../payload/locator/registry/create-registry-client';
import { sendWithNodeHttp, type SendRequest } from '../../payload/locator/registry/transport/send-with-node-http';
import { listen } from '../helpers/listen';
import { buildBusyboxImage, docker, pushImage, removeImages } from '../helpers/fixtures';
import { startForwardProxy } from '../helpers/forward-proxy';
import { failure, makeLocatorContext } from '../helpers/locator-context';
import { startRegistry, tagInRegistry, type TestRegistry } from '../helpers/registry';

// Building and pushing images takes longer than Jest's default 5 s per hook.
jest.setTimeout(120_000);

const RUN = `${process.pid}-${Date.now().toString(36)}`;
const REPO_PATH = `locator-test/app-${RUN}`;
const PUSHED_TAG = '1.0.0';
const LOCAL_ONLY_TAG = '20240101-000000';
const NEWEST = '20261231-235959';

/** 250 registry tags: date-times, dates, versions and tags that never count, in an order
 *  where the newest is neither first nor last. */
function registryTags(): string[] {
  const tags: string[] = [];
  for (let i = 0; i < 200; i++) {
    const day = new Date(Date.UTC(2025, 0, 1) + i * 86_400_000 + i * 61_000);
    tags.push(day.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15));
  }
  for (let i = 0; i < 20; i++) tags.push(`2.${i}.0`);
  for (let i = 0; i < 19; i++) tags.push(`sha256-${i.toString(16).padStart(64, 'a')}.sig`);
  tags.push('main', 'latest', 'feature-x', '26.12.30', 'v3.0.0', '1.2', 'dev', '99999999', 'release-2099', 'x.y.z');
  tags.splice(117, 0, NEWEST);
  return tags;
}

// Dockerode straight, not the shim's light client: that one keeps one image list per call,
// and this file builds and removes images between its lookups.
const engine = createDockerodeEngineClient(new Dockerode());
let registry: TestRegistry;
let repository: string;
let home: string;
const localRefs: string[] = [];

// The registry deadline counts every lookup in the process (registry-deadline.ts): this
// file is one long process, so it gets a budget no test here comes near.
function makeContext(overrides: Partial<BaseContext> = {}) {
  return makeLocatorContext(
    engine,
    { HOME: home, RUN_DOCKER_REGISTRY_PAGE_SIZE: '100', RUN_DOCKER_REGISTRY_DEADLINE_MS: '600000' },
    overrides,
  );
}

function recordingSend(requests: string[]): SendRequest {
  return (url, request, limits) => {
    requests.push(url);
    return sendWithNodeHttp(url, request, limits);
  };
}

/**
 * Distribution 2.8 (Debian's docker-registry) does not paginate tags/list. This proxy in
 * front of it does, with the semantics of the spec and of distribution 3: tags in lexical
 * order, `n` per page, `last` to continue, and a relative `Link: <…>; rel="next"`
 * (https://distribution.github.io/distribution/spec/api/#pagination). It passes the real
 * registry's tag list and status through and touches nothing else. `pageSize`, when given,
 * is what it sends whatever `n` asks, as a registry with its own page limit does.
 */
async function startPagingProxy(
  upstream: string,
  pageSize?: number,
): Promise<{ address: string; pageRequests: string[]; close(): Promise<void> }> {
  const pageRequests: string[] = [];
  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://proxy');
      const answer = await fetch(`http://${upstream}${url.pathname}`, { headers: { Accept: 'application/json' } });
      const body = await answer.text();
      if (!url.pathname.endsWith('/tags/list') || answer.status !== 200) {
        res.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(body);
        return;
      }
      pageRequests.push(req.url ?? '');
      const { name, tags } = JSON.parse(body) as { name: string; tags: string[] };
      const sorted = [...tags].sort();
      const last = url.searchParams.get('last');
      const n = pageSize ?? Number(url.searchParams.get('n') ?? sorted.length);
      const page = sorted.filter((tag) => last === null || tag > last).slice(0, n);
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      const lastOnPage = page.at(-1);
      if (page.length === n && lastOnPage !== undefined && sorted.at(-1) !== lastOnPage) {
        headers.Link = `<${url.pathname}?last=${encodeURIComponent(lastOnPage)}&n=${n}>; rel="next"`;
      }
      res.writeHead(200, headers);
      res.end(JSON.stringify({ name, tags: page }));
    })().catch((error: Error) => {
      res.writeHead(502);
      res.end(error.message);
    });
  });
  const serverPort = await listen(server);
  return {
    address: `127.0.0.1:${serverPort}`,
    pageRequests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'run-docker-locator-home-'));
  registry = await startRegistry();
  repository = `${registry.address}/${REPO_PATH}`;
  localRefs.push(`${repository}:${PUSHED_TAG}`, `${repository}:${LOCAL_ONLY_TAG}`);
  await buildBusyboxImage(`${repository}:${PUSHED_TAG}`);
  await pushImage(`${repository}:${PUSHED_TAG}`);
  const tags = registryTags();
  expect(tags).toHaveLength(250);
  await tagInRegistry(registry.address, REPO_PATH, PUSHED_TAG, tags);
  // Only on this host: older than the registry's newest, newer than anything else local.
  await docker(['tag', `${repository}:${PUSHED_TAG}`, `${repository}:${LOCAL_ONLY_TAG}`], { check: true });
});

afterAll(async () => {
  await removeImages(localRefs);
  await registry?.remove();
  await rm(home, { recursive: true, force: true });
});

describe('findNewestTag with a real registry', () => {
  it('finds the newest of 251 tags, which distribution 2.8 sends as one page whatever n asks', async () => {
    const { ctx, warnings } = makeContext();
    expect(await findNewestTag(ctx, repository)).toEqual({ tag: NEWEST, presentLocally: false });
    expect(warnings).toEqual([]);

    const requests: string[] = [];
    const client = await createRegistryClient(registry.address, {
      env: ctx.env,
      homeDir: home,
      send: recordingSend(requests),
    });
    const remote = await client.listTags(REPO_PATH);
    expect(new Set(remote)).toEqual(new Set([PUSHED_TAG, ...registryTags()]));
    expect(remote).toHaveLength(251);
    // distribution 2.8 ignores `n` and `last` on tags/list and sends no Link (tag pagination
    // arrived in distribution 3); the client asks for pages all the same.
    expect(requests).toEqual([`http://${registry.address}/v2/${REPO_PATH}/tags/list?n=100`]);
  });

  it('reads 3 pages of 100 from a registry that paginates tags/list as the spec says', async () => {
    const proxy = await startPagingProxy(registry.address);
    try {
      const viaProxy = `${proxy.address}/${REPO_PATH}`;
      const { ctx, warnings } = makeContext();
      // The tags exist under the proxy's address in the registry only, not on this host.
      expect(await findNewestTag(ctx, viaProxy)).toEqual({ tag: NEWEST, presentLocally: false });
      expect(warnings).toEqual([]);
      expect(proxy.pageRequests).toHaveLength(3);
      expect(proxy.pageRequests[0]).toBe(`/v2/${REPO_PATH}/tags/list?n=100`);
      expect(proxy.pageRequests[1]).toMatch(/[?&]last=/);
    } finally {
      await proxy.close();
    }
  });

  it('falls back to local images with one warning when the registry pages one tag at a time past the page limit', async () => {
    const proxy = await startPagingProxy(registry.address, 1);
    try {
      const viaProxy = `${proxy.address}/${REPO_PATH}`;
      await docker(['tag', `${repository}:${LOCAL_ONLY_TAG}`, `${viaProxy}:${LOCAL_ONLY_TAG}`], { check: true });
      localRefs.push(`${viaProxy}:${LOCAL_ONLY_TAG}`);
      const { ctx, warnings } = makeContext();
      // The 200 tags read are not used: the newest ones sort last, on pages never read.
      expect(await findNewestTag(ctx, viaProxy)).toEqual({ tag: LOCAL_ONLY_TAG, presentLocally: true });
      expect(warnings).toEqual([
        `the registry "${proxy.address}" pages the tags of "${viaProxy}" past the limit (more than 200 pages); using the images of "${viaProxy}" on this host`,
      ]);
      expect(proxy.pageRequests).toHaveLength(200);
    } finally {
      await proxy.close();
    }
  });

  it('with local: true uses only images on this host', async () => {
    const { ctx, warnings } = makeContext({ local: true });
    expect(await findNewestTag(ctx, repository)).toEqual({ tag: LOCAL_ONLY_TAG, presentLocally: true });
    expect(await listLocalTagsNewestFirst(ctx, repository)).toEqual([LOCAL_ONLY_TAG, PUSHED_TAG]);
    expect(warnings).toEqual([]);
  });

  it('with local: true names a repository that is not on this host', async () => {
    const absent = `${registry.address}/locator-test/absent-${RUN}`;
    const error = await failure(findNewestTag(makeContext({ local: true }).ctx, absent));
    expect(error).toBeInstanceOf(RunDockerError);
    expect(error.message).toBe(`no usable tag of "${absent}" among the images on this host (--local)`);
    expect(error.hint).toContain('--local');
  });

  it('names a repository that is neither on this host nor in the registry', async () => {
    const absent = `${registry.address}/locator-test/absent-${RUN}`;
    const error = await failure(findNewestTag(makeContext().ctx, absent));
    expect(error.message).toBe(`no usable tag of "${absent}" on this host or in the registry "${registry.address}"`);
  });

  it('does not fall back to local images when the registry refuses access', async () => {
    const secured = await startRegistry({ auth: { username: 'locator', password: 'pw-for-test' } });
    try {
      const securedRepo = `${secured.address}/${REPO_PATH}`;
      const error = await failure(findNewestTag(makeContext().ctx, securedRepo));
      expect(error.message).toBe(`authentication required for "${securedRepo}"`);
      expect(error.hint).toContain(`docker login ${secured.address}`);

      const configDir = await mkdtemp(path.join(tmpdir(), 'run-docker-locator-cfg-'));
      try {
        const auth = Buffer.from('locator:pw-for-test').toString('base64');
        await writeFile(
          path.join(configDir, 'config.json'),
          JSON.stringify({ auths: { [secured.address]: { auth } } }),
        );
        const { ctx } = makeContext({ env: { ...makeContext().ctx.env, DOCKER_CONFIG: configDir } });
        // Authenticated with the login docker stored, and the repository does not exist there:
        // no tags, and no authentication error.
        expect((await failure(findNewestTag(ctx, securedRepo))).message).toBe(
          `no usable tag of "${securedRepo}" on this host or in the registry "${secured.address}"`,
        );
      } finally {
        await rm(configDir, { recursive: true, force: true });
      }
    } finally {
      await secured.remove();
    }
  });

  it('asks a loopback registry written as an IPv4-mapped address ([::ffff:7f00:1]) over http, never through a proxy', async () => {
    const forward = await startForwardProxy();
    try {
      // URL spells [::ffff:127.0.0.1] so; it is 127.0.0.1, as Go's net.IP reads it for the engine.
      const mapped = `[::ffff:7f00:1]:${registry.address.split(':')[1]}/${REPO_PATH}`;
      const { ctx, warnings } = makeContext({
        env: { ...makeContext().ctx.env, HTTPS_PROXY: forward.url, HTTP_PROXY: forward.url },
      });
      expect(await findNewestTag(ctx, mapped)).toEqual({ tag: NEWEST, presentLocally: false });
      expect(warnings).toEqual([]);
      expect(forward.log).toEqual([]);
    } finally {
      await forward.close();
    }
  });

  it('falls back to local images with one warning when the registry is unreachable', async () => {
    await registry.stop();
    try {
      const { ctx, warnings } = makeContext();
      expect(await findNewestTag(ctx, repository)).toEqual({ tag: LOCAL_ONLY_TAG, presentLocally: true });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toBe(
        `cannot reach the registry "${registry.address}" (ECONNREFUSED); using the images of "${repository}" on this host`,
      );
    } finally {
      await registry.restart();
    }
  });
});
