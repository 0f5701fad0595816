/**
 * A registry request through a forward proxy, as Go's net/http sends it (the docker CLI's
 * and dockerd's client): an https URL through a CONNECT tunnel with TLS to the registry
 * inside it (RFC 9110, section 9.3.6), an http URL as an absolute-URI request to the proxy
 * (RFC 9112, section 3.2.2). Credentials in the proxy URL (`http://user:pass@proxy:3128`)
 * go to the proxy as `Proxy-Authorization: Basic`, and nowhere else.
 * Failing to talk to the proxy rejects with ProxyFailure, so the message names the proxy
 * (redacted) rather than blaming the registry; what happens after the tunnel (TLS, HTTP)
 * is the registry's.
 */
import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { loadHttp, loadHttps } from '../../../../common/lazy-builtins';
import type { Socket } from 'node:net';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { unbracket } from '../network-address';
import { redactProxyUrl } from './select-proxy';

/** The proxy could not be used: not reachable, or it refused or failed the tunnel. */
export class ProxyFailure extends Error {
  override readonly name = 'ProxyFailure';
  constructor(
    /** The proxy URL with its password hidden. */
    readonly proxy: string,
    /** Short cause: `ECONNREFUSED`, `HTTP 407 Proxy Authentication Required`, … */
    readonly reason: string,
    /** The proxy wants (other) credentials: HTTP 407. */
    readonly authentication = false,
    /** No answer from the proxy in time (the caller words the time: it knows the budget). */
    readonly timedOut = false,
  ) {
    super(`the proxy "${proxy}" failed: ${reason}`);
  }
}

type Connected = (error: Error | null, socket?: Socket) => void;

/** Request options an agent hands to createConnection: the request's, plus ours. */
interface ConnectionOptions extends Record<string, unknown> {
  host?: string;
  port?: number | string;
  servername?: string;
  /** What is left of the request's time when it asks for a connection. */
  proxyTimeoutMs?: number;
}

/**
 * Agents that keep connections, one pair per proxy: a registry lookup is 2–4 requests (tag
 * list, 401, token, tag list), and a new tunnel costs a connection to the registry and a
 * TLS handshake, two or three far round trips, each time. Free sockets are unref'd by the
 * agent, so they never keep the process alive.
 */
const agents = new Map<string, { http: Agent; https: Agent }>();

function agentsFor(proxy: URL): { http: Agent; https: Agent } {
  let pair = agents.get(proxy.href);
  if (!pair) {
    const https = loadHttps();
    const tunnelling = new https.Agent({ keepAlive: true });
    // An agent's createConnection may answer through the callback (Node's http.Agent#createSocket).
    tunnelling.createConnection = ((options: ConnectionOptions, connected: Connected) => {
      const host = String(options.host);
      openProxyTunnel(proxy, host, Number(options.port), options.proxyTimeoutMs ?? 10_000).then(
        (tunnel) => connected(null, startTls(tunnel, options.servername || host, options)),
        (error: Error) => connected(error),
      );
      return undefined;
    }) as unknown as Agent['createConnection'];
    const forwarding = new (loadHttp().Agent)({ keepAlive: true });
    forwarding.createConnection = ((options: ConnectionOptions, connected: Connected) => {
      connectToProxy(proxy, options.proxyTimeoutMs ?? 10_000).then(
        (socket) => connected(null, socket),
        (error: Error) => connected(error),
      );
      return undefined;
    }) as unknown as Agent['createConnection'];
    pair = { http: forwarding, https: tunnelling };
    agents.set(proxy.href, pair);
  }
  return pair;
}

/**
 * Sends `options` (method, headers, and any TLS options for the registry) for `url` through
 * `proxy`; like http.request, the caller ends the request and handles 'error'. `timeoutMs`
 * bounds the connection to the proxy and the tunnel; the caller bounds the whole request.
 */
export function requestThroughProxy(
  url: URL,
  proxy: URL,
  options: RequestOptions,
  timeoutMs: number,
  onResponse: (res: IncomingMessage) => void,
): ClientRequest {
  const pair = agentsFor(proxy);
  if (url.protocol === 'https:') {
    const https = loadHttps();
    return https.request(
      url,
      { ...options, agent: pair.https, proxyTimeoutMs: timeoutMs } as RequestOptions,
      onResponse,
    );
  }
  const authorization = proxyAuthorization(proxy);
  return loadHttp().request(
    {
      method: options.method,
      host: unbracket(proxy.hostname),
      port: proxyPort(proxy),
      path: url.href,
      headers: {
        ...(options.headers as Record<string, string>),
        Host: url.host,
        ...(authorization ? { 'Proxy-Authorization': authorization } : {}),
      },
      agent: pair.http,
      proxyTimeoutMs: timeoutMs,
    } as RequestOptions,
    onResponse,
  );
}

