import type { BaseContext } from '../../contract/contract';
import { formatImageRef, formatRepository, isPinned, parseImageRef, type ImageRef } from '../../common/image-ref';
import { ensureImage, pullWithAuth } from '../../common/ensure-image';
import { inspectImage, type LocalImage } from '../../common/inspect-image';
import { readContextDockerConfig } from '../../common/load-docker-config';
import { isRegistryUnusablePull } from '../../common/pull-image';
import type { ProgressTarget } from '../../common/with-pull-progress';
import {
  findLocalRepositoryName,
  findNewestTag,
  listLocalTagsNewestFirst,
  readImagePlatforms,
} from '../locator/find-newest-tag';
import { formatPlatform, readEnginePlatform, runsOn, type ImagePlatform } from '../locator/image-platform';
import { noteNoFurtherLookup } from '../locator/predict-next-lookup';
import { RunDockerError } from '../../common/run-docker-error';
import type { ResolvedImage } from './build-run-spec';

export interface ImageToRun extends ResolvedImage {
  /** Image ID when the image is on the host (always, unless nothing was pulled). */
  id: string | undefined;
  /** The manifest digest the tag was pulled or pushed as (`sha256:…`), when the engine knows it. */
  digest: string | undefined;
}

export interface PullPolicy {
  /** False for --dry-run: nothing is pulled. */
  pull: boolean;
  /** Where a pull shows its progress (mode `off` for --quiet). */
  progress: ProgressTarget;
}

/**
 * The exact image to run: a tag or digest as given (rollback), otherwise the newest tag
 * among local images and the registry. Pulled when absent or older, unless `pull` is
 * false (--dry-run) or ctx.local. When the registry cannot be used for the pull (it
 * stalls, rate limits, or cannot be reached) an image that is not pinned falls back to
 * its newest tag on this host, with one warning; a pinned one is an error.
 */
export async function resolveImage(
  ctx: BaseContext,
  text: string,
  { pull, progress }: PullPolicy,
): Promise<ImageToRun> {
  const ref = parseImageRef(text, 'image');
  const repository = formatRepository(ref);
  const pinned = isPinned(ref);
  // The engine's platform, asked (GET /info) only when an image not on this host is considered.
  let platform: Promise<ImagePlatform | undefined> | undefined;
  const readPlatform = () => (platform ??= ctx.engine.readInfo().then(readEnginePlatform, () => undefined));
  if (pinned) await noteNoFurtherLookup(ctx);
  let exact = pinned ? ref : { ...ref, tag: (await findNewestTag(ctx, repository, { platform: readPlatform })).tag };
  // Podman keeps `app` as `localhost/app` or `docker.io/library/app`: run it by that name.
  let onHost = await nameOnHost(ctx, exact);
  if (onHost === undefined && pinned && pull && !ctx.local && !(await inspectImage(ctx.engine, exact)))
    await refuseOtherPlatform(ctx, exact, readPlatform);
  let present: LocalImage | undefined;
  if (onHost !== undefined) {
    present = await ctx.engine.inspectImage(onHost);
  } else if (pull) {
    const settings = { env: ctx.env, dockerConfig: await readContextDockerConfig(ctx), log: ctx.log, progress };
    try {
      present = await ensureImage(ctx.engine, exact, {
        local: ctx.local,
        pull: (ref) => pullWithAuth(ctx.engine, ref, settings),
        what: 'image',
        localHint: 'Run without --local to pull it, or build or load it first.',
      });
    } catch (error) {
      if (pinned || !isRegistryUnusablePull(error)) throw error;
      const fallback = await findNewestLocal(ctx, ref, exact.tag);
      // Nothing on this host to fall back to: the pull's failure is the answer.
      if (!fallback) throw error;
      ({ ref: exact, image: present, onHost } = fallback);
      ctx.log.warn(`${error.message}; running "${onHost ?? formatImageRef(exact)}", the newest on this host`);
    }
  } else {
    present = await inspectImage(ctx.engine, exact);
  }
  // The digest in sight: `REPO:TAG@sha256:…` runs exactly what was resolved, and --dry-run shows it.
  const digest = exact.digest ?? selectRepoDigest(present?.repoDigests, repository);
  return {
    reference: onHost ?? formatImageRef({ ...exact, digest }),
    repository,
    name: ref.path.split('/').pop()!,
    version: exact.tag ?? exact.digest!,
    id: present?.id,
    digest,
  };
}

/**
 * Pure: the digest of `repository` among an image's RepoDigests (`repo@sha256:…`), when
 * there is exactly one. An image pushed to the same repository as two manifests has two,
 * and which one the tag stands for is then not known.
 */
export function selectRepoDigest(repoDigests: readonly string[] | undefined, repository: string): string | undefined {
  const digests = (repoDigests ?? []).filter((entry) => entry.startsWith(`${repository}@`));
  return digests.length === 1 ? digests[0]!.slice(repository.length + 1) : undefined;
}

/**
 * `name:tag` as the engine keeps `ref` when that is not its familiar form: Podman's
 * `localhost/app:1.0` or `docker.io/library/app:1.0` for `app:1.0` (local-image-names.ts).
 * Undefined when the familiar name holds it, when no name does, and on Docker.
 */
async function nameOnHost(ctx: BaseContext, ref: ImageRef): Promise<string | undefined> {
  if (ref.tag === undefined || ref.digest !== undefined) return undefined;
  const name = await findLocalRepositoryName(ctx, ref, ref.tag);
  return name === undefined || name === formatRepository(ref) ? undefined : `${name}:${ref.tag}`;
}

/**
 * A pinned image that is not on this host and has no image for the engine's platform is one
 * line before it is pulled: the engine would pull it anyway (a single image of another
 * platform), or refuse with "no matching manifest", and `docker run` then fails far from the cause.
 */
async function refuseOtherPlatform(
  ctx: BaseContext,
  ref: ImageRef,
  readPlatform: () => Promise<ImagePlatform | undefined>,
): Promise<void> {
  const platforms = await readImagePlatforms(ctx, ref);
  if (platforms === undefined) return;
  const platform = await readPlatform();
  if (platform === undefined || platforms.some((image) => runsOn(image, platform))) return;
  throw new RunDockerError(
    `the image "${formatImageRef(ref)}" has no image for ${formatPlatform(platform)}, the engine's platform (it is for ${platforms.length ? platforms.map(formatPlatform).join(', ') : 'no platform'})`,
    `Pin a tag built for ${formatPlatform(platform)}, or publish this one for it too (build-docker --platform ${formatPlatform(platform)},…).`,
  );
}

/** The newest usable tag of `ref`'s repository on this host, other than `failedTag`. */
async function findNewestLocal(
  ctx: BaseContext,
  ref: ImageRef,
  failedTag: string | undefined,
): Promise<{ ref: ImageRef; image: LocalImage; onHost: string | undefined } | undefined> {
  for (const tag of await listLocalTagsNewestFirst(ctx, formatRepository(ref))) {
    if (tag === failedTag) continue;
    const candidate = { ...ref, tag };
    const onHost = await nameOnHost(ctx, candidate);
    const image = await (onHost === undefined ? inspectImage(ctx.engine, candidate) : ctx.engine.inspectImage(onHost));
    if (image) return { ref: candidate, image, onHost };
  }
  return undefined;
}
