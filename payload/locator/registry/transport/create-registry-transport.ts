/**
 * The one way a registry lookup's requests go out (its token service's too): through the
 * proxy the settings choose (select-proxy.ts), with the registry's TLS settings
 * (registry-host.ts), each with its whole body under one timeout, the per-request one or what
 * is left of the call's registry deadline when that is sooner (registry-deadline.ts).
 * Redirects are followed as decide-redirect.ts allows. A failure to talk to the server at all
 * becomes a RegistryUnreachableError naming the host (registry-tls-errors.ts for TLS).
 */
import type { Logger } from '../../../../contract/contract';
import { RunDockerError } from '../../../../common/run-docker-error';
import { mayUsePlainHttp, requestUrl, tlsOptionsFor, upgradeToInsecureTls, type RegistryHost } from '../registry-host';
import { RegistryUnreachableError } from '../registry-unreachable-error';
import { createProxyFor } from './read-proxy-settings';
import type { RegistryDeadline } from './registry-deadline';
import {
  clientCertificateAlertCode,
  isPlainHttpAnswer,
  plainHttpRegistry,
  clientCertificateRefused,
  httpsOnlyRegistry,
  isHttpsOnlyAnswer,
  untrustedCertificate,
  untrustedCertificateCode,
} from './registry-tls-errors';
import { ProxyFailure } from './request-through-proxy';
import { InvalidProxyUrl, type ProxySettings } from './select-proxy';
import type { RawAnswer, RegistryRequest, RegistryResponse, RegistrySender, TlsOptions } from '../registry-request';
import { BodyTooLargeError, RedirectRefused, sendWithNodeHttp, type SendRequest } from './send-with-node-http';
import type { TlsSessionStore } from './tls-session-store';

export interface RegistryTransport extends RegistrySender {
  /** The registry as it is talked to now: the insecure-tls value once it answered only https. */
  readonly host: RegistryHost;
}

export interface RegistryTransportOptions {
  host: RegistryHost;
  /** Parsed by the caller (read-proxy-settings.ts); none: every request goes direct. */
  proxy?: ProxySettings;
  /** Per request. */
  timeoutMs: number;
  /** The end of the call's registry budget; no request outlives it. */
  deadline?: RegistryDeadline;
  now?: () => number;
  /** How one request goes out (default: node:http/https); tests wrap it to record requests. */
  send?: SendRequest;
  /** TLS sessions to resume and keep (tls-session-store.ts). */
  tlsSessions?: TlsSessionStore;
  log?: Logger;
}

/** Far above a 1000-tag page (≤ 131 kB) or a token; a hostile endless body stops here. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/**
 * Less of the call's deadline than this left counts as none: no request is answered in it, and
 * the timer that ended the lookup before may fire a few ms before Date.now() shows the deadline
 * passed, which would otherwise send one more doomed request (and name the wrong cause).
 */
const MIN_REQUEST_MS = 25;