/**
 * The request's time ran out before it had a connection: the proxy (or the tunnel through
 * it) is what did not answer, not the registry.
 */
export function proxyTimedOut(proxy: URL, timeoutMs: number): ProxyFailure {
  return new ProxyFailure(redactProxyUrl(proxy), `no answer within ${timeoutMs} ms`, false, true);
}

/** A socket to `host:port` through `proxy`'s CONNECT method; rejects with ProxyFailure. */
export function openProxyTunnel(proxy: URL, host: string, port: number, timeoutMs: number): Promise<Socket> {
  const target = `${isIP(unbracket(host)) === 6 ? `[${unbracket(host)}]` : host}:${port}`;
  const authorization = proxyAuthorization(proxy);
  const shown = redactProxyUrl(proxy);
  return connectToProxy(proxy, timeoutMs).then(
    (socket) =>
      new Promise<Socket>((resolve, reject) => {
        let settled = false;
        const finish = (error: ProxyFailure | undefined, tunnel?: Socket) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (error) {
            req.destroy();
            socket.destroy();
            reject(error);
          } else resolve(tunnel!);
        };
        const req = loadHttp().request({
          method: 'CONNECT',
          path: target,
          headers: { Host: target, ...(authorization ? { 'Proxy-Authorization': authorization } : {}) },
          createConnection: () => socket,
        });
        const timer = setTimeout(
          () => finish(new ProxyFailure(shown, `no answer within ${timeoutMs} ms`, false, true)),
          timeoutMs,
        );
        req.on('connect', (res: IncomingMessage, tunnel: Socket, head: Buffer) => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) {
            tunnel.destroy();
            finish(
              new ProxyFailure(
                shown,
                `HTTP ${status} ${res.statusMessage ?? ''}`.trim() + ` to CONNECT ${target}`,
                status === 407,
              ),
            );
            return;
          }
          // Bytes the proxy sent after its answer belong to the tunnel (nothing, before TLS starts).
          if (head.length > 0) tunnel.unshift(head);
          finish(undefined, tunnel);
        });
        // A proxy that answers CONNECT with a body it closes: not a tunnel.
        req.on('response', (res: IncomingMessage) => {
          res.resume();
          finish(new ProxyFailure(shown, `HTTP ${res.statusCode ?? 0} to CONNECT ${target}`, res.statusCode === 407));
        });
        req.on('error', (error: NodeJS.ErrnoException) => finish(new ProxyFailure(shown, error.code ?? error.message)));
        req.end();
      }),
  );
}

/** A connected socket to the proxy itself (TLS for an https:// proxy); rejects with ProxyFailure. */
export function connectToProxy(proxy: URL, timeoutMs: number): Promise<Socket> {
  const shown = redactProxyUrl(proxy);
  const host = unbracket(proxy.hostname);
  const port = proxyPort(proxy);
  return new Promise((resolve, reject) => {
    const socket: Socket =
      proxy.protocol === 'https:'
        ? // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: node:tls only for an https proxy
          (require('node:tls') as typeof import('node:tls')).connect({
            host,
            port,
            servername: isIP(host) ? undefined : host,
          })
        : // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: node:net only when a proxy is used
          (require('node:net') as typeof import('node:net')).connect({ host, port });
    const ready = proxy.protocol === 'https:' ? 'secureConnect' : 'connect';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ProxyFailure(shown, `no answer within ${timeoutMs} ms`, false, true));
    }, timeoutMs);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(socket);
    });
    const onError = (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new ProxyFailure(shown, error.code ?? error.message));
    };
    socket.once('error', onError);
  });
}

/** `Proxy-Authorization` for credentials in the proxy URL (percent-decoded), if any. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** The options of the registry's own TLS (CA, client certificate…) that the caller set; the rest is ours. */
const TLS_OPTION_NAMES = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'rejectUnauthorized',
  'minVersion',
  'maxVersion',
  'ciphers',
  'checkServerIdentity',
];

function startTls(tunnel: Socket, hostname: string, requestOptions: Record<string, unknown>): TLSSocket {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: node:tls only for https registries behind a proxy
  const tls = require('node:tls') as typeof import('node:tls');
  const chosen: Record<string, unknown> = {};
  for (const name of TLS_OPTION_NAMES) if (requestOptions[name] !== undefined) chosen[name] = requestOptions[name];
  const host = unbracket(hostname);
  return tls.connect({ ...chosen, socket: tunnel, servername: isIP(host) ? undefined : host });
}

function proxyPort(proxy: URL): number {
  return Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80));
}
