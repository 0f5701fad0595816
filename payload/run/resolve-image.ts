import type { BaseContext } from '../../contract/contract';
import { formatImageRef, formatRepository, isPinned, parseImageRef } from '../../common/image-ref';
import { inspectImage } from '../../common/inspect-image';
import os from 'node:os';
import { readRegistryAuth } from '../../common/credentials/read-registry-auth';
import { pullImage } from '../../common/pull-image';
import { RunDockerError } from '../../common/run-docker-error';
import { withPullProgress, type ProgressTarget } from '../../common/with-pull-progress';
import { findNewestTag } from '../common/find-newest-tag';
import type { ResolvedImage } from './build-run-spec';

export interface ImageToRun extends ResolvedImage {
  /** Image ID when the image is on the host (always, unless nothing was pulled). */
  id: string | undefined;
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
 * false (--dry-run) or ctx.local.
 */
export async function resolveImage(ctx: BaseContext, text: string, { pull, progress }: PullPolicy): Promise<ImageToRun> {
  const ref = parseImageRef(text, 'image');
  const repository = formatRepository(ref);
  const exact = isPinned(ref) ? ref : { ...ref, tag: (await findNewestTag(ctx, repository)).tag };
  let present = await inspectImage(ctx.docker, exact);
  if (!present && pull) {
    if (ctx.local) {
      throw new RunDockerError(
        `the image "${formatImageRef(exact)}" is not on this host, and --local forbids pulling it`,
        'Run without --local to pull it, or build or load it first.',
      );
    }
    const auth = await readRegistryAuth(exact.registry, { env: ctx.env, homeDir: ctx.env.HOME || os.homedir(), log: ctx.log });
    await withPullProgress(progress, (onEvent) => pullImage(ctx.docker, exact, { auth, onEvent }));
    present = await inspectImage(ctx.docker, exact);
  }
  return {
    reference: formatImageRef(exact),
    repository,
    name: ref.path.split('/').pop()!,
    version: exact.tag ?? exact.digest!,
    id: present?.id,
  };
}
