import type { EngineClient, PullEvent, RegistryAuth } from '../contract/engine-client';
import { toReferenceRefusal } from './engine-error';
import { formatLoginCommand } from './format-login-command';
import { formatImageRef, formatRepository, parseImageRef, type ImageRef } from './image-ref';
import { readPositiveInteger } from './read-positive-integer';
import { isUserFacingError, RunDockerError } from './run-docker-error';

export type { PullEvent, RegistryAuth };

export interface PullOptions {
  auth?: RegistryAuth;
  /** Every event but errors, in order, e.g. for progress output. */
  onEvent?: (event: PullEvent) => void;
  /** Cancel the pull after this long without progress (default DEFAULT_PULL_STALL_MS; readPullStallMs reads it from env). */
  stallMs?: number;
}

/**
 * 20 s without progress cancels a pull. dockerd retries a failed download after 5, 10, 15
 * and 20 s, so a blip survives one or two retries; and dockerd reports bytes every 512 KiB,
 * so a link slower than ~25 KiB/s looks stalled: raise RUN_DOCKER_PULL_STALL_MS there.
 */
export const DEFAULT_PULL_STALL_MS = 20_000;

export function readPullStallMs(env: Readonly<Record<string, string | undefined>>): number {
  return readPositiveInteger(env, 'RUN_DOCKER_PULL_STALL_MS') ?? DEFAULT_PULL_STALL_MS;
}

/** Why a pull failed, for callers that may fall back: `stalled`, `rate-limited` and
 *  `unreachable` say the registry cannot be used now, not that the image is wrong. */
export type PullFailure = 'missing' | 'rate-limited' | 'denied' | 'unreachable' | 'stalled' | 'other';

export class PullError extends RunDockerError {
  constructor(
    message: string,
    hint: string,
    readonly failure: PullFailure,
  ) {
    super(message, hint);
  }
}

/** Whether the registry, not the image, made the pull fail: the images on this host are the way on. */
export function isRegistryUnusablePull(error: unknown): error is PullError {
  const failure = (error as { failure?: unknown } | null)?.failure;
  return isUserFacingError(error) && (failure === 'stalled' || failure === 'rate-limited' || failure === 'unreachable');
}

/**
 * Pulls exactly `ref` (a tag or a digest) and resolves only when the engine has finished.
 * Engine API: POST /images/create streams JSON events with HTTP 200 even when the pull
 * fails, so every event is checked for `error`/`errorDetail`
 * (https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Image/operation/ImageCreate).
 * No progress for `stallMs` (counted from the request, as dockerd sends nothing while it
 * waits for a hung registry's manifest) cancels it: the HTTP request is destroyed, and
 * dockerd cancels a pull whose client has gone.
 */
export async function pullImage(
  engine: EngineClient,
  ref: ImageRef,
  { auth, onEvent = () => {}, stallMs = DEFAULT_PULL_STALL_MS }: PullOptions = {},
): Promise<void> {
  const reference = formatImageRef(ref);
  const abort = new AbortController();
  const isProgress = createPullProgressTracker();
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (error?: RunDockerError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    const watch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        settle(pullStalled(reference, stallMs));
        abort.abort();
      }, stallMs);
    };
    watch();
    engine
      .pullImage(formatRepository(ref), ref.digest ?? ref.tag ?? 'latest', {
        auth,
        signal: abort.signal,
        onEvent: (event: PullEvent) => {
          if (settled) return;
          const failure = event.errorDetail?.message ?? event.error;
          if (failure) {
            settle(toPullError(reference, failure));
            return;
          }
          if (isProgress(event)) watch();
          onEvent(event);
        },
      })
      .then(
        () => settle(),
        // The engine client words a refusal as docker-modem did: "(HTTP code 404) unexpected - <words> ".
        (error: Error) =>
          settle(
            toReferenceRefusal(error, reference) ??
              toPullError(reference, error.message.replace(/^\(HTTP code \d+\) [^-]*- /, '')),
          ),
      );
  });
}

