/**
 * The files of a small image's payload folder without creating any container: the image's
 * export (Engine API `GET /images/{name}/get`, as `docker save`) holds a manifest.json naming
 * its layer tarballs in order; the files come out of those layers, later layers winning
 * (whiteouts applied). https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Image/operation/ImageGet
 * Export formats: docker's own (`<id>/layer.tar`) and OCI's (`blobs/sha256/<hex>`, plain or
 * gzip layers: https://github.com/opencontainers/image-spec/blob/main/image-layout.md).
 *
 * Nothing here is verified yet, so everything is bounded (docs/trust.md, "endless data"):
 * the export read, what its layers inflate to, each file kept and all of them together.
 * An export past a bound, or one in a shape this reader does not know, is not a verdict on
 * the image: ExportUnreadable, and the caller reads the payload through a container instead,
 * manifest first (read-image-payload.ts). Layers come in the export's order, not their own
 * (docker sorts its folders by name), so what each holds in the payload folder is kept until
 * the export's manifest.json says their order.
 */
import { Readable } from 'node:stream';
import type { EngineClient } from '../contract/engine-client';
import { ArchiveTooLarge, formatBytes, readBody, walkTar, type TarEntry } from '../common/read-tar-files';

/** Above this (the engine's size of the image) a payload is copied from a created container
 *  instead: a published tiny or mini is ~1 MB, and an export holds the whole image. */
export const EXPORT_LIMIT_BYTES = 16 * 1024 * 1024;

/** Bounds of one export read; the defaults are EXPORT_BOUNDS. */
export interface ExportBounds {
  /**
   * Time from the request to the export's end. The engine writes a whole export to disk
   * before it sends a byte (dockerd 20.10's `docker save`): for a layer of 100,000 entries
   * that took 4 s here, whatever bound is put on the bytes. A published payload image's
   * export is done within ~50 ms.
   */
  deadlineMs: number;
  /** Bytes of the export read at most: the image's layers, plus tar headers and configs. */
  maxExportBytes: number;
  /** Bytes that compressed layers may inflate to, all of them together. */
  maxInflatedBytes: number;
  /** A file of the payload folder larger than this is not kept (marked OVERSIZED). */
  maxFileBytes: number;
  /** manifest.json larger than this is not kept (marked OVERSIZED). */
  maxManifestBytes: number;
  /** Files of the payload folder kept at most, over all layers, and their bytes. */
  maxKeptFiles: number;
  maxKeptBytes: number;
}

export const EXPORT_BOUNDS: ExportBounds = {
  deadlineMs: 250,
  maxExportBytes: 2 * EXPORT_LIMIT_BYTES,
  maxInflatedBytes: 2 * EXPORT_LIMIT_BYTES,
  maxFileBytes: 8 * 1024 * 1024,
  maxManifestBytes: 64 * 1024,
  maxKeptFiles: 64,
  maxKeptBytes: 16 * 1024 * 1024,
};

/** In place of a file's bytes: it was there, larger than its bound, and not read. */
export const OVERSIZED = 'oversized' as const;

/** The payload folder's files by plain name, as the image's file system shows them. */
export type PayloadFolder = Map<string, Buffer | typeof OVERSIZED>;

/** The export cannot answer (a bound, a shape this reader does not know): read the image another way. */
export class ExportUnreadable extends Error {
  override readonly name = 'ExportUnreadable' as const;
}

/** A plain file name, as a manifest names its entries (verify-payload.ts), and at most a file system's 255 bytes. */
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** What one layer does to the payload folder. */
interface LayerChanges {
  /** The folder itself removed or made opaque: earlier layers' files are gone. */
  cleared: boolean;
  removed: Set<string>;
  files: PayloadFolder;
}

/**
 * The regular files directly in `folder` (no leading slash, e.g. `run-docker`) of image
 * `imageId`, as its layers leave them; only plain names. ExportUnreadable when the export
 * cannot tell, within `bounds`.
 */
export async function exportPayloadFiles(
  engine: EngineClient,
  imageId: string,
  folder: string,
  bounds: ExportBounds = EXPORT_BOUNDS,
): Promise<PayloadFolder> {
  const top = folder.replace(/^\/+|\/+$/g, '');
  const layers = new Map<string, LayerChanges>();
  let exportManifest: Buffer | undefined;
  const budget = { inflated: 0, keptFiles: 0, keptBytes: 0 };
  const deadline = startDeadline(engine.exportImage(imageId), bounds.deadlineMs);
  try {
    await walkTar(await deadline.stream, bounds.maxExportBytes, 'its export', async (entry) => {
      if (entry.type !== 'file') return;
      if (entry.name === 'manifest.json') {
        if (entry.size > 1024 * 1024) throw new ExportUnreadable('its manifest.json is larger than 1 MiB');
        exportManifest = await readBody(entry);
      } else if (entry.name.endsWith('/layer.tar') || entry.name.startsWith('blobs/')) {
        const changes = await readLayer(entry, top, bounds, budget);
        if (changes) layers.set(entry.name, changes);
      }
    });
  } catch (error) {
    if (error instanceof ArchiveTooLarge) throw new ExportUnreadable(error.message);
    throw error;
  } finally {
    deadline.stop();
  }
  return mergeLayers(layerOrder(exportManifest), layers);
}

/**
 * The export stream, or ExportUnreadable once `ms` have passed since the request: before its
 * answer (the stream is destroyed whenever it arrives) or while it is read (it is destroyed
 * with that error, where the walk reads it). `stop` when done.
 */
