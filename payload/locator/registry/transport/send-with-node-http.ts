/**
 * One registry request over node:http/https. Not global fetch: its first use loads undici,
 * which cost ~40 ms and ~30 MiB on every call that asks the registry (docs/performance.md).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { loadHttp, loadHttps } from '../../../../common/lazy-builtins';
import type { RawAnswer, RegistryRequest, ResponseHeaders } from '../registry-request';
import { decideRedirect, REDIRECT_STATUSES } from './decide-redirect';
import { isLoopbackHost } from '../network-address';
import { proxyTimedOut, requestThroughProxy } from './request-through-proxy';
import type { TlsSessionStore } from './tls-session-store';

/** How a request goes out, as the transport decides it; wrappers that record requests pass it on unchanged. */
export interface SendOptions {
  /** For the request, its redirects and their bodies together. */
  timeoutMs: number;
  maxBodyBytes: number;
  /**
   * The proxy for a URL (select-proxy.ts), asked at every hop since a redirect may lead
   * elsewhere; none when absent.
   */
  proxyFor?: (url: URL) => URL | undefined;
  /** Whether a redirect from https may lead to this plain http URL (decide-redirect.ts); default: loopback only. */
  mayUsePlainHttp?: (url: URL) => boolean;
  /** TLS sessions to resume and to keep (tls-session-store.ts); none: every handshake is a full one. */
  tlsSessions?: TlsSessionStore;
}

export type SendRequest = (url: string, request: RegistryRequest, options: SendOptions) => Promise<RawAnswer>;

/** A redirect decide-redirect.ts does not follow; `reason` names origins, never a path or query. */
export class RedirectRefused extends Error {
  override readonly name = 'RedirectRefused';
}

/** Thrown when the body exceeds `maxBodyBytes`. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

const MAX_REDIRECTS = 5;

/** Follows redirects (token and blob endpoints use them) as decide-redirect.ts allows. */
export const sendWithNodeHttp: SendRequest = async (url, request, options) => {
  const deadline = Date.now() + options.timeoutMs;
  const mayUsePlainHttp = options.mayUsePlainHttp ?? ((target: URL) => isLoopbackHost(target.hostname));
  let current = new URL(url);
  let currentRequest = request;
  for (let hop = 0; ; hop++) {
    const answer = await sendOnce(current, currentRequest, options, deadline);
    const location = answer.headers.get('location');
    if (!REDIRECT_STATUSES.includes(answer.status) || !location || hop === MAX_REDIRECTS) return answer;
    const next = decideRedirect(current, answer.status, location, currentRequest, mayUsePlainHttp);
    if ('refused' in next) throw new RedirectRefused(next.refused);
    current = next.url;
    currentRequest = next.request;
  }
};

function sendOnce(url: URL, request: RegistryRequest, options: SendOptions, deadline: number): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(error);
    };
    // node:https (and node:tls) load only for https registries: they cost start-up time.
    const secure = url.protocol === 'https:';
    const send = (secure ? loadHttps() : loadHttp()).request;
    const tls = secure ? request.tls : undefined;
    const proxy = options.proxyFor?.(url);
    // Not through a proxy's tunnel: request-through-proxy.ts makes its own TLS connection.
    const sessions = secure && !proxy ? options.tlsSessions : undefined;
    const session = sessions?.get(url.host, tls);
    const requestOptions = {
      method: request.method ?? 'GET',
      headers: request.headers,
      ...tls,
      ...(session && { session }),
    };
    /** A session the server gave, being saved: the answer waits for it, so that no write is cut short. */
    let saving: Promise<void> | undefined;
    const onResponse = (res: import('node:http').IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBodyBytes) fail(new BodyTooLargeError(`body larger than ${options.maxBodyBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const answer = {
          status: res.statusCode ?? 0,
          headers: headerReader(res.headers),
          text: Buffer.concat(chunks).toString('utf8'),
        };
        if (saving) void saving.then(() => resolve(answer));
        else resolve(answer);
      });
      res.on('error', fail);
    };
    const req = proxy
      ? requestThroughProxy(url, proxy, requestOptions, Math.max(0, deadline - Date.now()), onResponse)
      : send(url, requestOptions, onResponse);
    const timer = setTimeout(
      () => {
        const timeout = new Error(`no answer within ${options.timeoutMs} ms`);
        timeout.name = 'TimeoutError';
        // Still no socket through a proxy: the proxy or its tunnel hangs, not the registry.
        fail(proxy && !req.socket ? proxyTimedOut(proxy, options.timeoutMs) : timeout);
      },
      Math.max(0, deadline - Date.now()),
    );
    req.on('error', fail);
    if (sessions) {
      req.on('socket', (socket) => {
        // A kept-alive socket has had its handshake; a new one may be given a session (TLS 1.3: after it).
        if (!socket.connecting) return;
        const tlsSocket = socket as import('node:tls').TLSSocket;
        tlsSocket.once('session', (given: Buffer) => {
          if (!settled) saving = sessions.offer(url.host, tls, given, tlsSocket.isSessionReused());
        });
      });
    }
    req.end(request.body);
  });
}

function headerReader(headers: IncomingHttpHeaders): ResponseHeaders {
  return {
    get(name) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}
