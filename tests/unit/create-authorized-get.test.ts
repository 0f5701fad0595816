/**
 * Authenticated requests (auth/create-authorized-get.ts) with the Bearer and Basic handlers,
 * on a registry in memory: what each request carries, how often a registry is asked, and
 * where credentials never go.
 */
import { createBasicAuthHandler } from '../../payload/locator/registry/auth/basic-auth-handler';
import { createBearerAuthHandler } from '../../payload/locator/registry/auth/bearer-auth-handler';
import { createAuthorizedGet } from '../../payload/locator/registry/auth/create-authorized-get';
import type { RegistryLogin } from '../../payload/locator/registry/auth/auth-handler';
import { createMemoryTokenCache, tokenKey, type TokenCache } from '../../payload/locator/registry/auth/token-store';
import { fakeTransport, type FakeAnswer, type SentRequest } from '../helpers/fake-transport';
import { failure } from '../helpers/locator-context';

const ORIGIN = 'https://registry.example';
const TAGS = `${ORIGIN}/v2/team/app/tags/list`;
const REALM = 'https://auth.example/token';
const BASIC = `Basic ${Buffer.from('alice:pw').toString('base64')}`;
const names = { registry: 'registry.example', repositoryName: 'registry.example/team/app' };

function login(credentials?: { username: string; password: string }): RegistryLogin & { asked: () => number } {
  let asked = 0;
  return {
    account: () => (credentials ? `user:${credentials.username}` : 'anonymous'),
    credentials: () => {
      asked++;
      return Promise.resolve(credentials);
    },
    asked: () => asked,
  };
}

/** A request as the log shows it: the URL and what it carried. */
const shown = (request: SentRequest) => `${request.url} ${request.headers.Authorization ?? '-'}`;

/**
 * A token registry: tags with a valid token (`tok-N`, N counting issued tokens, the last one
 * valid unless `accepts` says otherwise), a 401 Bearer challenge otherwise; `/token` issues.
 */
function tokenRegistry(
  accepts = (authorization: string | undefined, issued: number) => authorization === `Bearer tok-${issued}`,
) {
  let issued = 0;
  return fakeTransport((request): FakeAnswer => {
    if (request.url.startsWith(REALM)) return { status: 200, text: JSON.stringify({ token: `tok-${++issued}` }) };
    if (accepts(request.headers.Authorization, issued)) return { status: 200, text: '{"tags":[]}' };
    return { status: 401, headers: { 'WWW-Authenticate': `Bearer realm="${REALM}",service="svc"` } };
  });
}

function session(
  transport: ReturnType<typeof fakeTransport>,
  account: RegistryLogin,
  cache: TokenCache = createMemoryTokenCache(),
) {
  const common = { ...names, registryOrigin: ORIGIN, login: account };
  return createAuthorizedGet({
    ...names,
    transport,
    handlers: [
      createBearerAuthHandler({ ...common, transport, cache, scope: 'repository:team/app:pull' }),
      createBasicAuthHandler(common),
    ],
  });
}

describe('Bearer', () => {
  it('answers the challenge with a token, sends stored credentials to the token service, and keeps the token for the origin', async () => {
    const registry = tokenRegistry();
    const alice = login({ username: 'alice', password: 'pw' });
    const get = session(registry, alice);
    expect((await get(TAGS, 'application/json')).status).toBe(200);
    expect((await get(`${TAGS}?last=x`, 'application/json')).status).toBe(200);
    expect(registry.sent.map(shown)).toEqual([
      `${TAGS} -`,
      `${REALM}?service=svc&scope=repository%3Ateam%2Fapp%3Apull ${BASIC}`,
      `${TAGS} Bearer tok-1`,
      `${TAGS}?last=x Bearer tok-1`,
    ]);
  });

  it('a later session sends the cached token with its first request: one request, and the credentials are not asked for', async () => {
    const registry = tokenRegistry();
    const cache = createMemoryTokenCache();
    await session(registry, login(), cache)(TAGS, 'application/json');
    const later = login({ username: 'alice', password: 'pw' });
    const laterRegistry = tokenRegistry((authorization) => authorization === 'Bearer cached');
    await cache.set(
      tokenKey({ realm: REALM, service: 'svc', scope: 'repository:team/app:pull', account: 'user:alice' }),
      {
        token: 'cached',
        expiresAt: Date.now() + 60_000,
      },
    );
    expect((await session(laterRegistry, later, cache)(TAGS, 'application/json')).status).toBe(200);
    expect(laterRegistry.sent.map(shown)).toEqual([`${TAGS} Bearer cached`]);
    expect(later.asked()).toBe(0);
  });

  it('renews a cached token the registry refuses, once; a new token refused is the end', async () => {
    const cache = createMemoryTokenCache();
    await session(tokenRegistry(), login(), cache)(TAGS, 'application/json');
    // The registry's keys rotated: every token it issued before is refused.
    const rotated = tokenRegistry((authorization, issued) => issued > 0 && authorization === `Bearer tok-${issued}`);
    expect((await session(rotated, login(), cache)(TAGS, 'application/json')).status).toBe(200);
    expect(rotated.sent.map(shown)).toEqual([
      `${TAGS} Bearer tok-1`,
      `${REALM}?service=svc&scope=repository%3Ateam%2Fapp%3Apull -`,
      `${TAGS} Bearer tok-1`,
    ]);

    const refusing = tokenRegistry(() => false);
    const error = await failure(session(refusing, login({ username: 'alice', password: 'pw' }))(TAGS, 'x'));
    expect(error.message).toBe(
      'the registry "registry.example" refused the stored credentials for "registry.example/team/app"',
    );
    expect(refusing.sent).toHaveLength(3);
    expect(
      (
        await failure(
          session(
            tokenRegistry(() => false),
            login(),
          )(TAGS, 'x'),
        )
      ).message,
    ).toBe('authentication required for "registry.example/team/app"');
  });

  it('another origin (a page link elsewhere) gets an anonymous token, and its challenge is not remembered', async () => {
    const registry = tokenRegistry();
    const cache = createMemoryTokenCache();
    const alice = login({ username: 'alice', password: 'pw' });
    await session(registry, alice, cache)('https://mirror.example/v2/team/app/tags/list', 'x');
    expect(registry.sent.map(shown)[1]).toBe(`${REALM}?service=svc&scope=repository%3Ateam%2Fapp%3Apull -`);
    expect(alice.asked()).toBe(0);
    expect(cache.challengeOf('https://mirror.example')).toBeUndefined();
  });
});

