import { RunDockerError } from '../../../common/run-docker-error';
import type { RegistryDeadline } from './registry-deadline';
import { RegistryUnreachableError } from './registry-unreachable-error';
import { ProxyFailure } from './request-through-proxy';
import { InvalidProxyUrl } from './select-proxy';
import {
  clientCertificateAlertCode,
  clientCertificateRefused,
  httpsOnlyRegistry,
  isHttpsOnlyAnswer,
  untrustedCertificate,
  untrustedCertificateCode,
} from './registry-tls-errors';
import { isLoopbackHost, splitHostPort, unbracket } from './network-address';
import {
  BodyTooLargeError,
  RedirectRefused,
  sendWithNodeHttp,
  type RegistryRequest,
  type RegistryTls,
  type ResponseHeaders,
  type SendRequest,
} from './send-with-node-http';

export interface RegistryHttp {
  /** How requests go out; tests wrap it to record them. */
  send: SendRequest;
  /** Per request. */
  timeoutMs: number;
  /** The end of the call's registry budget (registry-deadline.ts); no request outlives it. */
  deadline?: RegistryDeadline;
  now?: () => number;
  /** The proxy for a URL, if any (select-proxy.ts); set by the session once it has read the settings. */
  proxyFor?: (url: URL) => URL | undefined;
  /** certs.d material for the registry's own `host[:port]` (choose-registry-transport.ts). */
  tls?: RegistryTls & { host: string };
  /**
   * The registry is insecure for the engine and asked over http: if it answers only https,
   * requests to `host` go over https without checking its certificate (`upgraded`).
   */
  insecure?: { host: string; upgraded: boolean };
  /** The registry's own `host[:port]`, for messages about another host it sent us to (its token service). */
  registryHost?: string;
}

export const defaultSend: SendRequest = sendWithNodeHttp;

/** A fully read response: registry answers we use are small JSON documents. */
export interface RegistryResponse {
  url: string;
  status: number;
  headers: ResponseHeaders;
  text: string;
}

/** Far above a 1000-tag page (≤ 131 kB) or a token; a hostile endless body stops here. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * One HTTP request and its whole body under one timeout: the per-request one, or what is
 * left of the call's registry deadline when that is sooner. Redirects are followed, as
 * blob and token endpoints often redirect. A failure to talk to the server at all becomes
 * a RegistryUnreachableError naming the host.
 */
export async function fetchRegistry(
  url: string,
  request: RegistryRequest,
  http: RegistryHttp,
): Promise<RegistryResponse> {
  const host = new URL(url).host;
  const left = http.deadline ? http.deadline.at - (http.now ?? Date.now)() : Infinity;
  if (left <= 0)
    throw new RegistryUnreachableError(
      host,
      `the ${http.deadline!.totalMs} ms for registry lookups in this call are used up`,
    );
  const timeoutMs = Math.min(http.timeoutMs, Math.ceil(left));
  const upgraded = http.insecure?.host === host && http.insecure.upgraded && url.startsWith('http:');
  const target = upgraded ? `https:${url.slice('http:'.length)}` : url;
  const tls = upgraded
    ? { rejectUnauthorized: false }
    : http.tls && http.tls.host === host
      ? { ca: http.tls.ca, cert: http.tls.cert, key: http.tls.key }
      : undefined;
  let answer;
  try {
    answer = await http.send(target, tls ? { ...request, tls } : request, {
      timeoutMs,
      maxBodyBytes: MAX_BODY_BYTES,
      proxyFor: http.proxyFor,
      mayUsePlainHttp: (to) => mayUsePlainHttp(to, http),
    });
  } catch (error) {
    if (error instanceof RedirectRefused) throw redirectRefused(http.registryHost ?? host, error.message);
    if (error instanceof BodyTooLargeError) {
      throw new RunDockerError(
        `the registry at "${host}" sent an answer larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB`,
        'Check that the registry address is right.',
      );
    }
    const untrusted = untrustedCertificateCode(error);
    // dockerd asks the token service through the registry's own TLS settings, its certs.d
    // CAs added to the system roots. Here those CAs replace Node's roots, so they are tried
    // for another host (a token service under the same private CA, as GitLab's) only when
    // the roots failed: one more handshake, and only where the roots alone would fail.
    if (untrusted && host !== http.tls?.host && http.tls?.ca && !tls) {
      return fetchRegistry(url, request, { ...http, tls: { ...http.tls, host, cert: undefined, key: undefined } });
    }
    if (untrusted) throw untrustedCertificate(host, untrusted, http.registryHost);
    const alert = clientCertificateAlertCode(error);
    if (alert) throw clientCertificateRefused(host, alert, tls?.cert !== undefined);
    // The deadline's remainder in ms would differ from run to run: name the budget instead.
    const waited =
      timeoutMs < http.timeoutMs ? `this call's ${http.deadline!.totalMs} ms for registry lookups` : `${timeoutMs} ms`;
    if (error instanceof ProxyFailure || error instanceof InvalidProxyUrl) throw proxyUnusable(host, error, waited);
    const reason = describeNetworkFailure(error, waited);
    if (reason) throw new RegistryUnreachableError(host, reason);
    throw error;
  }
  if (isHttpsOnlyAnswer(target, answer.status, answer.text)) {
    if (http.insecure?.host !== host) throw httpsOnlyRegistry(host);
    // As dockerd treats an insecure registry: https without checking its certificate, from
    // now on for every request of this lookup (one round trip lost, once).
    http.insecure.upgraded = true;
    return fetchRegistry(url, request, http);
  }
  return { url, ...answer };
}

