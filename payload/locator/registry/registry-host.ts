/**
 * One registry as run-docker talks to it, described once (host/describe-registry-host.ts)
 * and never changed afterwards, as regclient's config.Host describes one: where its API is,
 * how TLS is used with it, and the certs.d material for it. A registry that turns out to
 * speak only TLS is a new value (upgradeToInsecureTls), not a flag flipped mid-request. Pure.
 */
import { isLoopbackHost, splitHostPort, unbracket } from './network-address';
import type { TlsOptions } from './registry-request';

/** A rootful engine's certs.d, where messages point (host/read-registry-certs.ts reads the user's too). */
export const SYSTEM_CERTS_DIR = '/etc/docker/certs.d';

/**
 * - `verified`: https, the certificate checked (against certs.d's CAs for this host when it
 *   has some, else Node's roots);
 * - `plain`: http, for a registry the engine treats as insecure (loopback, or per its /info)
 *   that has no certs.d folder;
 * - `insecure-tls`: such a registry that answered "HTTP request to an HTTPS server": https
 *   without checking its certificate, as dockerd does.
 */
export type TlsMode = 'verified' | 'plain' | 'insecure-tls';

export interface RegistryHost {
  /** As in image references (`docker.io`, `127.0.0.1:5000`): for messages and logins. */
  readonly registry: string;
  /** `host[:port]` of its API (`registry-1.docker.io` for docker.io). */
  readonly host: string;
  readonly mode: TlsMode;
  /** certs.d CAs: for this host:port they replace Node's roots (host/describe-registry-host.ts says why). */
  readonly ca?: readonly string[];
  /** certs.d client pair (NAME.cert, NAME.key), sent to this host:port only. */
  readonly clientCertificate?: { readonly cert: string; readonly key: string };
}

/**
 * The origin requests to the registry are addressed to: http while it may be asked in plain
 * http (the engine treats it as insecure), https otherwise. It does not change on an upgrade,
 * so cached challenges and the page links keep their keys (requestUrl maps the scheme).
 */
export function registryBaseUrl(host: RegistryHost): string {
  return `${host.mode === 'verified' ? 'https' : 'http'}://${host.host}`;
}

/** The same registry, asked over https without checking its certificate from now on. */
export function upgradeToInsecureTls(host: RegistryHost): RegistryHost {
  return host.mode === 'plain' ? { registry: host.registry, host: host.host, mode: 'insecure-tls' } : host;
}

/** Where a request for `url` really goes: https for the registry's own origin once it is insecure-tls. */
export function requestUrl(host: RegistryHost, url: URL): URL {
  if (host.mode !== 'insecure-tls' || url.protocol !== 'http:' || url.host !== host.host) return url;
  return new URL(`https:${url.href.slice('http:'.length)}`);
}

/** The TLS options for a request to `url` (as requestUrl gives it): the host's own, for its own https origin only. */
export function tlsOptionsFor(host: RegistryHost, url: URL): TlsOptions | undefined {
  if (url.protocol !== 'https:' || url.host !== host.host) return undefined;
  if (host.mode === 'insecure-tls') return { rejectUnauthorized: false };
  const options: TlsOptions = {};
  if (host.ca && host.ca.length > 0) options.ca = [...host.ca];
  if (host.clientCertificate) Object.assign(options, host.clientCertificate);
  return options.ca || options.cert ? options : undefined;
}

/**
 * Whether a redirect from https may lead to the plain http `url` (transport/decide-redirect.ts):
 * only where plain http was acceptable anyway, a loopback host or this registry's own host
 * when the engine treats it as insecure.
 */
export function mayUsePlainHttp(host: RegistryHost, url: URL): boolean {
  if (isLoopbackHost(url.hostname)) return true;
  return host.mode !== 'verified' && splitHostPort(host.host)[0] === unbracket(url.hostname);
}
