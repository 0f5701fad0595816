import { parseWwwAuthenticate } from '../../payload/locator/registry/auth/parse-www-authenticate';

describe('parseWwwAuthenticate', () => {
  it('parses a registry bearer challenge with a comma inside a quoted scope', () => {
    const header =
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"';
    expect(parseWwwAuthenticate(header)).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:samalba/my-app:pull,push',
        },
      },
    ]);
  });

  it('parses Basic challenges', () => {
    expect(parseWwwAuthenticate('Basic realm="basic-realm"')).toEqual([
      { scheme: 'basic', params: { realm: 'basic-realm' } },
    ]);
    expect(parseWwwAuthenticate('basic realm=Registry, charset="UTF-8"')).toEqual([
      { scheme: 'basic', params: { realm: 'Registry', charset: 'UTF-8' } },
    ]);
  });

  it('separates several challenges in one header', () => {
    const challenges = parseWwwAuthenticate(
      'Basic realm="a, b", Bearer realm="https://x/token",service="x", Negotiate',
    );
    expect(challenges).toEqual([
      { scheme: 'basic', params: { realm: 'a, b' } },
      { scheme: 'bearer', params: { realm: 'https://x/token', service: 'x' } },
      { scheme: 'negotiate', params: {} },
    ]);
  });

  it('unescapes quoted pairs and lower-cases parameter names', () => {
    expect(parseWwwAuthenticate('Bearer Realm="say \\"hi\\"", ERROR="insufficient_scope"')[0]?.params).toEqual({
      realm: 'say "hi"',
      error: 'insufficient_scope',
    });
  });

  it('tolerates spaces around "=" and empty values', () => {
    expect(parseWwwAuthenticate('Bearer realm = "https://x/t" , service=""')[0]?.params).toEqual({
      realm: 'https://x/t',
      service: '',
    });
  });

  it('never throws on garbage', () => {
    for (const header of [
      '',
      null,
      undefined,
      ',,,',
      '"',
      'Bearer realm="unterminated',
      '=== ,',
      'Bearer ,=,',
      '\u0000\u0001',
    ]) {
      expect(() => parseWwwAuthenticate(header)).not.toThrow();
    }
    expect(parseWwwAuthenticate('Bearer realm="unterminated')[0]?.params.realm).toBe('unterminated');
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
  });
});
