/**
 * Files of a small image without creating any container: the image's export
 * (Engine API `GET /images/{name}/get`, as `docker save`) holds a manifest.json naming its
 * layer tarballs in order; the files come out of those layers, later layers winning.
 * https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Image/operation/ImageGet
 * Whiteouts are not applied: payload images only ever add files.
 */
import { Readable } from 'node:stream';
import type { EngineClient } from '../contract/engine-client';
import { readTarFiles } from '../common/copy-from-image';

/** Above this an image is copied from a created container instead: an export is read whole. */
export const EXPORT_LIMIT_BYTES = 64 * 1024 * 1024;

/** Regular files under `folder` (no leading slash), by their path below it. */
export async function exportImageFiles(
  engine: EngineClient,
  imageId: string,
  folder: string,
): Promise<Map<string, Buffer>> {
  const archive = await readTarFiles(await engine.exportImage(imageId));
  const manifestBytes = archive.get('manifest.json');
  const layers = manifestBytes
    ? (JSON.parse(manifestBytes.toString('utf8')) as Array<{ Layers?: unknown }> | null)?.[0]?.Layers
    : undefined;
  if (!Array.isArray(layers)) throw new Error(`the export of image "${imageId}" has no manifest.json with layers`);
  const prefix = `${folder.replace(/^\/+|\/+$/g, '')}/`;
  const files = new Map<string, Buffer>();
  for (const layerPath of layers) {
    const layer = archive.get(String(layerPath));
    if (!layer) throw new Error(`the export of image "${imageId}" lacks its layer "${layerPath}"`);
    // Saved layers are plain tar; some image stores keep them gzip-compressed.
    // node:zlib loads here only: a warm run never extracts.
    const tarBytes =
      layer[0] === 0x1f && layer[1] === 0x8b
        ? // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: a warm run never extracts
          (require('node:zlib') as typeof import('node:zlib')).gunzipSync(layer)
        : layer;
    for (const [name, bytes] of await readTarFiles(Readable.from([tarBytes]))) {
      const path = name.replace(/^\.\//, '');
      if (path.startsWith(prefix)) files.set(path.slice(prefix.length), bytes);
    }
  }
  return files;
}