/**
 * Plain HTTP after a redirect from https only where it was acceptable before: a loopback
 * host, or the registry's own host when the engine treats it as insecure (asked over http).
 */
function mayUsePlainHttp(to: URL, http: RegistryHttp): boolean {
  if (isLoopbackHost(to.hostname)) return true;
  return http.insecure !== undefined && splitHostPort(http.insecure.host)[0] === unbracket(to.hostname);
}

/**
 * A redirect that would expose credentials or leave the registry's origin with a body: the
 * registry cannot be used as it answers now, like a 5xx (one warning, the local images).
 */
function redirectRefused(registry: string, reason: string): RegistryUnreachableError {
  return new RegistryUnreachableError(
    registry,
    reason,
    `the registry "${registry}" sent a redirect run-docker does not follow`,
    'Check the registry address and its proxy: a redirect from https to plain HTTP would expose credentials. Or run with --local to use only images on this host.',
  );
}

/**
 * Like an unreachable registry (the images on this host are the way on), but naming the
 * proxy, password hidden: the registry itself may be fine.
 */
function proxyUnusable(host: string, error: ProxyFailure | InvalidProxyUrl, waited: string): RegistryUnreachableError {
  const settings = 'HTTPS_PROXY, HTTP_PROXY, NO_PROXY or "proxies" in ~/.docker/config.json';
  if (error instanceof InvalidProxyUrl) {
    return new RegistryUnreachableError(
      host,
      error.message,
      `cannot use the proxy for the registry "${host}"`,
      `Correct ${settings}, or run with --local to use only images on this host.`,
    );
  }
  const hint = error.authentication
    ? `Check the user and password in the proxy URL (${settings}), or run with --local to use only images on this host.`
    : `Check the proxy and its address in ${settings}, or run with --local to use only images on this host.`;
  const reason = error.timedOut ? `no answer within ${waited}` : error.reason;
  return new RegistryUnreachableError(
    host,
    reason,
    `cannot reach the registry "${host}" through the proxy "${error.proxy}"`,
    hint,
  );
}

const NETWORK_CODES = /^(E[A-Z]+|UND_ERR_[A-Z_]+|ERR_TLS_[A-Z_]+|CERT_[A-Z_]+|[A-Z_]*_CERT[A-Z_]*)$/;

/**
 * A short reason when `error` means the server could not be talked to, else undefined:
 * a timeout, or a system error code (ECONNREFUSED, ENOTFOUND, ECONNRESET, a TLS failure…;
 * an AggregateError when several addresses were tried).
 */
function describeNetworkFailure(error: unknown, waited: string): string | undefined {
  const e = error as { name?: string; code?: unknown; errors?: Array<{ code?: unknown }> };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${waited}`;
  const code = e?.code ?? e?.errors?.find((inner) => inner?.code)?.code;
  return typeof code === 'string' && NETWORK_CODES.test(code) ? code : undefined;
}
