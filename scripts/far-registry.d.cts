// Types of scripts/far-registry.cjs, for TypeScript tests.

/**
 * Requests by kind ('401': a /v2/ request answered 401, whatever it asked for), new
 * connections, and (with `tls`) the connections whose TLS session was resumed.
 */
export type FarRegistryCounts = Record<
  'token' | '401' | 'tags/list' | 'manifests' | 'blobs' | 'other' | 'connections' | 'resumed',
  number
>;

export interface FarRegistryRequest {
  /** Which connection it came on, numbered from 1 since the proxy started. */
  connection: number;
  method: string;
  /** Path and query as sent. */
  path: string;
  kind: Exclude<keyof FarRegistryCounts, 'connections' | 'resumed'>;
  status: number;
  /** With `tls`: whether its connection's TLS session was resumed. */
  resumed: boolean;
  /** Epoch ms: its connection's connect, its arrival, its answer sent (once sent). */
  connectedAt: number;
  arrivedAt: number;
  finishedAt: number | undefined;
}

export interface FarRegistryOptions {
  /** The registry behind it, `127.0.0.1:PORT` (scripts/registry start). */
  upstream: string;
  /** Round-trip time; default 50. */
  rttMs?: number;
  /** Round trips a new connection costs before its first request; default 1 (TCP). */
  handshakeRtts?: number;
  /** A fixed port (a free one otherwise). */
  port?: number;
  /** The `service` of the challenge; default "far-registry". */
  service?: string;
  /** Token lifetime; default 300. */
  tokenExpiresInS?: number;
  /** When set, the token service wants these (Basic auth, or a password grant). */
  credentials?: { username: string; password: string };
  /**
   * Real TLS with this certificate and key (PEM), at most `maxVersion` (default TLS 1.3):
   * every flight, the handshake's included, is then delayed by RTT/2 at the TCP level, and
   * `handshakeRtts` counts TCP's handshake only.
   */
  tls?: { cert: string; key: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3' };
}

export interface FarRegistry {
  /** `127.0.0.1:PORT`, usable in image references. */
  readonly address: string;
  readonly rttMs: number;
  /** `https` with `tls`, else `http`. */
  readonly scheme: 'http' | 'https';
  setRtt(ms: number): void;
  counts(): FarRegistryCounts;
  requests(): FarRegistryRequest[];
  reset(): void;
  revokeTokens(): void;
  close(): Promise<void>;
}

export declare const KINDS: ReadonlyArray<FarRegistryRequest['kind']>;
export declare const DEFAULT_RTT_MS: number;
export declare function startFarRegistry(options: FarRegistryOptions): Promise<FarRegistry>;
export declare function measureConversation(
  requests: FarRegistryRequest[],
  since: number,
): { waitedMs: number; spanMs: number };
export declare function diffCounts(after: FarRegistryCounts, before: FarRegistryCounts): FarRegistryCounts;
