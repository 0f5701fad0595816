/**
 * A verified payload for an image: from the cache when its files still match the
 * image's label, otherwise extracted afresh, verified, and installed in the cache.
 */
import { basename, join } from 'node:path';
import type Dockerode from 'dockerode';
import { LABEL, MANIFEST_FILE, PAYLOAD_DIR, type Logger, type PayloadKind, type PayloadManifest } from '../contract/contract';
import type { LocalImage } from '../common/inspect-image';
import { copyFromImage } from '../common/copy-from-image';
import { EXPORT_LIMIT_BYTES, exportImageFiles } from './export-image-files';
import { payloadCacheDir, readCachedFile, writeCachedPayload } from './payload-cache';
import { checkEntry, checkShimCompatible, parseManifest, PayloadRejected } from './verify-payload';

export interface VerifiedPayload {
  manifest: PayloadManifest;
  /** Where the entry lives in the cache (its name in stack traces; not re-read). */
  entryPath: string;
  /** The entry's bytes exactly as verified. */
  entrySource: string;
}

export interface PayloadSource {
  docker: Dockerode;
  cacheRoot: string;
  shimVersion: string;
  log: Logger;
}

export async function obtainPayload(source: PayloadSource, image: LocalImage, kind: PayloadKind): Promise<VerifiedPayload> {
  const expectedManifestSha = image.labels[LABEL.manifestSha256];
  if (!expectedManifestSha) throw new PayloadRejected(`it has no "${LABEL.manifestSha256}" label: not a run-docker image`, 'corrupt');
  const dir = payloadCacheDir(source.cacheRoot, image.id);

  const cached = await readVerifiedFromCache(dir, expectedManifestSha, kind, source.log);
  if (cached) {
    checkShimCompatible(cached.manifest, source.shimVersion);
    return cached;
  }

  // A small image is read from its export, with no container; a large one, or an export we
  // cannot read, through a created (never started) container.
  const files =
    image.size <= EXPORT_LIMIT_BYTES
      ? await exportImageFiles(source.docker, image.id, PAYLOAD_DIR).catch((error: Error) => {
          source.log.debug(`reading the export of "${image.id}" failed (${error.message}); copying from a container`);
          return extractPayloadFiles(source.docker, image.id);
        })
      : await extractPayloadFiles(source.docker, image.id);
  const manifestBytes = files.get(MANIFEST_FILE);
  if (!manifestBytes) throw new PayloadRejected(`it has no ${MANIFEST_FILE}`, 'corrupt');
  const manifest = parseManifest(manifestBytes, expectedManifestSha, kind);
  const entryBytes = files.get(manifest.entry);
  checkEntry(manifest, entryBytes);
  try {
    await writeCachedPayload(
      source.cacheRoot,
      dir,
      new Map([
        [MANIFEST_FILE, manifestBytes],
        [manifest.entry, entryBytes!],
      ]),
    );
  } catch (error) {
    // The payload is verified in memory; a cache we cannot write only costs speed.
    source.log.warn(
      `cannot write the payload cache in "${source.cacheRoot}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); continuing without it`,
    );
  }
  // Cached before the compatibility check, so an incompatible newest mini costs one extraction, not one per call.
  checkShimCompatible(manifest, source.shimVersion);
  return { manifest, entryPath: join(dir, manifest.entry), entrySource: entryBytes!.toString('utf8') };
}

/** The payload folder's files by name (`run-docker/run.js` → `run.js`), through a created container. */
async function extractPayloadFiles(docker: Dockerode, imageId: string): Promise<Map<string, Buffer>> {
  const archived = await copyFromImage(docker, imageId, PAYLOAD_DIR);
  const top = `${basename(PAYLOAD_DIR)}/`;
  return new Map([...archived].filter(([name]) => name.startsWith(top)).map(([name, bytes]) => [name.slice(top.length), bytes]));
}

async function readVerifiedFromCache(
  dir: string,
  expectedManifestSha: string,
  kind: PayloadKind,
  log: Logger,
): Promise<VerifiedPayload | undefined> {
  const manifestBytes = await readCachedFile(dir, MANIFEST_FILE).catch(() => undefined);
  if (!manifestBytes) return undefined;
  try {
    const manifest = parseManifest(manifestBytes, expectedManifestSha, kind);
    const entryBytes = await readCachedFile(dir, manifest.entry).catch(() => undefined);
    checkEntry(manifest, entryBytes);
    return { manifest, entryPath: join(dir, manifest.entry), entrySource: entryBytes!.toString('utf8') };
  } catch (error) {
    if (!(error instanceof PayloadRejected)) throw error;
    log.warn(`the cached payload in "${dir}" was rejected (${error.message}); extracting it again from its image`);
    return undefined;
  }
}
