/**
 * Which proxy, if any, a registry request goes through — read as Go's
 * golang.org/x/net/http/httpproxy reads it, since the docker CLI and dockerd use that
 * (https://pkg.go.dev/golang.org/x/net/http/httpproxy#FromEnvironment):
 * - `HTTPS_PROXY` for https URLs, `HTTP_PROXY` for http URLs (no fallback from one to the
 *   other); for each, the upper-case variable first, then the lower-case one; empty = unset.
 * - `HTTP_PROXY` is ignored when `REQUEST_METHOD` is set (a CGI environment, where the
 *   client controls the `Proxy:` header: httpoxy).
 * - `NO_PROXY`: comma-separated; `*` alone = no proxy at all; an IP, a CIDR, a domain
 *   (`example.com` matches it and its subdomains, `.example.com` and `*.example.com` only
 *   subdomains), each optionally with `:port`.
 * - `localhost` and loopback addresses are never proxied.
 * - A proxy without a scheme is `http://`; its port defaults to 80 (http) or 443 (https).
 * Where the environment sets nothing, `proxies` in the docker CLI's config.json stands in
 * (https://docs.docker.com/engine/cli/proxy/): the block named after the engine host, else
 * `default`, as the CLI picks it; environment variables win, one by one, as they do when the
 * CLI passes these settings to containers.
 */
import { isIP } from 'node:net';
import { defaultEngineHost } from '../../../../common/engine/select-engine-endpoint';
import { createAddressSet, isCidr, isLoopbackHost, splitHostPort, unbracket } from '../network-address';

type Env = Readonly<Record<string, string | undefined>>;

/** One block of `proxies` in config.json. */
export interface DockerProxyConfig {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
}

export interface ProxySettings {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
  /** Where each came from, for the debug line. */
  sources: { httpProxy?: string; httpsProxy?: string; noProxy?: string };
}

/** `engineHost`: the key of `proxies` the docker CLI tries before `default` (its default engine host unless DOCKER_HOST). */
export function buildProxySettings(
  env: Env,
  configProxies: Readonly<Record<string, DockerProxyConfig | null | undefined>> | undefined,
  engineHost: string = env.DOCKER_HOST || defaultEngineHost(),
): ProxySettings {
  const key = configProxies && isObject(configProxies[engineHost]) ? engineHost : 'default';
  const block = configProxies && isObject(configProxies[key]) ? (configProxies[key] as DockerProxyConfig) : {};
  const settings: ProxySettings = { sources: {} };
  const pick = (field: keyof DockerProxyConfig, upper: string, ignored = false) => {
    for (const name of [upper, upper.toLowerCase()]) {
      if (ignored && name === upper) continue;
      const value = env[name];
      if (value) {
        settings[field] = value;
        settings.sources[field] = name;
        return;
      }
    }
    const configured = block[field];
    if (typeof configured === 'string' && configured !== '') {
      settings[field] = configured;
      settings.sources[field] = `config.json proxies.${key}.${field}`;
    }
  };
  // Go refuses HTTP_PROXY under CGI; http_proxy cannot come from a request header, so it stays.
  pick('httpProxy', 'HTTP_PROXY', Boolean(env.REQUEST_METHOD));
  pick('httpsProxy', 'HTTPS_PROXY');
  pick('noProxy', 'NO_PROXY');
  return settings;
}

/** The proxy for `url`, or undefined to connect directly. Throws InvalidProxyUrl for a proxy that is not a URL. */
export function selectProxy(url: URL, settings: ProxySettings): URL | undefined {
  const value =
    url.protocol === 'https:' ? settings.httpsProxy : url.protocol === 'http:' ? settings.httpProxy : undefined;
  if (!value) return undefined;
  const host = unbracket(url.hostname);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (isLoopbackHost(host)) return undefined;
  if (settings.noProxy && matchesNoProxy(host, port, settings.noProxy)) return undefined;
  return parseProxyUrl(value);
}

/** How requests to `url` go, for the debug line: never a password. */
export function describeProxyChoice(url: URL, settings: ProxySettings, proxy: URL | undefined): string {
  const https = url.protocol === 'https:';
  if (proxy)
    return `through the proxy "${redactProxyUrl(proxy)}" (${https ? settings.sources.httpsProxy : settings.sources.httpProxy})`;
  if (!(https ? settings.httpsProxy : settings.httpProxy))
    return `direct (no ${https ? 'HTTPS_PROXY' : 'HTTP_PROXY'} set)`;
  if (isLoopbackHost(unbracket(url.hostname))) return 'direct (loopback is never proxied)';
  return `direct (matches ${settings.sources.noProxy})`;
}

export class InvalidProxyUrl extends Error {
  override readonly name = 'InvalidProxyUrl';
}

/** As Go's parseProxy: no scheme means http://; http and https proxies are supported. */
export function parseProxyUrl(value: string): URL {
  let proxy: URL | undefined;
  try {
    proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    proxy = undefined;
  }
  if (!proxy || !proxy.hostname) throw new InvalidProxyUrl(`the proxy "${redactProxyText(value)}" is not a URL`);
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
    throw new InvalidProxyUrl(
      `the proxy "${redactProxyUrl(proxy)}" uses ${proxy.protocol.slice(0, -1)}, and run-docker supports http and https proxies`,
    );
  }
  return proxy;
}

/** The proxy URL as it may be printed: a password never is. */
export function redactProxyUrl(proxy: URL): string {
  // A password with a `/` in it ends the authority early: `http://u:1234/pw@proxy` parses as
  // host `u`, port 1234 and a path; only the text rule below is safe for it.
  if (`${proxy.pathname}${proxy.search}${proxy.hash}`.includes('@')) return redactProxyText(proxy.href);
  const shown = new URL(proxy.href);
  if (shown.password) shown.password = 'xxxxx';
  const text = shown.href;
  // `new URL('http://p:3128')` prints a trailing slash the user did not write.
  return shown.pathname === '/' && !shown.search && !shown.hash ? text.replace(/\/$/, '') : text;
}

/**
 * Whatever sits between `://` (or the start) and the last `@`, hidden: in a proxy setting
 * that may not parse, no rule can tell where the user ends and the password starts.
 */
export function redactProxyText(value: string): string {
  const scheme = value.indexOf('://');
  const start = scheme < 0 ? 0 : scheme + 3;
  const at = value.lastIndexOf('@');
  return at < start ? value : `${value.slice(0, start)}xxxxx${value.slice(at)}`;
}

/** Go's httpproxy useProxy, for a host that is not loopback. */
export function matchesNoProxy(host: string, port: string, noProxy: string): boolean {
  const lowerHost = host.toLowerCase().replace(/\.$/, '');
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    // IPs and CIDRs compare as addresses (an IPv4-mapped host falls in an IPv4 range).
    if (isCidr(entry)) {
      if (createAddressSet([entry]).has(lowerHost)) return true;
      continue;
    }
    const [entryHost, entryPort] = splitHostPort(entry);
    if (entryHost === '') continue;
    if (isIP(entryHost)) {
      if (createAddressSet([entryHost]).has(lowerHost) && (entryPort === '' || entryPort === port)) return true;
      continue;
    }
    let domain = entryHost.startsWith('*.') ? entryHost.slice(1) : entryHost;
    const matchHost = !domain.startsWith('.');
    if (matchHost) domain = `.${domain}`;
    if (
      (lowerHost.endsWith(domain) || (matchHost && lowerHost === domain.slice(1))) &&
      (entryPort === '' || entryPort === port)
    ) {
      return true;
    }
  }
  return false;
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}
