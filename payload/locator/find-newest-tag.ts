/**
 * The locator: which tag of a repository is the newest, among local images and (unless
 * `--local`) the registry's tags. Implements LocatorModule (contract/contract.ts).
 */
import { readHomeDir } from '../../common/read-home-dir';
import type { BaseContext, DockerConfigSnapshot, LocatedTag } from '../../contract/contract';
import { readEngineEndpoint } from '../../common/engine/read-engine-endpoint';
import { readContextDockerConfig } from '../../common/load-docker-config';
import { toEngineConnectionError } from '../../common/engine-error';
import { formatRepository, parseImageRef, type ImageRef } from '../../common/image-ref';
import { localRepositoryNames } from '../../common/local-image-names';
import { RunDockerError } from '../../common/run-docker-error';
import { readCredentialSource } from '../../common/credentials/read-credential-source';
import { readDockerCredentials } from '../../common/credentials/read-docker-credentials';
import { createRegistryClient, isRegistryUnreachable, readProxySettings } from './registry/create-registry-client';
import { selectNewestTag, sortTagsNewestFirst } from './select-newest-tag';

const USABLE_TAGS = 'a UTC date-time YYYYMMDD-HHMMSS, a date yy.mm.dd, a semantic version, or "latest"';

/**
 * Newest usable tag of `repository` (no tag, no digest) over local and registry tags; with
 * `ctx.local`, local tags only and no network at all. An unreachable registry is not an
 * error: one warning, then local tags. Every other registry failure is.
 */
export async function findNewestTag(ctx: BaseContext, repository: string): Promise<LocatedTag> {
  const ref = parseRepository(repository);
  const { local, remote, unreachable } = await readRepositoryTags(ctx, ref);
  const tag = selectNewestTag([...local, ...remote]);
  if (tag === undefined)
    throw noUsableTag(formatRepository(ref), ref.registry, ctx.local, unreachable, local.length + remote.length);
  return { tag, presentLocally: local.includes(tag) };
}

export interface RepositoryTags {
  local: string[];
  remote: string[];
  /** Why the registry could not be used, when it could not (its tags are then empty). */
  unreachable?: string;
}

/**
 * The tags of `ref` on this host and (unless ctx.local) in its registry, asked at once. A
 * registry that cannot be used now is not an error: one warning, then no remote tags.
 */
export async function readRepositoryTags(ctx: BaseContext, ref: ImageRef): Promise<RepositoryTags> {
  const name = formatRepository(ref);
  let unreachable: string | undefined;
  const [local, remote] = await Promise.all([
    readLocalTags(ctx, ref),
    ctx.local
      ? []
      : listRemoteTagsFor(ctx, ref).catch((error: unknown) => {
          if (!isRegistryUnreachable(error)) throw error;
          unreachable = `${error.summary} (${error.reason})`;
          ctx.log.warn(`${error.summary} (${error.reason}); using the images of "${name}" on this host`);
          return [];
        }),
  ]);
  return unreachable === undefined ? { local, remote } : { local, remote, unreachable };
}

/** The registry's tags, asked as the engine would ask (createRegistryClient), with the proxy
 *  settings and the login of docker's configuration as this call loaded it. */
async function listRemoteTagsFor(ctx: BaseContext, ref: ImageRef): Promise<string[]> {
  const dockerConfig = await readContextDockerConfig(ctx);
  const client = await createRegistryClient(ref.registry, {
    env: ctx.env,
    homeDir: readHomeDir(ctx.env),
    engine: ctx.engine,
    engineHost: await readEngineHost(ctx, dockerConfig),
    cacheDir: ctx.cacheDir,
    log: ctx.log,
    proxy: readProxySettings({ env: ctx.env, dockerConfig }),
    login: {
      account: () => readCredentialSource(ref.registry, dockerConfig),
      credentials: () => readDockerCredentials(ref.registry, { dockerConfig, env: ctx.env, log: ctx.log }),
    },
  });
  return client.listTags(ref.path);
}

/**
 * The address of the engine ctx.engine talks to, as the shim chose it (BaseContext.docker);
 * a shim that predates that field hands over only the client, so the choice is made again
 * here, by the same rules. Undefined when it cannot be made: the engine's /info is then not cached.
 */
async function readEngineHost(ctx: BaseContext, dockerConfig: DockerConfigSnapshot): Promise<string | undefined> {
  if (ctx.docker?.version === 1) return ctx.docker.engineHost;
  return readEngineEndpoint(ctx.env, dockerConfig).then(
    (endpoint) => endpoint.host,
    () => undefined,
  );
}

/** Usable tags of `repository` among the images on this host, newest first. */
export async function listLocalTagsNewestFirst(ctx: BaseContext, repository: string): Promise<string[]> {
  return sortTagsNewestFirst(await readLocalTags(ctx, parseRepository(repository)));
}

export function parseRepository(repository: string): ImageRef {
  const ref = parseImageRef(repository, 'repository');
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new RunDockerError(
      `"${repository}" names a tag or digest, not a repository`,
      'Give the repository without ":tag" or "@digest" to find its newest tag.',
    );
  }
  return ref;
}

/** The tags of `ref`'s repository on this host, under every name the engine may keep it (local-image-names.ts). */
async function readLocalTags(ctx: BaseContext, ref: ImageRef): Promise<string[]> {
  try {
    const names = localRepositoryNames(ref, (await ctx.engine.identify?.())?.kind);
    // One image list per call answers them all (the shim's client asks the engine once).
    const lists = await Promise.all(names.map((name) => ctx.engine.listImageTags(name)));
    return [...new Set(lists.flat())];
  } catch (error) {
    throw toEngineConnectionError(error, ctx.env, ctx.endpoint) ?? error;
  }
}

/**
 * The name on this host that holds `tag` of `ref`'s repository (Podman's `localhost/app` for
 * `app`), the first of localRepositoryNames that does; undefined when none does.
 */
export async function findLocalRepositoryName(
  ctx: BaseContext,
  ref: ImageRef,
  tag: string,
): Promise<string | undefined> {
  const names = localRepositoryNames(ref, (await ctx.engine.identify?.())?.kind);
  for (const name of names) if ((await ctx.engine.listImageTags(name)).includes(tag)) return name;
  return undefined;
}

/** `unreachable`: why the registry could not be used, when it could not. */
function noUsableTag(
  name: string,
  registry: string,
  local: boolean,
  unreachable: string | undefined,
  tagCount: number,
): RunDockerError {
  const where = local
    ? 'among the images on this host (--local)'
    : unreachable
      ? `among the images on this host (${unreachable})`
      : `on this host or in the registry "${registry}"`;
  const found = tagCount > 0 ? ` (${tagCount} other tag${tagCount === 1 ? '' : 's'})` : '';
  const tagRule = `a usable tag is ${USABLE_TAGS}`;
  const hint = local
    ? `With --local only images already on this host are considered: pull or build a tagged image of "${name}" first, run without --local, or check the name; ${tagRule}.`
    : `Publish or pull an image of "${name}", or check the name; ${tagRule}.`;
  return new RunDockerError(`no usable tag of "${name}" ${where}${found}`, hint);
}
