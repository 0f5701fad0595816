/**
 * A GET over the engine's socket without node:http. Loading node:http and running its
 * client for the first time cost ~6 ms of every call, more than the engine takes to answer
 * (docs/performance.md); and every warm call makes exactly one request, a plain GET answered
 * with JSON. So a GET without a body is sent with `Connection: close` and its answer is read
 * until the engine closes the connection, then parsed here. Anything else (bodies, streamed
 * answers, TLS) still goes over node:http (light-engine-client.ts).
 * HTTP/1.1 message syntax: RFC 9112.
 */
import { connect } from 'node:net';

/** A complete answer: status code, headers (names in lower case) and body (de-chunked). */
export interface ClosedAnswer {
  status: number;
  headers: ReadonlyMap<string, string>;
  body: Buffer;
}

/** What a connection error of node:http carries, so engine-error.ts explains both alike. */
export const CUT_SHORT_CODE = 'ECONNRESET';
/** An answer that is not HTTP/1.1 as it must be (something else listens on the socket); the message completes "what answers there …". */
export const NOT_HTTP_CODE = 'ERR_RUN_DOCKER_ENGINE_ANSWER';
/** An answer read whole (JSON) that passed ENGINE_ANSWER_LIMIT_BYTES: the read stops there. */
export const ANSWER_TOO_LARGE_CODE = 'ERR_RUN_DOCKER_ENGINE_ANSWER_TOO_LARGE';

/**
 * The most of an engine's answer that is read whole (JSON; exports and archives are streams,
 * bounded by their readers). The largest run-docker asks for is the image list, ~1 kB an
 * image: 32 MiB is tens of thousands of images, and still a bounded cost (docs/faults.md) when
 * what answers sends without end. The registry's answers have the same kind of bound (8 MiB,
 * payload/locator/registry/send-with-node-http.ts).
 */
export const ENGINE_ANSWER_LIMIT_BYTES = 32 * 1024 * 1024;

/** The error for an answer past `limitBytes`, naming the call as the timeout does (engine-error.ts). */
export function answerTooLargeError(method: string, path: string, limitBytes: number): Error {
  const call = `${method} ${path.split('?')[0]}`;
  return Object.assign(
    new Error(`the Docker engine sent an answer larger than ${limitBytes / 1024 / 1024} MiB (${call})`),
    { code: ANSWER_TOO_LARGE_CODE, limitBytes, call },
  );
}

/**
 * GET `path` on the unix socket `socketPath`; the whole answer once the engine closes the
 * connection. `onSilence` builds the error for `timeoutMs` without a byte (connecting,
 * waiting or reading alike), as the node:http path does. An answer past `maxBytes` (headers
 * included) is not read further: the connection is closed and the call fails
 * (ANSWER_TOO_LARGE_CODE).
 */
export async function getOverSocket(
  socketPath: string,
  path: string,
  timeoutMs: number,
  onSilence: () => Error,
  maxBytes: number = ENGINE_ANSWER_LIMIT_BYTES,
): Promise<ClosedAnswer> {
  const bytes = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const socket = connect(socketPath);
    socket.setTimeout(timeoutMs, () => socket.destroy(onSilence()));
    // write, not end: a half-closed connection reads to Go's server as a client gone away.
    socket.on('connect', () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: docker\r\nAccept: application/json\r\nConnection: close\r\n\r\n`),
    );
    socket.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxBytes) socket.destroy(answerTooLargeError('GET', path, maxBytes));
      else chunks.push(chunk);
    });
    socket.on('error', reject);
    socket.on('end', () => resolve(Buffer.concat(chunks)));
  });
  return parseClosedAnswer(bytes);
}

/**
 * Pure: the status and body of an HTTP/1.1 answer whose connection the server closed after
 * it: the body is what Content-Length or chunked coding says, or else all the rest.
 * An answer cut short fails like a connection reset (CUT_SHORT_CODE).
 */
export function parseClosedAnswer(bytes: Buffer): ClosedAnswer {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) throw cutShort('before the end of its headers');
  const [statusLine = '', ...headerLines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const statusText = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine)?.[1];
  if (statusText === undefined)
    throw Object.assign(new Error(`its answer is not HTTP/1.1: "${statusLine.slice(0, 40)}"`), { code: NOT_HTTP_CODE });
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const status = Number(statusText);
  const rest = bytes.subarray(headEnd + 4);
  if (/(?:^|,)\s*chunked\s*$/i.test(headers.get('transfer-encoding') ?? ''))
    return { status, headers, body: decodeChunked(rest) };
  const length = headers.get('content-length');
  if (length === undefined) return { status, headers, body: rest };
  if (!/^\d+$/.test(length))
    throw Object.assign(new Error(`its answer has a malformed Content-Length: "${length.slice(0, 20)}"`), {
      code: NOT_HTTP_CODE,
    });
  if (rest.length < Number(length)) throw cutShort(`after ${rest.length} of its ${length} bytes`);
  return { status, headers, body: rest.subarray(0, Number(length)) };
}

/** Pure: the body of chunked transfer coding (RFC 9112, 7.1), trailers ignored. */
function decodeChunked(coded: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = coded.indexOf('\r\n', at);
    if (lineEnd < 0) throw cutShort('in the middle of its body');
    // The size, then optional chunk extensions after ';'.
    const sizeText = coded.subarray(at, lineEnd).toString('latin1').split(';')[0]?.trim() ?? '';
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText))
      throw Object.assign(new Error("its answer's chunked body is malformed"), { code: NOT_HTTP_CODE });
    const size = parseInt(sizeText, 16);
    if (size === 0) return Buffer.concat(parts);
    const start = lineEnd + 2;
    if (coded.length < start + size + 2) throw cutShort('in the middle of its body');
    parts.push(coded.subarray(start, start + size));
    at = start + size + 2;
  }
}

function cutShort(where: string): Error {
  return Object.assign(new Error(`the Docker engine closed the connection ${where}`), { code: CUT_SHORT_CODE });
}
