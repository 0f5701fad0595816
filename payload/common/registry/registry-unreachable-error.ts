import { RunDockerError } from '../../../common/run-docker-error';

/**
 * The registry (or its token service) could not be reached at all: connection refused,
 * unknown host, reset, TLS failure or no answer in time. Callers fall back to local images
 * on this error only; every other registry error (authentication, HTTP 500, …) is real.
 * Still a RunDockerError (same `name`), so if nobody falls back it prints like any other.
 */
export class RegistryUnreachableError extends RunDockerError {
  /** Recognisable without instanceof, across bundles. */
  readonly registryUnreachable = true as const;

  constructor(
    /** `host[:port]` that did not answer. */
    readonly host: string,
    /** Short cause such as `ECONNREFUSED` or `no answer within 10000 ms`. */
    readonly reason: string,
    /** What went wrong, for the message and the fallback warning. */
    readonly summary = `cannot reach the registry "${host}"`,
    hint = 'Check the network and the registry address, or run with --local to use only images on this host.',
  ) {
    super(`${summary} (${reason})`, hint);
  }
}

/**
 * HTTP 429 (https://distribution.github.io/distribution/spec/api/#errors, TOOMANYREQUESTS):
 * like an unreachable registry, the images on this host are the way on.
 */
export function registryRateLimited(host: string, retryAfter: string | null, now = Date.now()): RegistryUnreachableError {
  const seconds = parseRetryAfter(retryAfter, now);
  return new RegistryUnreachableError(
    host,
    `HTTP 429 Too Many Requests${seconds === undefined ? '' : `, retry after ${seconds} s`}`,
    `the registry "${host}" is rate limiting this host`,
    'Wait and try again, log in ("docker login") for a higher limit, or run with --local to use only images on this host.',
  );
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110, section 10.2.3). */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

export function isRegistryUnreachable(error: unknown): error is RegistryUnreachableError {
  return (
    error instanceof RegistryUnreachableError ||
    (typeof error === 'object' && error !== null && (error as { registryUnreachable?: unknown }).registryUnreachable === true)
  );
}
