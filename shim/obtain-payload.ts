/**
 * A verified payload for an image: from the cache when its files still match the
 * image's label, otherwise extracted afresh, verified, and installed in the cache.
 */
import { basename, join } from 'node:path';
import {
  LABEL,
  MANIFEST_FILE,
  PAYLOAD_DIR,
  type EngineClient,
  type Logger,
  type PayloadKind,
  type PayloadManifest,
  type TrustedKey,
} from '../contract/contract';
import type { LocalImage } from '../common/inspect-image';
import { UnreadableFile, type FileStamp } from '../common/read-private-file';
import { payloadCacheDir, readCachedFileStamped, writeCachedPayload } from './payload-cache';
import { readImagePayload, type ImagePayload } from './read-image-payload';
import { isImageVerdict, readRefusal, rememberRefusal } from './refused-images';
import { isUnchanged, readVerifiedRecord, recordOf, verifiedRecordPath, writeVerifiedRecord } from './verified-record';
import {
  checkEntry,
  checkShimCompatible,
  parseManifest,
  PayloadRejected,
  readManifestFields,
  sha256Hex,
} from './verify-payload';

export interface VerifiedPayload {
  manifest: PayloadManifest;
  /** Where the entry lives in the cache (its name in stack traces; not re-read). */
  entryPath: string;
  /** The entry's bytes exactly as verified. */
  entrySource: string;
  /** The build entry (manifest `build`), when this call extracted it from the image and it
   *  matched; a payload read from the cache leaves it to obtainBuildEntry. */
  build?: VerifiedEntry;
  /** Read from the cache: its verification record (verified-record.ts), the stamps of the
   *  files as read, and the key the manifest's signature verified with, if known. */
  record?: { file: string; stamps: ReadonlyMap<string, FileStamp>; signedBy?: TrustedKey };
}

export interface VerifiedEntry {
  /** Where it lives in the cache (its name in stack traces; not re-read). */
  path: string;
  /** Its bytes exactly as verified. */
  source: string;
}

export interface PayloadSource {
  engine: EngineClient;
  /** Undefined when the cache may not be trusted (prepareCache): payloads are then verified in memory only. */
  cacheRoot: string | undefined;
  shimVersion: string;
  log: Logger;
}

export async function obtainPayload(
  source: PayloadSource,
  image: LocalImage,
  kind: PayloadKind,
): Promise<VerifiedPayload> {
  const expectedManifestSha = image.labels[LABEL.manifestSha256];
  if (!expectedManifestSha)
    throw new PayloadRejected(`it has no "${LABEL.manifestSha256}" label: not a run-docker image`, 'corrupt');
  const dir = source.cacheRoot === undefined ? undefined : payloadCacheDir(source.cacheRoot, image.id);

  const cached =
    dir === undefined || source.cacheRoot === undefined
      ? undefined
      : await readVerifiedFromCache(
          dir,
          verifiedRecordPath(source.cacheRoot, image.id),
          expectedManifestSha,
          kind,
          source.log,
        );
  if (cached) {
    checkShimCompatible(cached.manifest, source.shimVersion);
    return cached;
  }

  const { manifestBytes, manifest, files, entryBytes } = await readVerifiedImagePayload(source, image, kind);
  const toCache = new Map([
    [MANIFEST_FILE, manifestBytes],
    [manifest.entry, entryBytes],
  ]);
  // The build entry travels with the run entry when it matches; when it does not, only
  // build-docker fails on it (obtain-build-entry.ts), never a run.
  const { build } = manifest;
  const buildBytes = build === undefined ? undefined : files.get(build.entry);
  const buildMatches = build !== undefined && buildBytes !== undefined && sha256Hex(buildBytes) === build.sha256;
  if (buildMatches) toCache.set(build.entry, buildBytes);
  if (source.cacheRoot !== undefined && dir !== undefined)
    await writeOrWarn(source.cacheRoot, dir, toCache, source.log);
  // Cached before the compatibility check, so an incompatible newest mini costs one extraction, not one per call.
  checkShimCompatible(manifest, source.shimVersion);
  const home = dir ?? join(PAYLOAD_DIR, image.id.replace(/^sha256:/, ''));
  return {
    manifest,
    entryPath: join(home, manifest.entry),
    entrySource: entryBytes.toString('utf8'),
    ...(buildMatches ? { build: { path: join(home, build.entry), source: buildBytes.toString('utf8') } } : {}),
  };
}

