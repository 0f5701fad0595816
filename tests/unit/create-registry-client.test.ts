/**
 * Protocol cases of the registry client, through its front door (createRegistryClient),
 * against small HTTP servers on 127.0.0.1 in this process (the real registry is exercised in
 * tests/integration/locator.test.ts): pagination, challenges and tokens, and which answers
 * mean "the registry cannot be used now" (local images, one warning) and which are errors.
 */
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  createRegistryClient,
  type ListTagsLimits,
  type RegistryClientOptions,
  type RegistryLogin,
} from '../../payload/locator/registry/create-registry-client';
import {
  createFileTokenCache,
  createMemoryTokenCache,
  parseTokenFile,
  type TokenCache,
} from '../../payload/locator/registry/auth/token-store';
import { failure } from '../helpers/locator-context';
import { parseRetryAfter, RegistryUnreachableError } from '../../payload/locator/registry/registry-unreachable-error';
import { RunDockerError } from '../../common/run-docker-error';
import { closeHttpServers, json, serveHttp, type Handler, type TestServer } from '../helpers/http-server';
import { useTempDir } from '../helpers/temp-dir';
import { createEarlyAnswers } from '../../payload/locator/registry/transport/early-answers';

const temp = useTempDir('run-docker-registry-client-');
afterEach(closeHttpServers);

const startFakeRegistry = (handler: Handler) => serveHttp(handler);

/** Serves `tags` in pages of `n` with distribution-style relative Links (`last=`). */
function pagedTags(
  tags: string[],
  link: (origin: string, last: string, n: number) => string,
  origin = () => '',
): Handler {
  return (_req, res, url) => {
    const n = Number(url.searchParams.get('n') ?? tags.length);
    const last = url.searchParams.get('last');
    const start = last === null ? 0 : tags.indexOf(last) + 1;
    const page = tags.slice(start, start + n);
    const lastOnPage = page.at(-1);
    const more = start + n < tags.length && lastOnPage !== undefined;
    json(res, 200, { name: 'team/app', tags: page }, more ? { Link: link(origin(), lastOnPage, n) } : {});
  };
}

type ListOptions = Partial<RegistryClientOptions> & ListTagsLimits & { path?: string };

/** The tags of `path` (default team/app) in `fake`, through a client of its own, as a call lists them. */
async function listTagsOf(fake: TestServer, options: ListOptions = {}): Promise<string[]> {
  const { path: repositoryPath = 'team/app', pageSize, maxPages, ...clientOptions } = options;
  const client = await createRegistryClient(fake.address, {
    env: {},
    homeDir: path.join(temp.path, 'no-home'),
    tokenCache: createMemoryTokenCache(),
    ...clientOptions,
  });
  return client.listTags(repositoryPath, { pageSize, maxPages });
}

/** What the caller reads from docker's config.json for a `docker login` with this user and password. */
function loginAs(username: string, password: string): RegistryLogin & { asked: () => number } {
  let asked = 0;
  return {
    account: () => `user:${username}`,
    credentials: () => {
      asked++;
      return Promise.resolve({ username, password });
    },
    asked: () => asked,
  };
}

const TAGS = ['1.0.0', '1.1.0', '20240101-000000', 'latest', 'main', '20250101-120000', '2.0.0'];

