/**
 * Answers asked for before they are needed, kept for the lookup that needs them. A call
 * looks up two repositories one after the other: mini's (the tiny's locator, called by the
 * shim), then the project's (the mini payload's own copy of this code, once the shim has
 * verified and started it). To a registry a round trip away over TLS that is TCP's and TLS's
 * handshakes and two requests in sequence, with the payload's start between them: 4 round
 * trips and more where 3 are the floor. So the lookup of mini sends the project's first
 * request at once, beside its own, when the last call in this folder looked it up next
 * (predict-next-lookup.ts); the answer waits here until the project's lookup sends that very
 * request, and is then its answer (docs/performance.md, "Far-registry mode").
 *
 * Shared through a `Symbol.for` key on globalThis, as registry-deadline.ts shares the time
 * budget and for the same reasons: the two copies are separately bundled modules in one
 * process (compile-payload.ts runs payloads in the shim's realm), and the frozen shim knows
 * nothing of registries. An answer is given once, only to a request identical in method,
 * URL, headers, body and TLS settings, and only within MAX_AGE_MS of its sending: it is then
 * what that request would have been answered a moment later. An early request that failed
 * is not reused: the request is sent again, under the time the call has left.
 */
import type { RawAnswer, RegistryRequest } from '../registry-request';
import type { SendRequest } from './send-with-node-http';

/** The answers kept, and the repositories whose tags this process looked up, in order. */
export interface EarlyAnswers {
  readonly version: 1;
  readonly answers: Map<string, { sentAt: number; answer: Promise<RawAnswer> }>;
  /** For predict-next-lookup.ts: each lookup, and the lookup it predicted would follow, if it asked. */
  readonly lookups: Array<{ repository: string; predicted?: string | null }>;
}

/** A call takes seconds; an answer older than this was asked for something else (a long-lived test process). */
export const MAX_AGE_MS = 10_000;

const EARLY_KEY = Symbol.for('run-docker.registry-lookups.early-answers');

export function createEarlyAnswers(): EarlyAnswers {
  return { version: 1, answers: new Map(), lookups: [] };
}

/** The record every copy of the locator in this process shares. */
export function processEarlyAnswers(): EarlyAnswers {
  const holder = globalThis as { [EARLY_KEY]?: EarlyAnswers };
  const found = holder[EARLY_KEY];
  // Another copy's record of another shape (a later version) is left alone: this copy keeps its own.
  if (found?.version === 1 && found.answers instanceof Map && Array.isArray(found.lookups)) return found;
  const own = createEarlyAnswers();
  if (found === undefined) holder[EARLY_KEY] = own;
  return own;
}

/** Pure: what makes two requests the same request: method, URL, headers (any case, any order), body, TLS settings. */
export function requestIdentity(url: string, request: RegistryRequest): string {
  const headers = Object.entries(request.headers ?? {})
    .map(([name, value]) => [name.toLowerCase(), value])
    .sort(([a = ''], [b = '']) => (a < b ? -1 : a > b ? 1 : 0));
  const tls = request.tls;
  return JSON.stringify([
    request.method ?? 'GET',
    url,
    headers,
    request.body ?? null,
    tls ? [tls.ca ?? null, tls.cert ?? null, tls.key ?? null, tls.rejectUnauthorized ?? null] : null,
  ]);
}

/** Sends as `send` does, and keeps the answer for an identical request of a later lookup. */
export function sendingEarly(send: SendRequest, store: EarlyAnswers, now: () => number = Date.now): SendRequest {
  return (url, request, options) => {
    const answer = send(url, request, options);
    store.answers.set(requestIdentity(url, request), { sentAt: now(), answer });
    // Nobody may ever take it: its failure must not surface as an unhandled rejection.
    answer.catch(() => undefined);
    return answer;
  };
}

/** Answers with what an identical request sent early got (once, while fresh), else sends as `send` does. */
export function takingEarly(send: SendRequest, store: EarlyAnswers, now: () => number = Date.now): SendRequest {
  return (url, request, options) => {
    const key = requestIdentity(url, request);
    const early = store.answers.get(key);
    if (early === undefined) return send(url, request, options);
    store.answers.delete(key);
    if (now() - early.sentAt > MAX_AGE_MS) return send(url, request, options);
    return early.answer.catch(() => send(url, request, options));
  };
}
