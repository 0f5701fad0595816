/**
 * A registry request and its answer, as every part of the client sends and reads them: the
 * transport sends them (transport/create-registry-transport.ts); auth and paging only see
 * this shape.
 */

export interface RegistryRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The registry's TLS settings for this request's origin (registry-host.ts); never follow a redirect to another origin. */
  tls?: TlsOptions;
}

/** TLS options as node:tls takes them. */
export interface TlsOptions {
  ca?: string[];
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
}

export interface ResponseHeaders {
  get(name: string): string | null;
}

/** One hop's answer, body fully read: registry answers the client uses are small JSON documents. */
export interface RawAnswer {
  status: number;
  headers: ResponseHeaders;
  text: string;
}

/** An answer and the URL it was asked at (before any redirect). */
export interface RegistryResponse extends RawAnswer {
  url: string;
}

/** What auth and paging send through: the transport, or a fake in tests. */
export interface RegistrySender {
  send(url: string, request: RegistryRequest): Promise<RegistryResponse>;
}
