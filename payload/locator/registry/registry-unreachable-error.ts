import { loadHttp } from '../../../common/lazy-builtins';
import { formatLoginCommand } from '../../../common/format-login-command';
import { RunDockerError } from '../../../common/run-docker-error';

/**
 * The registry (or its token service) could not be reached at all: connection refused,
 * unknown host, reset, TLS failure or no answer in time; or it answered, but in a way that
 * says it cannot be used now: rate limiting (429), a server failure (5xx, a proxy's
 * maintenance page), an answer it cannot read (an HTML page with 200), tags paged past the
 * limit. Callers fall back to local images on this error only; every other registry error
 * (authentication, 403, 404) is real.
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
export function registryRateLimited(
  host: string,
  retryAfter: string | null,
  now = Date.now(),
): RegistryUnreachableError {
  const seconds = parseRetryAfter(retryAfter, now);
  return new RegistryUnreachableError(
    host,
    `HTTP 429 Too Many Requests${seconds === undefined ? '' : `, retry after ${seconds} s`}`,
    `the registry "${host}" is rate limiting this host`,
    `Wait and try again, log in with ${formatLoginCommand(host)} for a higher limit, or run with --local to use only images on this host.`,
  );
}

/**
 * HTTP 5xx, from the registry or a reverse proxy in front of it (502/503/504 maintenance
 * pages are HTML: only the status is read). A fleet must not stop because its registry is
 * down for an hour: like an unreachable registry, the images on this host are the way on.
 * 401/403/404 stay errors: they say something about this host or this name.
 */
export function registryFailing(host: string, status: number): RegistryUnreachableError {
  const text = loadHttp().STATUS_CODES[status];
  return new RegistryUnreachableError(
    host,
    `HTTP ${status}${text ? ` ${text}` : ''}`,
    `the registry "${host}" is failing`,
    'Try again later, or run with --local to use only images on this host.',
  );
}

/**
 * An answer run-docker cannot read where the API promises JSON or a header it can parse: an
 * HTML page sent with 200 (a captive portal, a proxy's error page, the wrong service at that
 * address), a truncated body. Like a 5xx, it says the registry cannot be used now, not that
 * this host or this name is wrong: the images on this host are the way on.
 */
export function registryAnswerUnreadable(host: string, what: string, reason: string): RegistryUnreachableError {
  return new RegistryUnreachableError(
    host,
    reason,
    what,
    'Check the registry address (a proxy or portal may be answering in its place), or run with --local to use only images on this host.',
  );
}

export function isServerFailure(status: number): boolean {
  return status >= 500 && status <= 599;
}

/**
 * More pages of tags than the walk reads (a registry paging a tag at a time). The tags read
 * so far are dropped, not used: registries page in lexical order, where date-time tags put
 * the newest last, so a partial list would pick an old tag as "newest" and pull it.
 */
export function registryPagedTooFar(host: string, repositoryName: string, maxPages: number): RegistryUnreachableError {
  return new RegistryUnreachableError(
    host,
    `more than ${maxPages} pages`,
    `the registry "${host}" pages the tags of "${repositoryName}" past the limit`,
    'Set RUN_DOCKER_REGISTRY_PAGE_SIZE to a larger page size (the registry may ignore it), or run with --local to use only images on this host.',
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
    (typeof error === 'object' &&
      error !== null &&
      (error as { registryUnreachable?: unknown }).registryUnreachable === true)
  );
}
