import {
  buildProxySettings,
  describeProxyChoice,
  InvalidProxyUrl,
  matchesNoProxy,
  parseProxyUrl,
  redactProxyUrl,
  selectProxy,
} from '../../payload/locator/registry/transport/select-proxy';

const proxyOf = (url: string, env: Record<string, string>, config?: Parameters<typeof buildProxySettings>[1]) =>
  selectProxy(new URL(url), buildProxySettings(env, config))?.href;

describe('buildProxySettings reads the environment as Go httpproxy.FromEnvironment does', () => {
  it.each([
    ['upper case only', { HTTPS_PROXY: 'http://upper:1' }, 'http://upper:1'],
    ['lower case only', { https_proxy: 'http://lower:1' }, 'http://lower:1'],
    [
      'upper case first when both are set',
      { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:1' },
      'http://upper:1',
    ],
    ['an empty upper case is unset', { HTTPS_PROXY: '', https_proxy: 'http://lower:1' }, 'http://lower:1'],
  ])('%s', (_name, env, expected) => {
    expect(buildProxySettings(env, undefined).httpsProxy).toBe(expected);
  });

  it('ignores HTTP_PROXY (not http_proxy) in a CGI environment (REQUEST_METHOD set)', () => {
    expect(
      buildProxySettings({ HTTP_PROXY: 'http://p:1', REQUEST_METHOD: 'GET' }, undefined).httpProxy,
    ).toBeUndefined();
    expect(buildProxySettings({ http_proxy: 'http://p:1', REQUEST_METHOD: 'GET' }, undefined).httpProxy).toBe(
      'http://p:1',
    );
  });

  it('takes config.json proxies where the environment sets nothing: the engine host block, else default', () => {
    const config = {
      default: { httpsProxy: 'http://default:1', noProxy: '.corp' },
      'tcp://build-host:2376': { httpsProxy: 'http://build:1' },
    };
    expect(buildProxySettings({}, config)).toEqual({
      httpsProxy: 'http://default:1',
      noProxy: '.corp',
      sources: { httpsProxy: 'config.json proxies.default.httpsProxy', noProxy: 'config.json proxies.default.noProxy' },
    });
    // The whole block of the engine host, as the docker CLI takes it: nothing mixed in from default.
    expect(buildProxySettings({ DOCKER_HOST: 'tcp://build-host:2376' }, config)).toEqual({
      httpsProxy: 'http://build:1',
      sources: { httpsProxy: 'config.json proxies.tcp://build-host:2376.httpsProxy' },
    });
    // The environment wins, variable by variable.
    expect(buildProxySettings({ https_proxy: 'http://env:1' }, config)).toMatchObject({
      httpsProxy: 'http://env:1',
      noProxy: '.corp',
    });
  });
});

describe('selectProxy', () => {
  const env = { HTTPS_PROXY: 'http://proxy.corp:3128', HTTP_PROXY: 'http://plain.corp:8080' };
  it.each([
    ['https uses HTTPS_PROXY', 'https://ghcr.io/v2/', env, 'http://proxy.corp:3128/'],
    ['http uses HTTP_PROXY', 'http://lan-registry:5000/v2/', env, 'http://plain.corp:8080/'],
    [
      'no fallback from https to HTTP_PROXY',
      'https://ghcr.io/v2/',
      { HTTP_PROXY: 'http://plain.corp:8080' },
      undefined,
    ],
    [
      'a proxy without a scheme is http://',
      'https://ghcr.io/v2/',
      { HTTPS_PROXY: 'proxy.corp:3128' },
      'http://proxy.corp:3128/',
    ],
    ['an https proxy', 'https://ghcr.io/v2/', { HTTPS_PROXY: 'https://proxy.corp' }, 'https://proxy.corp/'],
    ['127.0.0.1 is never proxied', 'https://127.0.0.1:5000/v2/', env, undefined],
    ['127.4.5.6 is never proxied', 'http://127.4.5.6:5000/v2/', env, undefined],
    ['localhost is never proxied', 'http://localhost:5000/v2/', env, undefined],
    ['[::1] is never proxied', 'http://[::1]:5000/v2/', env, undefined],
    ['NO_PROXY=* is no proxy at all', 'https://ghcr.io/v2/', { ...env, NO_PROXY: '*' }, undefined],
    ['no_proxy in lower case', 'https://ghcr.io/v2/', { ...env, no_proxy: 'ghcr.io' }, undefined],
    ['a domain matches itself', 'https://ghcr.io/v2/', { ...env, NO_PROXY: 'ghcr.io' }, undefined],
    ['a domain matches subdomains', 'https://eu.ghcr.io/v2/', { ...env, NO_PROXY: 'ghcr.io' }, undefined],
    [
      'a domain does not match a longer name',
      'https://notghcr.io/v2/',
      { ...env, NO_PROXY: 'ghcr.io' },
      'http://proxy.corp:3128/',
    ],
    ['.domain matches subdomains only', 'https://corp/v2/', { ...env, NO_PROXY: '.corp' }, 'http://proxy.corp:3128/'],
    ['.domain matches a subdomain', 'https://registry.corp/v2/', { ...env, NO_PROXY: '.corp' }, undefined],
    ['*.domain is .domain', 'https://registry.corp/v2/', { ...env, NO_PROXY: '*.corp' }, undefined],
    [
      'entries are trimmed and case-insensitive',
      'https://Registry.Corp/v2/',
      { ...env, NO_PROXY: 'a.b, REGISTRY.corp ' },
      undefined,
    ],
    [
      'host:port matches that port',
      'https://registry.corp:5000/v2/',
      { ...env, NO_PROXY: 'registry.corp:5000' },
      undefined,
    ],
    [
      'host:port does not match another port',
      'https://registry.corp/v2/',
      { ...env, NO_PROXY: 'registry.corp:5000' },
      'http://proxy.corp:3128/',
    ],
    [
      'host:443 matches the default https port',
      'https://registry.corp/v2/',
      { ...env, NO_PROXY: 'registry.corp:443' },
      undefined,
    ],
    ['an IP', 'https://10.1.2.3/v2/', { ...env, NO_PROXY: '10.1.2.3' }, undefined],
    [
      'an IP does not match a neighbour',
      'https://10.1.2.4/v2/',
      { ...env, NO_PROXY: '10.1.2.3' },
      'http://proxy.corp:3128/',
    ],
    ['a CIDR', 'https://10.1.2.3:5000/v2/', { ...env, NO_PROXY: '10.0.0.0/8' }, undefined],
    [
      'a CIDR does not match outside',
      'https://11.1.2.3/v2/',
      { ...env, NO_PROXY: '10.0.0.0/8' },
      'http://proxy.corp:3128/',
    ],
    ['an IPv6 CIDR', 'https://[fd00::5]/v2/', { ...env, NO_PROXY: 'fd00::/8' }, undefined],
    [
      'an IPv6 address in brackets with a port',
      'https://[fd00::5]:5000/v2/',
      { ...env, NO_PROXY: '[fd00::5]:5000' },
      undefined,
    ],
  ])('%s', (_name, url, environment, expected) => {
    expect(proxyOf(url, environment)).toBe(expected);
  });

  it('compares addresses, not their spellings: IPv4-mapped loopback is never proxied, NO_PROXY IPs and CIDRs hold mapped hosts', () => {
    // URL writes [::ffff:127.0.0.1] as [::ffff:7f00:1]; Go's net.IP reads both as 127.0.0.1.
    const direct = {
      'http://[::ffff:127.0.0.1]:5000/v2/': '',
      'https://[::ffff:127.9.8.7]/v2/': '',
      'https://[0:0:0:0:0:0:0:1]:5000/v2/': '',
      'https://[::ffff:10.1.2.3]/v2/': '10.0.0.0/8',
      'https://[::ffff:a01:203]/v2/': '10.1.2.3',
    };
    for (const [url, noProxy] of Object.entries(direct))
      expect([url, proxyOf(url, { ...env, NO_PROXY: noProxy })]).toEqual([url, undefined]);
    const proxied = { 'https://[::ffff:10.0.0.1]/v2/': '', 'https://[::ffff:11.1.2.3]/v2/': '10.0.0.0/8' };
    for (const [url, noProxy] of Object.entries(proxied))
      expect([url, proxyOf(url, { ...env, NO_PROXY: noProxy })]).toEqual([url, 'http://proxy.corp:3128/']);
  });

  it('keeps the credentials of the proxy URL for the proxy', () => {
    expect(proxyOf('https://ghcr.io/v2/', { HTTPS_PROXY: 'http://me:p%40ss@proxy.corp:3128' })).toBe(
      'http://me:p%40ss@proxy.corp:3128/',
    );
  });

  it('refuses a proxy that is not a URL or not http(s), without showing its password', () => {
    expect(() => proxyOf('https://ghcr.io/v2/', { HTTPS_PROXY: 'socks5://me:secret@proxy.corp:1080' })).toThrow(
      new InvalidProxyUrl(
        'the proxy "socks5://me:xxxxx@proxy.corp:1080" uses socks5, and run-docker supports http and https proxies',
      ),
    );
    expect(() => parseProxyUrl('http://me:secret@[bad')).toThrow(/^the proxy "http:\/\/xxxxx@\[bad" is not a URL$/);
  });

  it('hides a password with `/` or `@` in it, whether or not the setting parses', () => {
    // Not a URL: the authority ends at the `/`, leaving the port "pa".
    expect(() => parseProxyUrl('http://me:pa/ss@proxy.corp:3128')).toThrow(
      new InvalidProxyUrl('the proxy "http://xxxxx@proxy.corp:3128" is not a URL'),
    );
    expect(() => parseProxyUrl('me:pa/ss@wo@rd@proxy.corp:3128')).toThrow(
      new InvalidProxyUrl('the proxy "xxxxx@proxy.corp:3128" is not a URL'),
    );
    // A URL, read as host "me", port 1234 and the path "/ss@proxy.corp": still hidden when printed.
    expect(redactProxyUrl(parseProxyUrl('http://me:1234/ss@proxy.corp:3128'))).toBe('http://xxxxx@proxy.corp:3128');
    expect(() => proxyOf('https://ghcr.io/v2/', { HTTPS_PROXY: 'socks5://me:a/b@proxy.corp:1080' })).toThrow(
      /^the proxy "socks5:\/\/xxxxx@proxy\.corp:1080" (uses socks5|is not a URL)/,
    );
  });
});

describe('matchesNoProxy', () => {
  it('skips empty entries and a port with no host', () => {
    expect(matchesNoProxy('ghcr.io', '443', ',, :443')).toBe(false);
  });
});

describe('redactProxyUrl and describeProxyChoice never show a password', () => {
  it('hides the password and keeps the user', () => {
    expect(redactProxyUrl(new URL('http://me:secret@proxy.corp:3128'))).toBe('http://me:xxxxx@proxy.corp:3128');
    expect(redactProxyUrl(new URL('http://proxy.corp:3128'))).toBe('http://proxy.corp:3128');
  });

  it('says which way a request goes and why', () => {
    const settings = buildProxySettings(
      { HTTPS_PROXY: 'http://me:secret@proxy.corp:3128', NO_PROXY: 'ghcr.io' },
      undefined,
    );
    const choice = (url: string) => describeProxyChoice(new URL(url), settings, selectProxy(new URL(url), settings));
    expect(choice('https://quay.io/v2/')).toBe('through the proxy "http://me:xxxxx@proxy.corp:3128" (HTTPS_PROXY)');
    expect(choice('https://ghcr.io/v2/')).toBe('direct (matches NO_PROXY)');
    expect(choice('https://127.0.0.1:5000/v2/')).toBe('direct (loopback is never proxied)');
    expect(choice('http://lan:5000/v2/')).toBe('direct (no HTTP_PROXY set)');
  });
});
