import type Dockerode from 'dockerode';
import { formatImageRef, formatRepository, type ImageRef } from './image-ref';
import { RunDockerError } from './run-docker-error';

/** One JSON event of the engine's pull stream. */
export interface PullEvent {
  status?: string;
  /** Layer ID (short), or the tag/digest for summary lines. */
  id?: string;
  progress?: string;
  /** Bytes so far and in all; `total` is absent or 0 when unknown (the containerd store's "Extracting"). */
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/** Credentials for one registry, as the Engine API's X-Registry-Auth header carries them
 *  (https://docs.docker.com/reference/api/engine/version/v1.41/#section/Authentication). */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** An identity token from `docker login` (OAuth2 refresh token) replaces username and password. */
  identitytoken?: string;
  serveraddress: string;
}

export interface PullOptions {
  auth?: RegistryAuth;
  /** Every event but errors, in order, e.g. for progress output. */
  onEvent?: (event: PullEvent) => void;
}

/**
 * Pulls exactly `ref` (a tag or a digest) and resolves only when the engine has finished.
 * Engine API: POST /images/create streams JSON events with HTTP 200 even when the pull
 * fails, so every event is checked for `error`/`errorDetail`
 * (https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Image/operation/ImageCreate).
 */
export async function pullImage(
  docker: Dockerode,
  ref: ImageRef,
  { auth, onEvent = () => {} }: PullOptions = {},
): Promise<void> {
  const reference = formatImageRef(ref);
  const query = { fromImage: formatRepository(ref), tag: ref.digest ?? ref.tag ?? 'latest' };
  let stream: NodeJS.ReadableStream;
  try {
    stream = await (auth ? docker.createImage(auth, query) : docker.createImage(query));
  } catch (error) {
    // docker-modem wraps the engine's words as "(HTTP code 404) unexpected - <words> ".
    throw toPullError(reference, (error as Error).message.replace(/^\(HTTP code \d+\) [^-]*- /, ''));
  }
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null) => (error ? reject(toPullError(reference, error.message)) : resolve()),
      (event: PullEvent) => {
        const failure = event.errorDetail?.message ?? event.error;
        if (failure) {
          reject(toPullError(reference, failure));
          return;
        }
        onEvent(event);
      },
    );
  });
}

/** One line saying why a pull failed, with the next step for the usual causes. */
export function toPullError(reference: string, detail: string): RunDockerError {
  const oneLine = detail.replace(/\s+/g, ' ').trim();
  if (/manifest unknown|not found|does not exist|repository name not known/i.test(oneLine)) {
    return new RunDockerError(
      `the image "${reference}" is not in its registry (${oneLine})`,
      'Check the name and the tag, or publish it first.',
    );
  }
  // Before "denied": Docker Hub's limit message also says "toomanyrequests: ... denied".
  if (/toomanyrequests|too many requests|rate limit/i.test(oneLine)) {
    return new RunDockerError(
      `the registry is rate limiting this host and refused to pull "${reference}" (${oneLine})`,
      'Wait and try again, log in with "docker login <registry>" for a higher limit, or run with --local to use the images on this host.',
    );
  }
  if (/unauthorized|authentication required|denied/i.test(oneLine)) {
    return new RunDockerError(
      `the registry refused to let this host pull "${reference}" (${oneLine})`,
      'Log in with "docker login <registry>" or check your access to the repository.',
    );
  }
  if (/connection refused|no such host|i\/o timeout|dial tcp|network is unreachable|TLS handshake/i.test(oneLine)) {
    return new RunDockerError(
      `cannot reach the registry to pull "${reference}" (${oneLine})`,
      'Check that the registry is up and reachable from the Docker engine, or run with --local to use only images on this host.',
    );
  }
  return new RunDockerError(`could not pull "${reference}": ${oneLine}`, 'Check the registry and the image name, then try again.');
}