/**
 * The payload read from the image (read-image-payload.ts: manifest first, bounded) with its
 * entry checked, unless this shim refused that image before for what its bytes hold
 * (refused-images.ts): then the remembered refusal, with nothing read. A new such refusal is
 * remembered, where the cache may be trusted.
 */
async function readVerifiedImagePayload(
  source: PayloadSource,
  image: LocalImage,
  kind: PayloadKind,
): Promise<ImagePayload & { entryBytes: Buffer }> {
  const { cacheRoot } = source;
  const before =
    cacheRoot === undefined ? undefined : await readRefusal(cacheRoot, image.id, kind, source.shimVersion, source.log);
  if (before) throw before;
  try {
    const payload = await readImagePayload(source, image, kind);
    const entryBytes = payload.files.get(payload.manifest.entry);
    checkEntry(payload.manifest, entryBytes);
    return { ...payload, entryBytes };
  } catch (error) {
    if (cacheRoot !== undefined && error instanceof PayloadRejected && isImageVerdict(error))
      await rememberRefusal(
        cacheRoot,
        image.id,
        { kind, shim: source.shimVersion, reason: error.reason, message: error.message },
        source.log,
      );
    throw error;
  }
}

export async function writeOrWarn(
  cacheRoot: string,
  dir: string,
  files: ReadonlyMap<string, Uint8Array>,
  log: Logger,
): Promise<void> {
  try {
    await writeCachedPayload(cacheRoot, dir, files);
  } catch (error) {
    // The payload is verified in memory; a cache we cannot write only costs speed.
    log.warn(
      `cannot write the payload cache in "${cacheRoot}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); continuing without it`,
    );
  }
}

/**
 * The cached payload, checked: each file is hashed unless the verification record says it
 * matched before and has not been written since (verified-record.ts).
 */
async function readVerifiedFromCache(
  dir: string,
  recordFile: string,
  expectedManifestSha: string,
  kind: PayloadKind,
  log: Logger,
): Promise<VerifiedPayload | undefined> {
  try {
    const record = await readVerifiedRecord(recordFile, log);
    const manifestRead = await readCachedFileStamped(dir, MANIFEST_FILE);
    if (!manifestRead) return undefined;
    const manifestKnown = isUnchanged(record, MANIFEST_FILE, manifestRead.stamp);
    const manifest = manifestKnown
      ? readManifestFields(manifestRead.bytes, kind)
      : parseManifest(manifestRead.bytes, expectedManifestSha, kind);
    const entryRead = await readCachedFileStamped(dir, manifest.entry);
    if (!entryRead) {
      // A writer replacing the entry while we read it, or half of an entry removed by hand:
      // not worth a warning (a file that is there but wrong is).
      log.debug(`the cached payload in "${dir}" has no ${manifest.entry}; extracting it again from its image`);
      return undefined;
    }
    const entryKnown = manifestKnown && isUnchanged(record, manifest.entry, entryRead.stamp);
    if (!entryKnown) checkEntry(manifest, entryRead.bytes);
    const stamps = new Map([
      [MANIFEST_FILE, manifestRead.stamp],
      [manifest.entry, entryRead.stamp],
    ]);
    const signedBy = manifestKnown ? record?.signedBy : undefined;
    const next = recordOf(stamps, Date.now(), signedBy);
    if (JSON.stringify(next) !== JSON.stringify(record)) await writeVerifiedRecord(recordFile, next, log);
    return {
      manifest,
      entryPath: join(dir, manifest.entry),
      entrySource: entryRead.bytes.toString('utf8'),
      record: { file: recordFile, stamps, ...(signedBy ? { signedBy } : {}) },
    };
  } catch (error) {
    const why =
      error instanceof UnreadableFile
        ? `its ${basename(error.path)} ${error.message}`
        : error instanceof PayloadRejected
          ? error.message
          : undefined;
    if (why === undefined) {
      // The cache cannot be read at all (EACCES, EIO): it only costs speed.
      log.debug(
        `cannot read the cached payload in "${dir}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
      return undefined;
    }
    log.warn(`the cached payload in "${dir}" was rejected (${why}); extracting it again from its image`);
    return undefined;
  }
}
