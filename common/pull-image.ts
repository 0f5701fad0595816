import type Dockerode from 'dockerode';
import { formatImageRef, formatRepository, type ImageRef } from './image-ref';
import { RunDockerError } from './run-docker-error';

interface PullEvent {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
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
  onEvent: (event: PullEvent) => void = () => {},
): Promise<void> {
  const reference = formatImageRef(ref);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.createImage({
      fromImage: formatRepository(ref),
      tag: ref.digest ?? ref.tag ?? 'latest',
    });
  } catch (error) {
    throw toPullError(reference, (error as Error).message);
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

function toPullError(reference: string, detail: string): RunDockerError {
  const oneLine = detail.replace(/\s+/g, ' ').trim();
  return new RunDockerError(
    `could not pull "${reference}": ${oneLine}`,
    'Check that the registry is reachable and that the image exists there, or run with --local to use only images on this host.',
  );
}