function startDeadline(
  exported: Promise<NodeJS.ReadableStream>,
  ms: number,
): { stream: Promise<NodeJS.ReadableStream>; stop: () => void } {
  const overdue = new ExportUnreadable(`its export took longer than ${ms} ms`);
  let expired = false;
  let arrived: NodeJS.ReadableStream | undefined;
  // The walk listens for the stream's error; a stream that arrives too late has no one else.
  const destroy = (stream: NodeJS.ReadableStream) =>
    (stream.on('error', () => undefined) as unknown as { destroy: (error?: Error) => void }).destroy(overdue);
  let fail: (error: Error) => void = () => undefined;
  const timer = setTimeout(() => {
    expired = true;
    if (arrived) destroy(arrived);
    else fail(overdue);
  }, ms);
  const stream = new Promise<NodeJS.ReadableStream>((resolve, reject) => {
    fail = reject;
    exported.then((answer) => {
      arrived = answer;
      if (expired) destroy(answer);
      else resolve(answer);
    }, reject);
  });
  return { stream, stop: () => clearTimeout(timer) };
}

/** The export's layers in order, from its manifest.json (`[{Config, RepoTags, Layers}]`). */
function layerOrder(manifest: Buffer | undefined): string[] {
  let parsed: unknown;
  try {
    parsed = manifest && JSON.parse(manifest.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const layers = (parsed as Array<{ Layers?: unknown }> | undefined)?.[0]?.Layers;
  if (!Array.isArray(layers) || !layers.every((layer) => typeof layer === 'string'))
    throw new ExportUnreadable('it has no manifest.json with layers');
  return layers;
}

/** Pure: the payload folder after applying each layer's changes in `order`. */
export function mergeLayers(order: readonly string[], layers: ReadonlyMap<string, LayerChanges>): PayloadFolder {
  const folder: PayloadFolder = new Map();
  for (const name of order) {
    const changes = layers.get(name);
    if (!changes) throw new ExportUnreadable(`its layer "${name}" is missing or in a format this shim cannot read`);
    if (changes.cleared) folder.clear();
    for (const removed of changes.removed) folder.delete(removed);
    for (const [file, bytes] of changes.files) folder.set(file, bytes);
  }
  return folder;
}

/**
 * One layer's changes to the payload folder, or undefined for an entry that is no layer (a
 * config or manifest blob). A layer is a tar, or a gzip of one, which inflates within what is
 * left of the export's budget; the first 512 bytes tell which (a tar header's checksum is
 * checked before the gzip magic: a plain tar whose first name starts with that magic stays a tar).
 */
async function readLayer(
  entry: TarEntry,
  top: string,
  bounds: ExportBounds,
  budget: { inflated: number; keptFiles: number; keptBytes: number },
): Promise<LayerChanges | undefined> {
  let head = Buffer.alloc(0);
  while (head.length < 512) {
    const chunk = await entry.read();
    if (chunk === undefined) break;
    head = Buffer.concat([head, chunk]);
  }
  const gzip = !isTarHeader(head) && head[0] === 0x1f && head[1] === 0x8b;
  if (!gzip && !isTarHeader(head)) return undefined;
  const raw = Readable.from(
    (async function* () {
      yield head;
      for (let chunk = await entry.read(); chunk !== undefined; chunk = await entry.read()) yield chunk;
    })(),
  );
  // node:zlib loads here only: a warm run never extracts.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: a warm run never extracts
  const tarStream = gzip ? raw.pipe((require('node:zlib') as typeof import('node:zlib')).createGunzip()) : raw;
  if (gzip) raw.on('error', (error) => tarStream.destroy(error));
  const changes: LayerChanges = { cleared: false, removed: new Set(), files: new Map() };
  const limit = gzip ? bounds.maxInflatedBytes - budget.inflated : Number.MAX_SAFE_INTEGER;
  const read = await walkTar(tarStream, limit, 'what its layers inflate to', async (file) => {
    const path = file.name.replace(/^(?:\.?\/)+/, '');
    if (path === `${WHITEOUT}${top}` || path === `${top}/${OPAQUE}`) {
      changes.cleared = true;
      changes.files.clear();
      return;
    }
    const name = path.startsWith(`${top}/`) ? path.slice(top.length + 1) : undefined;
    if (name === undefined) return;
    if (name.startsWith(WHITEOUT)) {
      changes.removed.add(name.slice(WHITEOUT.length));
      changes.files.delete(name.slice(WHITEOUT.length));
      return;
    }
    if (file.type !== 'file' || !PLAIN_NAME.test(name)) return;
    const limitBytes = name === 'manifest.json' ? bounds.maxManifestBytes : bounds.maxFileBytes;
    if (file.size > limitBytes) {
      changes.files.set(name, OVERSIZED);
      return;
    }
    budget.keptFiles += 1;
    budget.keptBytes += file.size;
    if (budget.keptFiles > bounds.maxKeptFiles || budget.keptBytes > bounds.maxKeptBytes)
      throw new ExportUnreadable(
        `its payload folder holds more than ${bounds.maxKeptFiles} files or ${formatBytes(bounds.maxKeptBytes)}`,
      );
    changes.files.set(name, await readBody(file));
  });
  if (gzip) budget.inflated += read;
  return changes;
}

/** Pure: whether `block` starts with a tar header (its checksum matches) or an end-of-archive block. */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512) return block.length > 0 && block.every((byte) => byte === 0);
  const header = block.subarray(0, 512);
  if (header.every((byte) => byte === 0)) return true;
  const stored = Number.parseInt(
    header
      .subarray(148, 156)
      .toString('latin1')
      .replace(/[\0 ]+$/, ''),
    8,
  );
  if (!Number.isInteger(stored)) return false;
  let sum = 0;
  for (let at = 0; at < 512; at++) sum += at >= 148 && at < 156 ? 0x20 : (header[at] ?? 0);
  return sum === stored;
}
