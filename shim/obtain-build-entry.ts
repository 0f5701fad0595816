/**
 * The build payload (`build-docker`) of the mini chosen for this call, as trusted and
 * verified as its run payload: the manifest was checked against the image's label when the
 * mini was chosen; here the build entry must match the manifest's `build.sha256`, and its own
 * signature must verify against the pinned tiny's keys (docs/contract.md, "The build entry").
 */
import { MANIFEST_FILE, type BuildEntry, type PayloadManifest } from '../contract/contract';
import { formatImageRef, type ImageRef } from '../common/image-ref';
import type { LocalImage } from '../common/inspect-image';
import { UnreadableFile } from '../common/read-private-file';
import { RunDockerError } from '../common/run-docker-error';
import { formatBytes } from '../common/read-tar-files';
import { writeOrWarn, type VerifiedEntry, type VerifiedPayload } from './obtain-payload';
import { PAYLOAD_FILE_LIMIT_BYTES, readImagePayload, type ImagePayload } from './read-image-payload';
import { currentKeys, type ShimSource, type Trust } from './obtain-trusted-mini';
import { payloadCacheDir, readCachedFile } from './payload-cache';
import { checkBuildSignature, checkEntry, PayloadRejected, sha256Hex } from './verify-payload';

export async function obtainBuildEntry(
  source: ShimSource,
  trust: Trust,
  image: LocalImage,
  ref: ImageRef,
  payload: VerifiedPayload,
): Promise<VerifiedEntry> {
  const { manifest } = payload;
  if (manifest.build === undefined) {
    throw new RunDockerError(
      `the mini "${formatImageRef(ref)}" (version ${manifest.version}) has no build payload: it was published before build-docker`,
      'Publish a newer mini (scripts/publish mini carries the build payload), or pin one that has it.',
    );
  }
  const withBuild = manifest as PayloadManifest & { build: BuildEntry };
  try {
    checkBuildSignature(withBuild, currentKeys(trust));
  } catch (error) {
    if (!(error instanceof PayloadRejected)) throw error;
    if (!trust.allowUnsigned)
      throw refused(
        ref,
        error.message,
        'Publish the mini again, signed with a key this host trusts (scripts/publish mini --signing-key).',
      );
    source.log.warn(
      `RUNNING UNTRUSTED CODE: mini "${formatImageRef(ref)}" ${error.message}, and this host allows that (RUN_DOCKER_ALLOW_UNSIGNED / allowUnsigned); never do this on a host that matters`,
    );
  }
  if (payload.build) return payload.build;
  const dir = source.cacheRoot === undefined ? undefined : payloadCacheDir(source.cacheRoot, image.id);
  if (dir !== undefined) {
    const cached = await readCachedFile(dir, withBuild.build.entry).catch((error: unknown) => {
      if (!(error instanceof UnreadableFile)) return undefined;
      source.log.warn(
        `the cached payload in "${dir}" was rejected (its ${withBuild.build.entry} ${error.message}); extracting it again from its image`,
      );
      return undefined;
    });
    if (cached && sha256Hex(cached) === withBuild.build.sha256)
      return { path: `${dir}/${withBuild.build.entry}`, source: cached.toString('utf8') };
    if (cached)
      source.log.warn(
        `the cached payload in "${dir}" was rejected (its build entry "${withBuild.build.entry}" does not match the manifest's sha256); extracting it again from its image`,
      );
  }
  return extractBuildEntry(source, image, ref, withBuild, dir);
}

/** Reads the build entry from the image again (a cache written by a shim that predates it, or a changed file). */
async function extractBuildEntry(
  source: ShimSource,
  image: LocalImage,
  ref: ImageRef,
  manifest: PayloadManifest & { build: BuildEntry },
  dir: string | undefined,
): Promise<VerifiedEntry> {
  let read: ImagePayload;
  let buildBytes: Buffer;
  try {
    // The same manifest as when the mini was chosen: the image's label still binds it.
    read = await readImagePayload(source, image, 'mini');
    if (read.oversized.has(manifest.build.entry))
      throw new PayloadRejected(
        `its build entry "${manifest.build.entry}" is larger than ${formatBytes(PAYLOAD_FILE_LIMIT_BYTES)}`,
        'corrupt',
      );
    const bytes = read.files.get(manifest.build.entry);
    checkEntry(manifest.build, bytes, 'build entry');
    buildBytes = bytes;
  } catch (error) {
    if (!(error instanceof PayloadRejected)) throw error;
    throw refused(ref, error.message, 'Publish the mini again with scripts/publish.');
  }
  const { files, manifestBytes } = read;
  const runBytes = files.get(manifest.entry);
  if (
    source.cacheRoot !== undefined &&
    dir !== undefined &&
    runBytes !== undefined &&
    sha256Hex(runBytes) === manifest.sha256
  ) {
    await writeOrWarn(
      source.cacheRoot,
      dir,
      new Map([
        [MANIFEST_FILE, manifestBytes],
        [manifest.entry, runBytes],
        [manifest.build.entry, buildBytes],
      ]),
      source.log,
    );
  }
  return { path: `${dir ?? '/run-docker'}/${manifest.build.entry}`, source: buildBytes.toString('utf8') };
}

function refused(ref: ImageRef, why: string, hint: string): RunDockerError {
  return new RunDockerError(`the build payload of the mini "${formatImageRef(ref)}" cannot be used: ${why}`, hint);
}
