/**
 * The token service protocol (auth/fetch-bearer-token.ts): what is asked, and what each
 * answer means. Token auth: https://distribution.github.io/distribution/spec/auth/token/;
 * refresh tokens: https://distribution.github.io/distribution/spec/auth/oauth/.
 */
import { RunDockerError } from '../../common/run-docker-error';
import { fetchBearerToken, type TokenRequest } from '../../payload/locator/registry/auth/fetch-bearer-token';
import { isRegistryUnreachable } from '../../payload/locator/registry/registry-unreachable-error';
import { fakeTransport, type FakeAnswer } from '../helpers/fake-transport';
import { failure } from '../helpers/locator-context';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const request: TokenRequest = {
  realm: 'https://auth.example/token',
  service: 'registry.example',
  scope: 'repository:team/app:pull',
};
const names = { registry: 'registry.example', repositoryName: 'registry.example/team/app', now: () => NOW };

function fetchWith(answer: FakeAnswer, tokenRequest: TokenRequest = request) {
  const transport = fakeTransport(() => answer);
  return { transport, result: fetchBearerToken(tokenRequest, { ...names, transport }) };
}

describe('fetchBearerToken', () => {
  it('asks realm?service&scope with Basic credentials, and counts the token from issued_at, less a margin', async () => {
    const issued = new Date(NOW - 10_000).toISOString();
    const { transport, result } = fetchWith({
      status: 200,
      text: JSON.stringify({ token: 'tok', expires_in: 300, issued_at: issued }),
    });
    const credentials = { username: 'alice', password: 'pw' };
    const again = fetchBearerToken({ ...request, credentials }, { ...names, transport });
    expect(await result).toEqual({ token: 'tok', expiresAt: NOW - 10_000 + 300_000 - 5_000 });
    await again;
    expect(transport.sent).toEqual([
      {
        url: 'https://auth.example/token?service=registry.example&scope=repository%3Ateam%2Fapp%3Apull',
        method: 'GET',
        headers: { Accept: 'application/json' },
      },
      {
        url: 'https://auth.example/token?service=registry.example&scope=repository%3Ateam%2Fapp%3Apull',
        method: 'GET',
        headers: { Accept: 'application/json', Authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` },
      },
    ]);
  });

  it('takes access_token, 60 s without expires_in, and its own clock for an issued_at in the future', async () => {
    const future = new Date(NOW + 3_600_000).toISOString();
    const { result } = fetchWith({ status: 200, text: JSON.stringify({ access_token: 'oauth', issued_at: future }) });
    expect(await result).toEqual({ token: 'oauth', expiresAt: NOW + 60_000 - 5_000 });
  });

  it('exchanges an identity token as an OAuth2 refresh token, by POST, never as Basic', async () => {
    const credentials = { username: '<token>', password: '', identityToken: 'refresh-me' };
    const { transport, result } = fetchWith({ status: 200, text: '{"access_token":"t"}' }, { ...request, credentials });
    await result;
    expect(transport.sent).toEqual([
      {
        url: 'https://auth.example/token',
        method: 'POST',
        headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=refresh_token&refresh_token=refresh-me&client_id=run-docker&service=registry.example&scope=repository%3Ateam%2Fapp%3Apull',
      },
    ]);
  });

  it('401 and 403: refused credentials with them, authentication required without; never a secret in the words', async () => {
    const refused = await failure(
      fetchWith({ status: 401 }, { ...request, credentials: { username: 'alice', password: 's3cret' } }).result,
    );
    expect(refused.message).toBe(
      'the registry "registry.example" refused the stored credentials for "registry.example/team/app"',
    );
    expect(`${refused.message} ${refused.hint}`).not.toContain('s3cret');
    expect((await failure(fetchWith({ status: 403 }).result)).message).toBe(
      'authentication required for "registry.example/team/app"',
    );
  });

  it('429, 5xx and an answer it cannot read: the registry cannot be used now; another status is an error', async () => {
    const limited = await failure(fetchWith({ status: 429, headers: { 'Retry-After': '30' } }).result);
    expect([isRegistryUnreachable(limited), limited.message]).toEqual([
      true,
      'the registry "registry.example" is rate limiting this host (HTTP 429 Too Many Requests, retry after 30 s)',
    ]);
    const down = await failure(fetchWith({ status: 502, text: '<html>Bad Gateway</html>' }).result);
    expect([isRegistryUnreachable(down), down.message]).toEqual([
      true,
      'the registry "registry.example" is failing (HTTP 502 Bad Gateway)',
    ]);
    for (const text of ['<html>sign in</html>', '{"token": "bad\\nheader"}', '{"token": 5}']) {
      const unreadable = await failure(fetchWith({ status: 200, text }).result);
      expect([isRegistryUnreachable(unreadable), unreadable.message]).toEqual([
        true,
        'the token service of registry "registry.example" sent no usable token for "registry.example/team/app" (no token in its answer)',
      ]);
    }
    const odd = await failure(fetchWith({ status: 404 }).result);
    expect(odd).toBeInstanceOf(RunDockerError);
    expect(isRegistryUnreachable(odd)).toBe(false);
    expect(odd.message).toBe(
      'the token service of registry "registry.example" answered HTTP 404 for "registry.example/team/app"',
    );
  });

  it('a realm that is not an http(s) URL is named, and nothing is asked', async () => {
    for (const realm of ['ftp://auth.example/token', 'not a url']) {
      const { transport, result } = fetchWith({ status: 200 }, { ...request, realm });
      expect((await failure(result)).message).toBe(
        `the registry "registry.example" named an invalid token service "${realm}"`,
      );
      expect(transport.sent).toEqual([]);
    }
  });
});
