/**
 * A registry transport in memory (RegistryTransport's `send`), for unit tests of what sits
 * above it: auth handlers and the token service protocol. It records every request and
 * answers with what `answer` returns; the transport itself is tested against servers.
 */
import type { RegistryRequest, RegistryResponse } from '../../payload/locator/registry/registry-request';

export interface FakeAnswer {
  status: number;
  text?: string;
  headers?: Record<string, string>;
}

export interface SentRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

export function fakeTransport(answer: (request: SentRequest) => FakeAnswer) {
  const sent: SentRequest[] = [];
  return {
    sent,
    send(url: string, request: RegistryRequest): Promise<RegistryResponse> {
      const recorded: SentRequest = { url, method: request.method ?? 'GET', headers: { ...request.headers } };
      if (request.body !== undefined) recorded.body = request.body;
      sent.push(recorded);
      const { status, text = '', headers = {} } = answer(recorded);
      const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
      return Promise.resolve({ url, status, text, headers: { get: (name) => lower[name.toLowerCase()] ?? null } });
    },
  };
}
