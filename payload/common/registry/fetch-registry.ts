import { RunDockerError } from '../../../common/run-docker-error';
import { RegistryUnreachableError } from './registry-unreachable-error';

export type FetchImpl = typeof fetch;

export interface RegistryHttp {
  fetchImpl: FetchImpl;
  timeoutMs: number;
}

/** A fully read response: registry answers we use are small JSON documents. */
export interface RegistryResponse {
  url: string;
  status: number;
  headers: Headers;
  text: string;
}

/** Far above a 1000-tag page (≤ 131 kB) or a token; a hostile endless body stops here. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * One HTTP request and its whole body under one timeout (AbortSignal.timeout covers the body
 * too). Redirects are followed, as blob and token endpoints often redirect. A failure to talk
 * to the server at all becomes a RegistryUnreachableError naming the host.
 */
export async function fetchRegistry(url: string, init: RequestInit, http: RegistryHttp): Promise<RegistryResponse> {
  const host = new URL(url).host;
  try {
    const response = await http.fetchImpl(url, { ...init, redirect: 'follow', signal: AbortSignal.timeout(http.timeoutMs) });
    const text = await readBoundedText(response, host);
    return { url, status: response.status, headers: response.headers, text };
  } catch (error) {
    const reason = describeNetworkFailure(error, http.timeoutMs);
    if (reason) throw new RegistryUnreachableError(host, reason);
    throw error;
  }
}

async function readBoundedText(response: Response, host: string): Promise<string> {
  const tooLarge = () =>
    new RunDockerError(
      `the registry at "${host}" sent an answer larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB`,
      'Check that the registry address is right.',
    );
  if (Number(response.headers.get('content-length')) > MAX_BODY_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A short reason when `error` means the server could not be talked to, else undefined.
 * Node's fetch rejects with TypeError("fetch failed") whose `cause` carries the system error
 * code (ECONNREFUSED, ENOTFOUND, …; an AggregateError when several addresses were tried),
 * and with a DOMException named TimeoutError when AbortSignal.timeout fires.
 */
function describeNetworkFailure(error: unknown, timeoutMs: number): string | undefined {
  const e = error as { name?: string; cause?: unknown };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  // By name, not instanceof: fetch's errors may come from another realm (e.g. under Jest).
  if (e?.name !== 'TypeError' || e.cause === undefined) return undefined;
  const cause = e.cause as { code?: unknown; message?: unknown; errors?: Array<{ code?: unknown }> };
  const code = cause.code ?? cause.errors?.find((inner) => inner?.code)?.code;
  if (typeof code === 'string' && code) return code;
  return typeof cause.message === 'string' && cause.message ? cause.message.split('\n')[0].slice(0, 120) : 'connection failed';
}
