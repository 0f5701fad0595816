import type { EngineClient, ImageDetails } from '../contract/engine-client';
import { toReferenceRefusal } from './engine-error';
import { formatImageRef, formatRepository, parseImageRef, type ImageRef } from './image-ref';

/** An image on this host, as run-docker reads it. */
export type LocalImage = ImageDetails;

/** The reference the engine looks an image up by: a digest wins over a tag. */
export function formatLookupReference(ref: ImageRef): string {
  const repository = formatRepository(ref);
  if (ref.digest) return `${repository}@${ref.digest}`;
  return `${repository}:${ref.tag ?? 'latest'}`;
}

/** GET /images/{name}/json; undefined when the engine has no such image (404). A reference
 *  the engine cannot read (HTTP 400) is one line naming it (engine-error.ts). */
export async function inspectImage(engine: EngineClient, ref: ImageRef): Promise<LocalImage | undefined> {
  try {
    return await engine.inspectImage(formatLookupReference(ref));
  } catch (error) {
    throw toReferenceRefusal(error, formatImageRef(ref)) ?? error;
  }
}

/**
 * Pure: whether the engine's own record of `image` (RepoDigests) shows it under `ref`'s
 * repository and digest. Names are compared as parsed, so an engine that writes them fully
 * qualified (Podman: `docker.io/library/x@…`) reads the same as the familiar `x@…`. An image
 * that only carries the name, or an engine that keeps no record, does not show it.
 */
export function hasRepoDigest(image: Pick<LocalImage, 'repoDigests'>, ref: ImageRef): boolean {
  return (image.repoDigests ?? []).some((entry) => {
    try {
      const recorded = parseImageRef(entry, 'RepoDigests entry');
      return recorded.registry === ref.registry && recorded.path === ref.path && recorded.digest === ref.digest;
    } catch {
      return false;
    }
  });
}