describe('createRegistryClient(…).listTags', () => {
  it('lists one page with the default page size', async () => {
    const fake = await startFakeRegistry(pagedTags(TAGS, () => ''));
    expect(await listTagsOf(fake)).toEqual(TAGS);
    expect(fake.requests).toEqual(['/v2/team/app/tags/list?n=1000']);
  });

  it('follows relative Links, with the page size from RUN_DOCKER_REGISTRY_PAGE_SIZE', async () => {
    const fake = await startFakeRegistry(
      pagedTags(TAGS, (_o, last, n) => `</v2/team/app/tags/list?last=${last}&n=${n}>; rel="next"`),
    );
    const tags = await listTagsOf(fake, { env: { RUN_DOCKER_REGISTRY_PAGE_SIZE: '2' } });
    expect(tags).toEqual(TAGS);
    expect(fake.requests).toEqual([
      '/v2/team/app/tags/list?n=2',
      '/v2/team/app/tags/list?last=1.1.0&n=2',
      '/v2/team/app/tags/list?last=latest&n=2',
      '/v2/team/app/tags/list?last=20250101-120000&n=2',
    ]);
  });

  it('follows absolute Links', async () => {
    let origin = '';
    const fake = await startFakeRegistry(
      pagedTags(
        TAGS,
        (o, last, n) => `<${o}/v2/team/app/tags/list?n=${n}&last=${last}>; rel="next"`,
        () => origin,
      ),
    );
    origin = fake.origin;
    expect(await listTagsOf(fake, { pageSize: 3 })).toEqual(TAGS);
    expect(fake.requests).toHaveLength(3);
  });

  it('follows opaque page tokens verbatim', async () => {
    const token = 'c3RhdGU6Mg%3D%3D%2Fx';
    const fake = await startFakeRegistry((_req, res, url) => {
      if (!url.searchParams.has('page')) {
        json(res, 200, { tags: ['1.0.0'] }, { Link: `</v2/team/app/tags/list?page=${token}>; rel="next"` });
      } else json(res, 200, { tags: ['2.0.0'] });
    });
    expect(await listTagsOf(fake)).toEqual(['1.0.0', '2.0.0']);
    expect(fake.requests[1]).toBe(`/v2/team/app/tags/list?page=${token}`);
  });

  it('answers a Bearer challenge with a token for repository:<path>:pull, sending stored credentials', async () => {
    const tokenRequests: string[] = [];
    let origin = '';
    const fake = await startFakeRegistry((req, res, url) => {
      if (url.pathname === '/token') {
        tokenRequests.push(req.url ?? '');
        const ok = req.headers.authorization === `Basic ${Buffer.from('alice:wonder:land').toString('base64')}`;
        if (!ok) return json(res, 401, { details: 'bad credentials' });
        return json(res, 200, { token: `tok-${url.searchParams.get('scope')}`, expires_in: 300 });
      }
      if (req.headers.authorization !== 'Bearer tok-repository:team/app:pull') {
        return json(
          res,
          401,
          { errors: [{ code: 'UNAUTHORIZED' }] },
          {
            'WWW-Authenticate': `Bearer realm="${origin}/token",service="fake registry",scope="repository:team/app:pull,push"`,
          },
        );
      }
      return pagedTags(TAGS, (_o, last, n) => `</v2/team/app/tags/list?last=${last}&n=${n}>; rel="next"`)(
        req,
        res,
        url,
      );
    });
    origin = fake.origin;
    const login = loginAs('alice', 'wonder:land');
    const tokenCache: TokenCache = createMemoryTokenCache();

    expect(await listTagsOf(fake, { login, pageSize: 4, tokenCache })).toEqual(TAGS);
    expect(tokenRequests).toEqual(['/token?service=fake+registry&scope=repository%3Ateam%2Fapp%3Apull']);
    // The token is reused for the second page and, from the cache, by the next walk, which
    // never asks for the credentials (a credential helper would not run).
    expect(await listTagsOf(fake, { login, pageSize: 4, tokenCache })).toEqual(TAGS);
    expect(tokenRequests).toHaveLength(1);
    expect(login.asked()).toBe(1);
  });

  it('takes access_token and works anonymously when there are no credentials', async () => {
    let origin = '';
    const fake = await startFakeRegistry((req, res, url) => {
      if (url.pathname === '/auth') {
        if (req.headers.authorization) return json(res, 400, {});
        return json(res, 200, { access_token: 'anon' });
      }
      if (req.headers.authorization !== 'Bearer anon') {
        return json(res, 401, {}, { 'WWW-Authenticate': `Bearer realm="${origin}/auth"` });
      }
      return json(res, 200, { tags: ['1.0.0'] });
    });
    origin = fake.origin;
    expect(await listTagsOf(fake, { tokenCache: createMemoryTokenCache() })).toEqual(['1.0.0']);
  });

  it('renews a cached token the registry no longer accepts', async () => {
    let origin = '';
    let generation = 0;
    const fake = await startFakeRegistry((req, res, url) => {
      if (url.pathname === '/token') return json(res, 200, { token: `t${++generation}` });
      if (req.headers.authorization !== `Bearer t${generation}` || generation === 0) {
        return json(res, 401, {}, { 'WWW-Authenticate': `Bearer realm="${origin}/token",service="s"` });
      }
      return json(res, 200, { tags: ['1.0.0'] });
    });
    origin = fake.origin;
    const tokenCache: TokenCache = createMemoryTokenCache();
    await listTagsOf(fake, { tokenCache });
    generation++; // the registry rotated its keys: t1 is now refused
    expect(await listTagsOf(fake, { tokenCache })).toEqual(['1.0.0']);
  });

  it('fails with "authentication required" on a Basic challenge without credentials', async () => {
    const fake = await startFakeRegistry((_req, res) =>
      json(res, 401, {}, { 'WWW-Authenticate': 'Basic realm="basic-realm"' }),
    );
    const error = await failure(listTagsOf(fake));
    expect(error).toBeInstanceOf(RunDockerError);
    expect(error).not.toBeInstanceOf(RegistryUnreachableError);
    expect(error.message).toBe(`authentication required for "${fake.address}/team/app"`);
    expect(error.hint).toContain(`docker login ${fake.address}`);
  });

  it('answers a Basic challenge with stored credentials, and never prints them when refused', async () => {
    const good = `Basic ${Buffer.from('bob:right').toString('base64')}`;
    const fake = await startFakeRegistry((req, res) => {
      if (req.headers.authorization !== good) return json(res, 401, {}, { 'WWW-Authenticate': 'Basic realm="r"' });
      json(res, 200, { tags: ['1.0.0'] });
    });
    expect(await listTagsOf(fake, { login: loginAs('bob', 'right') })).toEqual(['1.0.0']);

    const wrongAuth = Buffer.from('bob:s3cret-wrong').toString('base64');
    const error = await failure(listTagsOf(fake, { login: loginAs('bob', 's3cret-wrong') }));
    expect(error.message).toContain('refused the stored credentials');
    const printed = `${error.message} ${error.hint}`;
    expect(printed).not.toContain('s3cret');
    expect(printed).not.toContain(wrongAuth);
  });

  it('treats 404 NAME_UNKNOWN as a repository without tags', async () => {
    const fake = await startFakeRegistry((_req, res) =>
      json(res, 404, {
        errors: [
          { code: 'NAME_UNKNOWN', message: 'repository name not known to registry', detail: { name: 'team/app' } },
        ],
      }),
    );
    expect(await listTagsOf(fake)).toEqual([]);
  });

  it('reads "tags": null as no tags', async () => {
    const fake = await startFakeRegistry((_req, res) => json(res, 200, { name: 'team/app', tags: null }));
    expect(await listTagsOf(fake)).toEqual([]);
  });

  it("treats HTTP 5xx (a 500, a proxy's 503 maintenance page, a token service's 502) as a failing registry, a reason to use local images", async () => {
    const fake = await startFakeRegistry((_req, res) =>
      json(res, 500, { errors: [{ code: 'UNKNOWN', message: 'disk\nfull' }] }),
    );
    const error = await failure(listTagsOf(fake));
    expect(error).toBeInstanceOf(RegistryUnreachableError);
    expect(error.message).toBe(`the registry "${fake.address}" is failing (HTTP 500 Internal Server Error)`);
    expect(error.hint).toBe('Try again later, or run with --local to use only images on this host.');

    const maintenance = await startFakeRegistry((_req, res) => {
      res.writeHead(503, { 'Content-Type': 'text/html' });
      res.end('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>');
    });
    const down = await failure(listTagsOf(maintenance));
    expect(down).toBeInstanceOf(RegistryUnreachableError);
    expect(down.message).toBe(`the registry "${maintenance.address}" is failing (HTTP 503 Service Unavailable)`);

    const tokenDown = await startFakeRegistry((req, res, url) => {
      if (url.pathname === '/token') return json(res, 502, '<html>Bad Gateway</html>');
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/token",service="fake"` });
      res.end();
    });
    const tokenError = await failure(listTagsOf(tokenDown, { tokenCache: createMemoryTokenCache() }));
    expect(tokenError).toBeInstanceOf(RegistryUnreachableError);
    expect(tokenError.message).toBe(`the registry "${tokenDown.address}" is failing (HTTP 502 Bad Gateway)`);
  });

  it('still fails on HTTP 404 and 403: they say something about the name or this host', async () => {
    const missing = await startFakeRegistry((_req, res) =>
      json(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'no route' }] }),
    );
    const notFound = await failure(listTagsOf(missing));
    expect(notFound).not.toBeInstanceOf(RegistryUnreachableError);
    expect(notFound.message).toBe(
      `could not list the tags of "${missing.address}/team/app": the registry answered HTTP 404 (no route)`,
    );
    const forbidden = await startFakeRegistry((_req, res) =>
      json(res, 403, { errors: [{ code: 'DENIED', message: 'denied' }] }),
    );
    const denied = await failure(listTagsOf(forbidden));
    expect(denied).not.toBeInstanceOf(RegistryUnreachableError);
    expect(denied.message).toContain('HTTP 403');
  });

  it('treats HTTP 429 on the tag list or the token service as rate limiting, a reason to use local images', async () => {
    const limited = await startFakeRegistry((_req, res) =>
      json(res, 429, { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }, { 'Retry-After': '120' }),
    );
    const error = await failure(listTagsOf(limited));
    expect(error).toBeInstanceOf(RegistryUnreachableError);
    expect(error.message).toBe(
      `the registry "${limited.address}" is rate limiting this host (HTTP 429 Too Many Requests, retry after 120 s)`,
    );
    expect(error.hint).toMatch(
      `Wait and try again, log in with "docker login ${limited.address}" (with Podman: "podman login ${limited.address}") for a higher limit, or run with --local`,
    );

    const tokenLimited = await startFakeRegistry((req, res, url) => {
      if (url.pathname === '/token') return json(res, 429, 'busy');
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/token",service="fake"` });
      res.end();
    });
    const tokenError = await failure(listTagsOf(tokenLimited));
    expect(tokenError).toBeInstanceOf(RegistryUnreachableError);
    expect(tokenError.message).toBe(
      `the registry "${tokenLimited.address}" is rate limiting this host (HTTP 429 Too Many Requests)`,
    );
  });

  it('treats an answer it cannot read (an HTML page sent with 200, cut JSON, no token) as a registry that cannot be used now', async () => {
    const cut = await startFakeRegistry((_req, res) => json(res, 200, '{"tags": ["1.0.0",'));
    const cutError = await failure(listTagsOf(cut));
    expect(cutError).toBeInstanceOf(RegistryUnreachableError);
    expect(cutError.message).toBe(
      `the registry "${cut.address}" sent a malformed tag list for "${cut.address}/team/app" (application/json, not JSON)`,
    );
    const portal = await startFakeRegistry((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<html>captive portal</html>');
    });
    const portalError = await failure(listTagsOf(portal));
    expect(portalError).toBeInstanceOf(RegistryUnreachableError);
    expect(portalError.message).toBe(
      `the registry "${portal.address}" sent a malformed tag list for "${portal.address}/team/app" (text/html; charset=utf-8, not JSON)`,
    );
    const noList = await startFakeRegistry((_req, res) => json(res, 200, { name: 'team/app', tags: 'none' }));
    expect((await failure(listTagsOf(noList))).message).toMatch(/malformed tag list .* \(no "tags" list\)$/);
    const tokenPortal = await startFakeRegistry((req, res, url) => {
      if (url.pathname === '/token') {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        return res.end('<html>sign in</html>');
      }
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/token",service="fake"` });
      res.end();
    });
    const tokenError = await failure(listTagsOf(tokenPortal, { tokenCache: createMemoryTokenCache() }));
    expect(tokenError).toBeInstanceOf(RegistryUnreachableError);
    expect(tokenError.message).toBe(
      `the token service of registry "${tokenPortal.address}" sent no usable token for "${tokenPortal.address}/team/app" (no token in its answer)`,
    );
  });

  it('bounds an endless Link chain', async () => {
    const fake = await startFakeRegistry((_req, res, url) => {
      const page = Number(url.searchParams.get('page') ?? 0);
      json(res, 200, { tags: [`${page}.0.0`] }, { Link: `</v2/team/app/tags/list?page=${page + 1}>; rel="next"` });
    });
    const error = await failure(listTagsOf(fake, { maxPages: 25 }));
    // Like an unreachable registry: the caller falls back to local images; the 25 tags read are not used.
    expect(error).toBeInstanceOf(RegistryUnreachableError);
    expect(error.message).toBe(
      `the registry "${fake.address}" pages the tags of "${fake.address}/team/app" past the limit (more than 25 pages)`,
    );
    expect(fake.requests).toHaveLength(25);
  });

  it('stops on a Link back to a page already read', async () => {
    const fake = await startFakeRegistry((_req, res, url) => {
      const next = url.searchParams.has('last') ? '/v2/team/app/tags/list?n=1000' : '/v2/team/app/tags/list?last=a';
      json(res, 200, { tags: ['1.0.0'] }, { Link: `<${next}>; rel="next"` });
    });
    const error = await failure(listTagsOf(fake));
    expect(error.message).toContain('pagination loop');
    expect(fake.requests).toHaveLength(2);
  });

  it('throws RegistryUnreachableError when nothing listens', async () => {
    const fake = await startFakeRegistry(() => {});
    await fake.close();
    const error = await failure(listTagsOf(fake));
    expect(error).toBeInstanceOf(RegistryUnreachableError);
    expect(error.message).toBe(`cannot reach the registry "${fake.address}" (ECONNREFUSED)`);
  });

  it('throws RegistryUnreachableError when the registry does not answer in time', async () => {
    const fake = await startFakeRegistry(() => {
      /* never answers */
    });
    const started = Date.now();
    const error = await failure(listTagsOf(fake, { env: { RUN_DOCKER_REGISTRY_TIMEOUT_MS: '300' } }));
    expect(error).toBeInstanceOf(RegistryUnreachableError);
    expect(error.message).toContain('no answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('bounds all lookups of a call together: a hung registry costs the deadline once, and the next lookup asks nothing', async () => {
    const fake = await startFakeRegistry(() => {
      /* accepts, never answers */
    });
    const budget = { spentMs: 0 };
    const env = { RUN_DOCKER_REGISTRY_DEADLINE_MS: '400' }; // the per-request timeout stays 10 s
    const started = Date.now();
    const first = await failure(listTagsOf(fake, { env, budget }));
    expect(first).toBeInstanceOf(RegistryUnreachableError);
    expect(first.message).toBe(
      `cannot reach the registry "${fake.address}" (no answer within this call's 400 ms for registry lookups)`,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(budget.spentMs).toBeGreaterThanOrEqual(390);

    const second = await failure(listTagsOf(fake, { path: 'team/other', env, budget }));
    expect(second).toBeInstanceOf(RegistryUnreachableError);
    expect(second.message).toBe(
      `cannot reach the registry "${fake.address}" (the 400 ms for registry lookups in this call are used up)`,
    );
    expect(fake.requests).toHaveLength(1);
  });

  it('leaves what a fast lookup did not spend to the next one', async () => {
    const fake = await startFakeRegistry(pagedTags(TAGS, () => ''));
    const budget = { spentMs: 0 };
    const env = { RUN_DOCKER_REGISTRY_DEADLINE_MS: '3000' };
    expect(await listTagsOf(fake, { env, budget })).toEqual(TAGS);
    expect(await listTagsOf(fake, { env, budget })).toEqual(TAGS);
    expect(budget.spentMs).toBeLessThan(3000);
  });

  it('rejects a bad page size setting', async () => {
    const fake = await startFakeRegistry(pagedTags(TAGS, () => ''));
    const error = await failure(listTagsOf(fake, { env: { RUN_DOCKER_REGISTRY_PAGE_SIZE: '0' } }));
    expect(error.message).toContain('"RUN_DOCKER_REGISTRY_PAGE_SIZE"');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and ignores nonsense', () => {
    const now = Date.parse('Sat, 28 Nov 2026 12:00:00 GMT');
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter('Sat, 28 Nov 2026 12:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter('Sat, 28 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('tokens that outlive the process (token-store.ts)', () => {
  /** A token registry counting what it is asked: 401 without the token, the token from /token. */
  async function tokenRegistry(expiresIn = 300) {
    let origin = '';
    const fake = await startFakeRegistry((req, res, url) => {
      if (url.pathname === '/token')
        return json(res, 200, { token: 'tok-1', expires_in: expiresIn, issued_at: new Date().toISOString() });
      if (req.headers.authorization !== 'Bearer tok-1') {
        return json(res, 401, {}, { 'WWW-Authenticate': `Bearer realm="${origin}/token",service="svc"` });
      }
      return json(res, 200, { tags: ['1.0.0'] });
    });
    origin = fake.origin;
    return fake;
  }

  it('answers the first request of the next call with the cached token: one request instead of three', async () => {
    const fake = await tokenRegistry();
    const file = path.join(await mkdtemp(path.join(temp.path, 'cache-')), 'mini', 'registry-tokens.json');
    const cold = await createFileTokenCache(file);
    expect(await listTagsOf(fake, { tokenCache: cold })).toEqual(['1.0.0']);
    expect(fake.requests).toEqual([
      '/v2/team/app/tags/list?n=1000',
      '/token?service=svc&scope=repository%3Ateam%2Fapp%3Apull',
      '/v2/team/app/tags/list?n=1000',
    ]);

    // The next call is another process: a new cache read from the same file.
    const warm = await createFileTokenCache(file);
    expect(await listTagsOf(fake, { tokenCache: warm })).toEqual(['1.0.0']);
    expect(fake.requests.slice(3)).toEqual(['/v2/team/app/tags/list?n=1000']);
    expect(fake.authorizations.slice(3)).toEqual(['Bearer tok-1']);
    // Another repository has another scope: its own token.
    expect(await listTagsOf(fake, { path: 'team/other', tokenCache: warm })).toEqual(['1.0.0']);
    expect(fake.requests.slice(4)).toEqual([
      '/v2/team/other/tags/list?n=1000',
      '/token?service=svc&scope=repository%3Ateam%2Fother%3Apull',
      '/v2/team/other/tags/list?n=1000',
    ]);
  });

  it('keeps the file private and free of credentials', async () => {
    const fake = await tokenRegistry();
    const dir = path.join(await mkdtemp(path.join(temp.path, 'cache-')), 'mini');
    const file = path.join(dir, 'registry-tokens.json');
    const auth = Buffer.from('alice:wonder-secret').toString('base64');
    await listTagsOf(fake, { login: loginAs('alice', 'wonder-secret'), tokenCache: await createFileTokenCache(file) });
    const text = await readFile(file, 'utf8');
    expect(text).toContain('tok-1');
    expect(text).not.toContain('wonder-secret');
    expect(text).not.toContain(auth);
    expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
    expect(((await stat(dir)).mode & 0o777).toString(8)).toBe('700');
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('never uses a token past its expiry, or one issued for another login', async () => {
    const fake = await tokenRegistry(1); // 1 s, less than the renewal margin: never reused
    const file = path.join(await mkdtemp(path.join(temp.path, 'cache-')), 'registry-tokens.json');
    await listTagsOf(fake, { tokenCache: await createFileTokenCache(file) });
    await listTagsOf(fake, { tokenCache: await createFileTokenCache(file) });
    expect(fake.authorizations[3]).toBeUndefined(); // the second call started anonymous again

    const longLived = await tokenRegistry(300);
    await listTagsOf(longLived, { login: loginAs('alice', 'a'), tokenCache: await createFileTokenCache(file) });
    await listTagsOf(longLived, { login: loginAs('bob', 'b'), tokenCache: await createFileTokenCache(file) });
    expect(longLived.authorizations[3]).toBeUndefined(); // bob's first request did not carry alice's token
    expect(longLived.requests).toHaveLength(6);
  });

  it('renews a cached token the registry refuses, and a garbled file counts as empty', async () => {
    const fake = await tokenRegistry();
    const file = path.join(await mkdtemp(path.join(temp.path, 'cache-')), 'registry-tokens.json');
    await writeFile(
      file,
      JSON.stringify({
        version: 1,
        challenges: { [fake.origin]: { realm: `${fake.origin}/token`, service: 'svc' } },
        tokens: {},
      }),
    );
    const planted = await createFileTokenCache(file);
    const key = JSON.stringify([`${fake.origin}/token`, 'svc', 'repository:team/app:pull', 'anonymous']);
    await planted.set(key, { token: 'stale', expiresAt: Date.now() + 60_000 });
    expect(await listTagsOf(fake, { tokenCache: await createFileTokenCache(file) })).toEqual(['1.0.0']);
    expect(fake.authorizations).toEqual(['Bearer stale', undefined, 'Bearer tok-1']);

    await writeFile(
      file,
      '{"version": 1, "tokens": {"x": {"token": "bad\\nheader", "expiresAt": 1e15}}, "challenges": 5}',
    );
    expect(parseTokenFile(await readFile(file, 'utf8'))).toEqual({ version: 1, challenges: {}, tokens: {} });
    expect(await listTagsOf(fake, { tokenCache: await createFileTokenCache(file) })).toEqual(['1.0.0']);
  });
});

describe('askEarly: the first request sent before the lookup needs it (early-answers.ts)', () => {
  /** A registry that takes `delayMs` to answer each request: 401 without tok-1, the tags with it. */
  async function slowTokenRegistry(delayMs: number) {
    let origin = '';
    const fake = await startFakeRegistry((req, res, url) => {
      setTimeout(() => {
        if (url.pathname === '/token') return json(res, 200, { token: 'tok-1', expires_in: 300 });
        if (req.headers.authorization !== 'Bearer tok-1')
          return json(res, 401, {}, { 'WWW-Authenticate': `Bearer realm="${origin}/token",service="svc"` });
        json(res, 200, { tags: ['1.0.0'] });
      }, delayMs);
    });
    origin = fake.origin;
    return fake;
  }

  /** A token cache that knows tok-1 for team/app (as after an earlier call). */
  function warmTokenCache(origin: string, token = 'tok-1'): TokenCache {
    const cache = createMemoryTokenCache();
    void cache.rememberChallenge(origin, { realm: `${origin}/token`, service: 'svc' });
    const key = JSON.stringify([`${origin}/token`, 'svc', 'repository:team/app:pull', 'anonymous']);
    void cache.set(key, { token, expiresAt: Date.now() + 60_000 });
    return cache;
  }

  it("answers the lookup's first request with what was asked early: one request, and no wait for it", async () => {
    const fake = await slowTokenRegistry(300);
    const earlyAnswers = createEarlyAnswers();
    const options = {
      env: {},
      homeDir: path.join(temp.path, 'no-home'),
      tokenCache: warmTokenCache(fake.origin),
      earlyAnswers,
    };
    // As the tiny's locator asks it, beside mini's lookup; the project's lookup comes later, from another client.
    (await createRegistryClient(fake.address, options)).askEarly('team/app');
    await new Promise((resolve) => setTimeout(resolve, 400));
    const started = Date.now();
    expect(await (await createRegistryClient(fake.address, options)).listTags('team/app')).toEqual(['1.0.0']);
    expect(Date.now() - started).toBeLessThan(250);
    expect(fake.requests).toEqual(['/v2/team/app/tags/list?n=1000']);
    expect(fake.authorizations).toEqual(['Bearer tok-1']);
  });

  it('serves only the identical request: another token, page size or repository is asked anew', async () => {
    const fake = await slowTokenRegistry(0);
    const earlyAnswers = createEarlyAnswers();
    const base = { env: {}, homeDir: path.join(temp.path, 'no-home'), earlyAnswers };
    (await createRegistryClient(fake.address, { ...base, tokenCache: warmTokenCache(fake.origin, 'old') })).askEarly(
      'team/app',
    );
    (await createRegistryClient(fake.address, { ...base, tokenCache: warmTokenCache(fake.origin) })).askEarly(
      'team/app',
      { pageSize: 10 },
    );
    const client = await createRegistryClient(fake.address, { ...base, tokenCache: warmTokenCache(fake.origin) });
    expect(await client.listTags('team/app')).toEqual(['1.0.0']);
    expect(fake.requests).toEqual([
      '/v2/team/app/tags/list?n=1000',
      '/v2/team/app/tags/list?n=10',
      '/v2/team/app/tags/list?n=1000',
    ]);
    expect(fake.authorizations).toEqual(['Bearer old', 'Bearer tok-1', 'Bearer tok-1']);
  });

  it('never fetches a token for it: without a cached one it asks anonymously, and the lookup takes that 401', async () => {
    const fake = await slowTokenRegistry(0);
    const options = {
      env: {},
      homeDir: path.join(temp.path, 'no-home'),
      tokenCache: createMemoryTokenCache(),
      earlyAnswers: createEarlyAnswers(),
      login: loginAs('alice', 'secret'),
    };
    const client = await createRegistryClient(fake.address, options);
    client.askEarly('team/app');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fake.requests).toEqual(['/v2/team/app/tags/list?n=1000']);
    expect(options.login.asked()).toBe(0);
    expect(await client.listTags('team/app')).toEqual(['1.0.0']);
    expect(fake.requests).toEqual([
      '/v2/team/app/tags/list?n=1000',
      '/token?service=svc&scope=repository%3Ateam%2Fapp%3Apull',
      '/v2/team/app/tags/list?n=1000',
    ]);
  });
});
