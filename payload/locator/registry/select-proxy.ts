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
import { defaultEngineHost } from '../../../common/engine/select-engine-endpoint';

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
  const host = bareHost(url.hostname);
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
  if (isLoopbackHost(bareHost(url.hostname))) return 'direct (loopback is never proxied)';
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
  const shown = new URL(proxy.href);
  if (shown.password) shown.password = 'xxxxx';
  const text = shown.href;
  // `new URL('http://p:3128')` prints a trailing slash the user did not write.
  return shown.pathname === '/' && !shown.search && !shown.hash ? text.replace(/\/$/, '') : text;
}

/** Redacts `user:password@` in a string that did not parse as a URL. */
function redactProxyText(value: string): string {
  return value.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:xxxxx@').replace(/^([^/@:]*):[^/@]*@/, '$1:xxxxx@');
}

export function isLoopbackHost(host: string): boolean {
  const lower = host.toLowerCase();
  if (lower === 'localhost') return true;
  if (isIP(lower) === 4) return lower.startsWith('127.');
  if (isIP(lower) === 6) return lower === '::1' || lower === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(lower);
  return false;
}

/** Go's httpproxy useProxy, for a host that is not loopback. */
export function matchesNoProxy(host: string, port: string, noProxy: string): boolean {
  const lowerHost = host.toLowerCase().replace(/\.$/, '');
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const cidr = parseCidr(entry);
    if (cidr) {
      if (isIP(lowerHost) && cidrContains(cidr, lowerHost)) return true;
      continue;
    }
    const [entryHost, entryPort] = splitHostPort(entry);
    if (entryHost === '') continue;
    if (isIP(entryHost)) {
      if (isIP(lowerHost) && sameIp(entryHost, lowerHost) && (entryPort === '' || entryPort === port)) return true;
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

function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

function splitHostPort(entry: string): [string, string] {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return [bracketed[1] ?? '', bracketed[2] ?? ''];
  if (isIP(entry) === 6) return [entry, ''];
  const [, host, port] = /^(.*):(\d+)$/.exec(entry) ?? [];
  return host !== undefined && port !== undefined ? [host, port] : [entry, ''];
}

interface Cidr {
  bytes: number[];
  bits: number;
}

function parseCidr(entry: string): Cidr | undefined {
  const [, address, size] = /^(.+)\/(\d{1,3})$/.exec(entry) ?? [];
  if (address === undefined || !isIP(address)) return undefined;
  const bytes = ipBytes(address);
  const bits = Number(size);
  return bits <= bytes.length * 8 ? { bytes, bits } : undefined;
}

function cidrContains(cidr: Cidr, ip: string): boolean {
  const bytes = ipBytes(ip);
  if (bytes.length !== cidr.bytes.length) return false;
  for (let bit = 0; bit < cidr.bits; bit++) {
    const mask = 0x80 >> (bit % 8);
    // Both are bytes.length long, and bits <= 8 * bytes.length (parseCidr).
    if (((bytes[bit >> 3] ?? 0) & mask) !== ((cidr.bytes[bit >> 3] ?? 0) & mask)) return false;
  }
  return true;
}

function sameIp(a: string, b: string): boolean {
  const x = ipBytes(a);
  const y = ipBytes(b);
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
}

function ipBytes(ip: string): number[] {
  if (isIP(ip) === 4) return ip.split('.').map(Number);
  // IPv6: expand `::`, and an embedded IPv4 tail.
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (v4) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
    text = text.slice(0, -v4.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...fill, ...tailGroups].flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}
