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
  ) {
    super(
      `cannot reach the registry at "${host}" (${reason})`,
      'Check the network and the registry address, or run with --local to use only images on this host.',
    );
  }
}

export function isRegistryUnreachable(error: unknown): error is RegistryUnreachableError {
  return (
    error instanceof RegistryUnreachableError ||
    (typeof error === 'object' && error !== null && (error as { registryUnreachable?: unknown }).registryUnreachable === true)
  );
}
