import { RunDockerError } from '../../../common/run-docker-error';
import type { RegistryDeadline } from './registry-deadline';
import { RegistryUnreachableError } from './registry-unreachable-error';
import { ProxyFailure } from './request-through-proxy';
import { InvalidProxyUrl } from './select-proxy';
import { BodyTooLargeError, sendWithNodeHttp, type RegistryRequest, type ResponseHeaders, type SendRequest } from './send-with-node-http';

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
export async function fetchRegistry(url: string, request: RegistryRequest, http: RegistryHttp): Promise<RegistryResponse> {
  const host = new URL(url).host;
  const left = http.deadline ? http.deadline.at - (http.now ?? Date.now)() : Infinity;
  if (left <= 0) throw new RegistryUnreachableError(host, `the ${http.deadline!.totalMs} ms for registry lookups in this call are used up`);
  const timeoutMs = Math.min(http.timeoutMs, Math.ceil(left));
  try {
    const answer = await http.send(url, request, { timeoutMs, maxBodyBytes: MAX_BODY_BYTES, proxyFor: http.proxyFor });
    return { url, ...answer };
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new RunDockerError(
        `the registry at "${host}" sent an answer larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB`,
        'Check that the registry address is right.',
      );
    }
    // The deadline's remainder in ms would differ from run to run: name the budget instead.
    const waited = timeoutMs < http.timeoutMs ? `this call's ${http.deadline!.totalMs} ms for registry lookups` : `${timeoutMs} ms`;
    if (error instanceof ProxyFailure || error instanceof InvalidProxyUrl) throw proxyUnusable(host, error, waited);
    const reason = describeNetworkFailure(error, waited);
    if (reason) throw new RegistryUnreachableError(host, reason);
    throw error;
  }
}

/**
 * Like an unreachable registry (the images on this host are the way on), but naming the
 * proxy, password hidden: the registry itself may be fine.
 */
function proxyUnusable(host: string, error: ProxyFailure | InvalidProxyUrl, waited: string): RegistryUnreachableError {
  const settings = 'HTTPS_PROXY, HTTP_PROXY, NO_PROXY or "proxies" in ~/.docker/config.json';
  if (error instanceof InvalidProxyUrl) {
    return new RegistryUnreachableError(host, error.message, `cannot use the proxy for the registry "${host}"`, `Correct ${settings}, or run with --local to use only images on this host.`);
  }
  const hint = error.authentication
    ? `Check the user and password in the proxy URL (${settings}), or run with --local to use only images on this host.`
    : `Check the proxy and its address in ${settings}, or run with --local to use only images on this host.`;
  const reason = error.timedOut ? `no answer within ${waited}` : error.reason;
  return new RegistryUnreachableError(host, reason, `cannot reach the registry "${host}" through the proxy "${error.proxy}"`, hint);
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
