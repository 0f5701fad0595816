import { decideRedirect } from '../../payload/locator/registry/transport/decide-redirect';
import type { RegistryRequest } from '../../payload/locator/registry/registry-request';

const never = () => false;
const always = () => true;
const tls = { ca: ['CA'], cert: 'C', key: 'K' };
const get: RegistryRequest = { headers: { Accept: 'application/json', Authorization: 'Basic c2VjcmV0' }, tls };
const refreshForm: RegistryRequest = {
  method: 'POST',
  headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded', Authorization: 'x' },
  body: 'grant_type=refresh_token&refresh_token=identity-secret',
};

function follow(
  from: string,
  status: number,
  location: string,
  request: RegistryRequest,
  plain: (url: URL) => boolean = never,
) {
  const next = decideRedirect(new URL(from), status, location, request, plain);
  if ('refused' in next) throw new Error(`refused: ${next.refused}`);
  return { url: next.url.href, ...next.request };
}

describe('decideRedirect', () => {
  it('keeps credentials and TLS material within the origin', () => {
    expect(follow('https://registry.corp/v2/a', 307, '/v2/b', get)).toEqual({
      url: 'https://registry.corp/v2/b',
      method: 'GET',
      headers: get.headers,
      tls,
    });
  });

  it.each([
    ['another host', 'https://cdn.corp/blob'],
    ['another port', 'https://registry.corp:444/v2/b'],
    ['the same host over plain http (URL.host is the same, the origin is not)', 'http://registry.corp/v2/b'],
  ])('drops them for %s', (_name, location) => {
    const next = follow('https://registry.corp/v2/a', 302, location, get, always);
    expect(next).toEqual({ url: location, method: 'GET', headers: { Accept: 'application/json' } });
  });

  it('refuses https to plain http unless plain http was acceptable for the target', () => {
    expect(decideRedirect(new URL('https://registry.corp/v2/a'), 302, 'http://registry.corp/v2/b', get, never)).toEqual(
      { refused: 'a redirect from https://registry.corp to plain http://registry.corp' },
    );
    const asked: string[] = [];
    follow('https://registry.corp/v2/a', 302, 'http://127.0.0.1:5000/v2/b', get, (url) => {
      asked.push(url.href);
      return true;
    });
    expect(asked).toEqual(['http://127.0.0.1:5000/v2/b']);
    // Plain to plain is not a downgrade.
    expect(follow('http://127.0.0.1:5000/v2/a', 302, 'http://registry.lan/v2/b', get).url).toBe(
      'http://registry.lan/v2/b',
    );
  });

  it.each([301, 302, 303])('a %i of a POST becomes a GET without its body or body headers', (status) => {
    expect(follow('https://auth.corp/token', status, 'https://elsewhere.corp/token', refreshForm)).toEqual({
      url: 'https://elsewhere.corp/token',
      method: 'GET',
      headers: { Accept: 'application/json' },
    });
  });

  it('a 307 or 308 keeps method and body within the origin, and refuses to take a body anywhere else', () => {
    expect(follow('https://auth.corp/token', 307, '/v2/token', refreshForm)).toEqual({
      url: 'https://auth.corp/v2/token',
      ...refreshForm,
    });
    expect(
      decideRedirect(new URL('https://auth.corp/token'), 308, 'https://evil.example/t', refreshForm, never),
    ).toEqual({
      refused: 'a redirect of a POST with its body from https://auth.corp to https://evil.example',
    });
  });

  it('keeps GET and HEAD as they are on 301 and 303', () => {
    expect(follow('https://r.corp/a', 301, '/b', { headers: {} }).method).toBe('GET');
    expect(follow('https://r.corp/a', 303, '/b', { method: 'HEAD', headers: {} }).method).toBe('HEAD');
  });

  it('refuses a location that is not an http(s) URL', () => {
    expect(decideRedirect(new URL('https://r.corp/a'), 302, 'file:///etc/passwd', get, always)).toEqual({
      refused: 'a redirect from https://r.corp to file, not http(s)',
    });
    expect(decideRedirect(new URL('https://r.corp/a'), 302, 'http://[bad', get, always)).toEqual({
      refused: 'a redirect from https://r.corp to an address that is not a URL',
    });
  });
});
