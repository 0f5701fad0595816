/**
 * Where a redirect may take a registry request, and what may go with it. Pure.
 * - A 301 or 302 of a POST, and a 303 of anything but GET or HEAD, become a GET without a
 *   body, as the Fetch standard (https://fetch.spec.whatwg.org/#http-redirect-fetch, step 12)
 *   and Go's net/http (the docker CLI's and dockerd's client) do.
 * - Credentials (`Authorization`) and the registry's TLS material follow only to the same
 *   origin: scheme, host and port. `https://h` and `http://h` share `URL.host`, not the
 *   origin; a password must not go over plain HTTP because a registry said so.
 * - From https to plain http only where plain HTTP was acceptable anyway (`mayUsePlainHttp`:
 *   a loopback host, or the registry the engine treats as insecure); otherwise refused.
 * - A request that keeps its body (307, 308) follows only within its origin: the OAuth
 *   refresh-token form (an identity token from `docker login`) never goes to another host.
 */
import type { RegistryRequest } from '../registry-request';

export type Redirect = { url: URL; request: RegistryRequest } | { refused: string };

export const REDIRECT_STATUSES: readonly number[] = [301, 302, 303, 307, 308];

const BODY_HEADERS = new Set(['content-type', 'content-length', 'content-encoding', 'content-language']);

export function decideRedirect(
  from: URL,
  status: number,
  location: string,
  request: RegistryRequest,
  mayUsePlainHttp: (url: URL) => boolean,
): Redirect {
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    return { refused: `a redirect from ${from.origin} to an address that is not a URL` };
  }
  if (to.protocol !== 'https:' && to.protocol !== 'http:') {
    return { refused: `a redirect from ${from.origin} to ${to.protocol.slice(0, -1)}, not http(s)` };
  }
  if (from.protocol === 'https:' && to.protocol === 'http:' && !mayUsePlainHttp(to)) {
    return { refused: `a redirect from ${from.origin} to plain ${to.origin}` };
  }
  const method = request.method ?? 'GET';
  const toGet = ((status === 301 || status === 302) && method === 'POST') || (status === 303 && method !== 'HEAD');
  const sameOrigin = to.origin === from.origin;
  if (!toGet && request.body !== undefined && !sameOrigin) {
    return { refused: `a redirect of a ${method} with its body from ${from.origin} to ${to.origin}` };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === 'authorization' && !sameOrigin) continue;
    if (toGet && BODY_HEADERS.has(lower)) continue;
    headers[name] = value;
  }
  const next: RegistryRequest = { method: toGet ? 'GET' : method, headers };
  if (!toGet && request.body !== undefined) next.body = request.body;
  if (sameOrigin && request.tls) next.tls = request.tls;
  return { url: to, request: next };
}