export function createRegistryTransport(options: RegistryTransportOptions): RegistryTransport {
  const send = options.send ?? sendWithNodeHttp;
  const now = options.now ?? Date.now;
  const proxyFor = options.proxy ? createProxyFor(options.proxy, options.log) : undefined;
  let host = options.host;

  /** One attempt at `target` with `tls`, under what is left of the time. */
  async function attempt(target: URL, request: RegistryRequest, tls: TlsOptions | undefined): Promise<Attempt> {
    const left = options.deadline ? options.deadline.at - now() : Infinity;
    if (left < MIN_REQUEST_MS) {
      const spent = `the ${options.deadline!.totalMs} ms for registry lookups in this call are used up`;
      return { failure: new RegistryUnreachableError(target.host, spent), tls, waited: '' };
    }
    const timeoutMs = Math.min(options.timeoutMs, Math.ceil(left));
    // The deadline's remainder in ms would differ from run to run: name the budget instead.
    const waited =
      timeoutMs < options.timeoutMs
        ? `this call's ${options.deadline!.totalMs} ms for registry lookups`
        : `${timeoutMs} ms`;
    try {
      const answer = await send(target.href, tls ? { ...request, tls } : request, {
        timeoutMs,
        maxBodyBytes: MAX_BODY_BYTES,
        proxyFor,
        mayUsePlainHttp: (to) => mayUsePlainHttp(host, to),
        ...(options.tlsSessions ? { tlsSessions: options.tlsSessions } : {}),
      });
      return { answer };
    } catch (failure) {
      return { failure, tls, waited };
    }
  }

  async function sendRequest(url: string, request: RegistryRequest): Promise<RegistryResponse> {
    const target = requestUrl(host, new URL(url));
    const tls = tlsOptionsFor(host, target);
    let outcome = await attempt(target, request, tls);
    // dockerd asks the token service through the registry's own TLS settings, its certs.d
    // CAs added to the system roots. Here those CAs replace Node's roots, so they are tried
    // for another host (a token service under the same private CA, as GitLab's) only when
    // the roots failed: one more handshake, and only where the roots alone would fail.
    if (
      'failure' in outcome &&
      untrustedCertificateCode(outcome.failure) &&
      !tls &&
      host.ca &&
      target.host !== host.host
    )
      outcome = await attempt(target, request, { ca: [...host.ca] });
    if ('failure' in outcome) {
      // A plain-HTTP registry asked over https: the engine treats it as secure (registry-tls-errors.ts).
      if (target.protocol === 'https:' && isPlainHttpAnswer(outcome.failure)) throw plainHttpRegistry(target.host);
      throw describeFailure(outcome, target.host, host.host);
    }
    const { answer } = outcome;
    if (isHttpsOnlyAnswer(target.href, answer.status, answer.text)) {
      if (host.mode !== 'plain' || target.host !== host.host) throw httpsOnlyRegistry(target.host);
      // As dockerd treats an insecure registry: https without checking its certificate, from
      // now on for every request of this lookup (one round trip lost, once).
      host = upgradeToInsecureTls(host);
      options.log?.debug(`registry "${host.host}" answers only https: asked over https, its certificate not checked`);
      return sendRequest(url, request);
    }
    return { url, ...answer };
  }

  return {
    get host() {
      return host;
    },
    send: sendRequest,
  };
}

/** How one attempt ended: an answer, or a failure with the TLS options it used and how long it waited. */
type Attempt = { answer: RawAnswer } | { failure: unknown; tls: TlsOptions | undefined; waited: string };

/**
 * What a failed attempt means to the user: a RegistryUnreachableError for anything that
 * makes the registry unusable now (network, TLS, proxy, a refused redirect), a RunDockerError
 * for an endless answer; anything else unchanged. `registryHost`: the registry whose token
 * service `host` may be, for the certs.d path and the words.
 */
function describeFailure(
  { failure, tls, waited }: { failure: unknown; tls: TlsOptions | undefined; waited: string },
  host: string,
  registryHost: string,
): unknown {
  if (failure instanceof RegistryUnreachableError) return failure;
  if (failure instanceof BodyTooLargeError) {
    return new RunDockerError(
      `the registry at "${host}" sent an answer larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB`,
      'Check that the registry address is right.',
    );
  }
  if (failure instanceof RedirectRefused) return redirectRefused(registryHost, failure.message);
  const untrusted = untrustedCertificateCode(failure);
  if (untrusted) return untrustedCertificate(host, untrusted, registryHost);
  const alert = clientCertificateAlertCode(failure);
  if (alert) return clientCertificateRefused(host, alert, tls?.cert !== undefined);
  if (failure instanceof ProxyFailure || failure instanceof InvalidProxyUrl)
    return proxyUnusable(host, failure, waited);
  const reason = describeNetworkFailure(failure, waited);
  return reason ? new RegistryUnreachableError(host, reason) : failure;
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
