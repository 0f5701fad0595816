import type Dockerode from 'dockerode';
import { formatRepository, type ImageRef } from './image-ref';

export interface LocalImage {
  /** `sha256:…` */
  id: string;
  labels: Record<string, string>;
  /** Bytes, as the engine reports them. */
  size: number;
}

/** The reference the engine looks an image up by: a digest wins over a tag. */
export function formatLookupReference(ref: ImageRef): string {
  const repository = formatRepository(ref);
  if (ref.digest) return `${repository}@${ref.digest}`;
  return `${repository}:${ref.tag ?? 'latest'}`;
}

/** GET /images/{name}/json; undefined when the engine has no such image (404). */
export async function inspectImage(docker: Dockerode, ref: ImageRef): Promise<LocalImage | undefined> {
  try {
    const info = await docker.getImage(formatLookupReference(ref)).inspect();
    return { id: info.Id, labels: info.Config?.Labels ?? {}, size: info.Size ?? 0 };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}
