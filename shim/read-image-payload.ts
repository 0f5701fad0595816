/**
 * A payload's files read from its image, manifest first: the manifest must match the
 * image's label (label → manifest digest), and only the files it names are taken, each
 * within a bound (docs/contract.md, "Limits"; docs/trust.md, "endless data"). Nothing in
 * the image is verified before that, so nothing is read without a bound.
 *
 * A small image is read from its export (export-image-files.ts), which holds every layer:
 * the payload folder's plain files are kept (bounded) until the manifest is checked. When the
 * export cannot answer within its bounds (or is in a shape it does not know), or the image
 * is large, a created (never started) container is asked for the manifest alone, then for
 * each file it names: nothing else in the image is read at all.
 */
import { LABEL, MANIFEST_FILE, PAYLOAD_DIR, type PayloadKind, type PayloadManifest } from '../contract/contract';
import type { EngineClient, Logger } from '../contract/contract';
import { withExtractionContainer, type CopyFiles } from '../common/copy-from-image';
import type { LocalImage } from '../common/inspect-image';
import { ArchiveTooLarge, formatBytes } from '../common/read-tar-files';
import {
  EXPORT_BOUNDS,
  EXPORT_LIMIT_BYTES,
  exportPayloadFiles,
  OVERSIZED,
  type PayloadFolder,
} from './export-image-files';
import { parseManifest, PayloadRejected } from './verify-payload';

/** The limits a payload must keep to (docs/contract.md): a published payload file is ~100 kB. */
export const MANIFEST_LIMIT_BYTES = EXPORT_BOUNDS.maxManifestBytes;
export const PAYLOAD_FILE_LIMIT_BYTES = EXPORT_BOUNDS.maxFileBytes;
/** Room in a container's archive of one file for its headers (a pax header with a long name). */
const ARCHIVE_OVERHEAD_BYTES = 64 * 1024;

export interface ImagePayload {
  /** manifest.json as stored, and parsed: it matched the image's label. */
  manifestBytes: Buffer;
  manifest: PayloadManifest;
  /** The files the manifest names (entry, build entry) that are there, each within PAYLOAD_FILE_LIMIT_BYTES. */
  files: Map<string, Buffer>;
  /** A build entry past that bound, not read: it fails build-docker only, never a run (docs/contract.md). */
  oversized: Set<string>;
}

/**
 * The manifest of `image`'s payload, checked against its label, and the files it names.
 * PayloadRejected for anything the image's bytes decide (no manifest, one that does not
 * match or parse, a named file larger than its bound); the caller checks the entries' sha256.
 */
export async function readImagePayload(
  source: { engine: EngineClient; log: Logger },
  image: LocalImage,
  kind: PayloadKind,
): Promise<ImagePayload> {
  if (image.size <= EXPORT_LIMIT_BYTES) {
    try {
      const folder = await exportPayloadFiles(source.engine, image.id, PAYLOAD_DIR);
      return selectNamedFiles(folder, image, kind);
    } catch (error) {
      if (error instanceof PayloadRejected) throw error;
      // The export is a quicker way, not the only one: a container is asked instead.
      source.log.debug(
        `reading the export of "${image.id}" failed (${(error as Error).message}); copying from a container`,
      );
    }
  }
  return withExtractionContainer(source.engine, image.id, (copy) => copyNamedFiles(copy, image, kind));
}

/** Pure but for hashing: the manifest of the folder checked against the label, and the files it names. */
function selectNamedFiles(folder: PayloadFolder, image: LocalImage, kind: PayloadKind): ImagePayload {
  const manifestBytes = folder.get(MANIFEST_FILE);
  if (manifestBytes === undefined) throw new PayloadRejected(`it has no ${MANIFEST_FILE}`, 'corrupt');
  if (manifestBytes === OVERSIZED) throw tooLarge(MANIFEST_FILE, MANIFEST_LIMIT_BYTES);
  const manifest = parseManifest(manifestBytes, image.labels[LABEL.manifestSha256] ?? '', kind);
  const payload: ImagePayload = { manifestBytes, manifest, files: new Map(), oversized: new Set() };
  for (const name of namedFiles(manifest)) {
    const bytes = folder.get(name);
    if (bytes === OVERSIZED) addOversized(payload, name);
    else if (bytes !== undefined) payload.files.set(name, bytes);
  }
  return payload;
}

/** Through a container: the manifest alone, checked; then each file it names, alone. */
async function copyNamedFiles(copy: CopyFiles, image: LocalImage, kind: PayloadKind): Promise<ImagePayload> {
  const manifestBytes = await copyOne(copy, MANIFEST_FILE, MANIFEST_LIMIT_BYTES);
  if (manifestBytes === undefined) throw new PayloadRejected(`it has no ${MANIFEST_FILE}`, 'corrupt');
  if (manifestBytes === OVERSIZED) throw tooLarge(MANIFEST_FILE, MANIFEST_LIMIT_BYTES);
  const manifest = parseManifest(manifestBytes, image.labels[LABEL.manifestSha256] ?? '', kind);
  const payload: ImagePayload = { manifestBytes, manifest, files: new Map(), oversized: new Set() };
  for (const name of namedFiles(manifest)) {
    const bytes = await copyOne(copy, name, PAYLOAD_FILE_LIMIT_BYTES);
    if (bytes === OVERSIZED) addOversized(payload, name);
    else if (bytes !== undefined) payload.files.set(name, bytes);
  }
  return payload;
}

/** A named file past its bound: the run entry's refuses the image; the build entry's only build-docker. */
function addOversized(payload: ImagePayload, name: string): void {
  if (name === payload.manifest.entry) throw tooLarge(`entry "${name}"`, PAYLOAD_FILE_LIMIT_BYTES);
  payload.oversized.add(name);
}

/**
 * The regular file `name` of the payload folder: undefined when it is not there (or not a
 * file), OVERSIZED when it, or what stands under its name (a folder full of things), is
 * past `limitBytes`.
 */
async function copyOne(
  copy: CopyFiles,
  name: string,
  limitBytes: number,
): Promise<Buffer | typeof OVERSIZED | undefined> {
  try {
    const { files, oversized } = await copy(`${PAYLOAD_DIR}/${name}`, {
      maxFileBytes: limitBytes,
      maxArchiveBytes: limitBytes + ARCHIVE_OVERHEAD_BYTES,
    });
    return oversized.has(name) ? OVERSIZED : files.get(name);
  } catch (error) {
    if (isMissingPath(error)) return undefined;
    if (error instanceof ArchiveTooLarge) return OVERSIZED;
    throw error;
  }
}

/**
 * Whether the engine said the path is not in the container (`Could not find the file …`),
 * not that the container is gone (`No such container: …`, someone removed it meanwhile): only
 * the first is a fact about the image, which may be remembered (refused-images.ts).
 */
function isMissingPath(error: unknown): boolean {
  const { statusCode, message, json } = error as {
    statusCode?: number;
    message?: string;
    json?: { message?: string };
  };
  return statusCode === 404 && !/no such container/i.test(`${message ?? ''} ${json?.message ?? ''}`);
}

/** The files a manifest names besides itself: the entry, and the build entry if any. */
function namedFiles(manifest: PayloadManifest): string[] {
  return manifest.build === undefined ? [manifest.entry] : [manifest.entry, manifest.build.entry];
}

/** `what` completes "its …": `manifest.json`, `entry "run.js"`. */
function tooLarge(what: string, limitBytes: number): PayloadRejected {
  return new PayloadRejected(`its ${what} is larger than ${formatBytes(limitBytes)}`, 'corrupt');
}
