import type { EngineClient, ImageDetails } from '../contract/engine-client';
import { formatRepository, type ImageRef } from './image-ref';

/** An image on this host, as run-docker reads it. */
export type LocalImage = ImageDetails;

/** The reference the engine looks an image up by: a digest wins over a tag. */
export function formatLookupReference(ref: ImageRef): string {
  const repository = formatRepository(ref);
  if (ref.digest) return `${repository}@${ref.digest}`;
  return `${repository}:${ref.tag ?? 'latest'}`;
}

/** GET /images/{name}/json; undefined when the engine has no such image (404). */
export function inspectImage(engine: EngineClient, ref: ImageRef): Promise<LocalImage | undefined> {
  return engine.inspectImage(formatLookupReference(ref));
}
