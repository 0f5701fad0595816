/**
 * Every usable tag of a repository, local and (unless `--local`) in the registry, newest
 * first: the candidates the shim tries, in order, when the newest mini cannot be used.
 * Implements the optional LocatorModule.listTagsNewestFirst (contract/contract.ts).
 */
import os from 'node:os';
import type { BaseContext, LocatedTag } from '../../contract/contract';
import { toEngineConnectionError } from '../../common/engine-error';
import { formatRepository, parseImageRef } from '../../common/image-ref';
import { RunDockerError } from '../../common/run-docker-error';
import { listLocalTags } from './list-local-tags';
import { listRemoteTags } from './registry/list-remote-tags';
import { isRegistryUnreachable } from './registry/registry-unreachable-error';
import { sortTagsNewestFirst } from './select-newest-tag';

/**
 * An unreachable registry is not an error: one warning (worded as findNewestTag's, so a
 * caller that asked both and prints a line once prints it once), then local tags only.
 * No usable tag at all is an empty list, not an error: the caller knows what it wanted.
 */
export async function listTagsNewestFirst(ctx: BaseContext, repository: string): Promise<LocatedTag[]> {
  const ref = parseImageRef(repository, 'repository');
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new RunDockerError(`"${repository}" names a tag or digest, not a repository`, 'Give the repository without ":tag" or "@digest" to list its tags.');
  }
  const name = formatRepository(ref);
  const [local, remote] = await Promise.all([
    listLocalTags(ctx.docker, name).catch((error: unknown) => {
      throw toEngineConnectionError(error, ctx.env) ?? error;
    }),
    ctx.local
      ? []
      : listRemoteTags(ref, { env: ctx.env, homeDir: ctx.env.HOME || os.homedir(), log: ctx.log }).catch((error: unknown) => {
          if (!isRegistryUnreachable(error)) throw error;
          ctx.log.warn(`${error.summary} (${error.reason}); using the images of "${name}" on this host`);
          return [];
        }),
  ]);
  const onHost = new Set(local);
  return sortTagsNewestFirst([...local, ...remote]).map((tag) => ({ tag, presentLocally: onHost.has(tag) }));
}