describe('Basic', () => {
  const basicRegistry = () =>
    fakeTransport((request) =>
      request.headers.Authorization === BASIC
        ? { status: 200 }
        : { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="r"' } },
    );

  it('sends the stored credentials after the challenge, and with every later request to the origin', async () => {
    const registry = basicRegistry();
    const get = session(registry, login({ username: 'alice', password: 'pw' }));
    await get(TAGS, 'x');
    await get(`${TAGS}?n=1`, 'x');
    expect(registry.sent.map(shown)).toEqual([`${TAGS} -`, `${TAGS} ${BASIC}`, `${TAGS}?n=1 ${BASIC}`]);
  });

  it('refused credentials, no credentials, and another origin: one line each, nothing sent twice', async () => {
    const wrong = basicRegistry();
    const error = await failure(session(wrong, login({ username: 'alice', password: 'wrong' }))(TAGS, 'x'));
    expect(error.message).toBe(
      'the registry "registry.example" refused the stored credentials for "registry.example/team/app"',
    );
    expect(wrong.sent).toHaveLength(2);
    expect((await failure(session(basicRegistry(), login())(TAGS, 'x'))).message).toBe(
      'authentication required for "registry.example/team/app"',
    );
    const elsewhere = basicRegistry();
    const alice = login({ username: 'alice', password: 'pw' });
    await failure(session(elsewhere, alice)('https://mirror.example/v2/', 'x'));
    expect(elsewhere.sent.map(shown)).toEqual(['https://mirror.example/v2/ -']);
    expect(alice.asked()).toBe(0);
  });
});

describe('challenges', () => {
  it('prefers Bearer when both are offered, refuses a scheme it does not know, and a 401 without any', async () => {
    const both = fakeTransport((request) =>
      request.url.startsWith(REALM)
        ? { status: 200, text: '{"token":"t"}' }
        : request.headers.Authorization === 'Bearer t'
          ? { status: 200 }
          : { status: 401, headers: { 'WWW-Authenticate': `Basic realm="r", Bearer realm="${REALM}"` } },
    );
    expect((await session(both, login({ username: 'alice', password: 'pw' }))(TAGS, 'x')).status).toBe(200);
    const negotiate = fakeTransport(() => ({ status: 401, headers: { 'WWW-Authenticate': 'Negotiate' } }));
    expect((await failure(session(negotiate, login())(TAGS, 'x'))).message).toBe(
      'the registry "registry.example" asked for an authentication method run-docker does not support for "registry.example/team/app"',
    );
    const bare = fakeTransport(() => ({ status: 401 }));
    expect((await failure(session(bare, login())(TAGS, 'x'))).message).toBe(
      'authentication required for "registry.example/team/app"',
    );
  });

  it('a registry that keeps changing its challenge is asked a bounded number of times', async () => {
    let turn = 0;
    const fickle = fakeTransport((request) => {
      if (request.url.startsWith(REALM)) return { status: 200, text: `{"token":"t${turn}"}` };
      turn++;
      const challenge = turn % 2 ? `Bearer realm="${REALM}"` : 'Basic realm="r"';
      return { status: 401, headers: { 'WWW-Authenticate': challenge } };
    });
    await failure(session(fickle, login({ username: 'alice', password: 'pw' }))(TAGS, 'x'));
    expect(fickle.sent.filter((request) => request.url === TAGS).length).toBeLessThanOrEqual(5);
  });
});