/**
 * A tracker that says whether each event of one pull shows it moving: more bytes of a layer
 * than seen before, or a step not seen before ("Pull complete", "Digest: …"). dockerd's
 * "Retrying in N seconds" countdown while it backs off is not progress, nor is a layer
 * downloading again bytes it already had.
 */
export function createPullProgressTracker(): (event: PullEvent) => boolean {
  const seen = new Map<string, number>();
  return (event) => {
    const status = event.status ?? '';
    if (/^Retrying in \d+ seconds?/i.test(status)) return false;
    const key = `${event.id ?? ''}\u0000${status}`;
    const current = event.progressDetail?.current ?? -1;
    const before = seen.get(key);
    if (before !== undefined && current <= before) return false;
    seen.set(key, current);
    return true;
  };
}

function pullStalled(reference: string, stallMs: number): PullError {
  return new PullError(
    `the pull of "${reference}" made no progress for ${stallMs / 1000} s and was cancelled`,
    'Check the registry and the network and try again (a slow link may need a higher RUN_DOCKER_PULL_STALL_MS), or run with --local to use only images on this host.',
    'stalled',
  );
}

/** The registry of a reference the engine was asked to pull, for a login hint; undefined if it does not parse. */
function registryOf(reference: string): string | undefined {
  try {
    return parseImageRef(reference).registry;
  } catch {
    return undefined;
  }
}

/** One line saying why a pull failed, with the next step for the usual causes. */
export function toPullError(reference: string, detail: string): PullError {
  const oneLine = detail.replace(/\s+/g, ' ').trim();
  // Go's words for a plain-HTTP registry asked over https: Podman asks every registry its
  // registries.conf does not list as insecure that way, loopback included (dockerd never
  // 127.0.0.0/8). The registry cannot be used as things are: local images are the way on.
  if (/server gave HTTP response to HTTPS client/i.test(oneLine)) {
    const registry = /^([^/]+)\//.exec(reference)?.[1] ?? 'REGISTRY';
    return new PullError(
      `the engine cannot pull "${reference}": its registry answers plain HTTP, and the engine treats it as secure (${oneLine})`,
      `For Podman, list it as insecure in /etc/containers/registries.conf (or ~/.config/containers/registries.conf): [[registry]] location = "${registry}" insecure = true; for Docker, add it to "insecure-registries" in /etc/docker/daemon.json. Or run with --local to use only images on this host.`,
      'unreachable',
    );
  }
  if (/manifest unknown|not found|does not exist|repository name not known/i.test(oneLine)) {
    return new PullError(
      `the image "${reference}" is not in its registry (${oneLine})`,
      'Check the name and the tag, or publish it first.',
      'missing',
    );
  }
  // Before "denied": Docker Hub's limit message also says "toomanyrequests: ... denied".
  if (/toomanyrequests|too many requests|rate limit/i.test(oneLine)) {
    return new PullError(
      `the registry is rate limiting this host and refused to pull "${reference}" (${oneLine})`,
      `Wait and try again, log in with ${formatLoginCommand(registryOf(reference))} for a higher limit, or run with --local to use the images on this host.`,
      'rate-limited',
    );
  }
  if (/unauthorized|authentication required|denied/i.test(oneLine)) {
    return new PullError(
      `the registry refused to let this host pull "${reference}" (${oneLine})`,
      `Log in with ${formatLoginCommand(registryOf(reference))} or check your access to the repository.`,
      'denied',
    );
  }
  if (/connection refused|no such host|i\/o timeout|dial tcp|network is unreachable|TLS handshake/i.test(oneLine)) {
    return new PullError(
      `cannot reach the registry to pull "${reference}" (${oneLine})`,
      'Check that the registry is up and reachable from the Docker engine, or run with --local to use only images on this host.',
      'unreachable',
    );
  }
  return new PullError(
    `could not pull "${reference}": ${oneLine}`,
    'Check the registry and the image name, then try again.',
    'other',
  );
}
