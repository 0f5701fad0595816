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
import { readLoginFiles, type LoginFile } from '../../common/credentials/read-login-files';
import {
  createRegistryClient,
  isRegistryUnreachable,
  readProxySettings,
  type RegistryClient,
} from './registry/create-registry-client';
import { formatPlatform, runsOn, type ImagePlatform } from './image-platform';
import { processEarlyAnswers } from './registry/transport/early-answers';
import { currentFolder, readLookupMemory, rememberNextLookup, selectNextLookup } from './predict-next-lookup';
import { selectNewestTag, sortTagsNewestFirst } from './select-newest-tag';

const USABLE_TAGS = 'a UTC date-time YYYYMMDD-HHMMSS, a date yy.mm.dd, a semantic version, or "latest"';

/**
 * Newest usable tag of `repository` (no tag, no digest) over local and registry tags; with
 * `ctx.local`, local tags only and no network at all. An unreachable registry is not an
 * error: one warning, then local tags. Every other registry failure is.
 */
export async function findNewestTag(
  ctx: BaseContext,
  repository: string,
  options: FindNewestTagOptions = {},
): Promise<LocatedTag> {
  const ref = parseRepository(repository);
  const { local, remote, unreachable, client } = await readRepositoryTags(ctx, ref);
  const tag = selectNewestTag([...local, ...remote]);
  if (tag === undefined)
    throw noUsableTag(formatRepository(ref), ref.registry, ctx.local, unreachable, local.length + remote.length);
  // A tag on this host was pulled (or built) here: only one that is not is asked about.
  if (local.includes(tag) || options.platform === undefined || client === undefined)
    return { tag, presentLocally: local.includes(tag) };
  return selectTagForPlatform(ctx, ref, { local, remote, client }, options.platform);
}

export interface FindNewestTagOptions {
  /**
   * The engine's platform (image-platform.ts), asked only when the newest tag is not on this
   * host: then that tag counts only if it has an image for it, and a newer tag without one is
   * skipped with one warning. Absent: any tag counts (run-docker's own images, which are files
   * only and run on every platform).
   */
  platform?: () => Promise<ImagePlatform | undefined>;
}

export interface RepositoryTags {
  local: string[];
  remote: string[];
  /** Why the registry could not be used, when it could not (its tags are then empty). */
  unreachable?: string;
  /** The client that listed the remote tags (to ask about one of them), when the registry was asked. */
  client?: RegistryClient;
}

/** A tag checked so far is asked about at most this many times a call: each costs one or two round trips. */
const MAX_PLATFORM_CHECKS = 5;

/**
 * The newest tag that runs on the engine's platform, newest first: a tag on this host counts
 * as it is; a registry's tag newer than every local one counts when its manifest lists the
 * platform, and is skipped otherwise (one warning naming each skipped tag and its platforms).
 * When the registry cannot tell (unreachable, no manifest it can read), the tag counts, as
 * before: the pull then says what is wrong.
 */
async function selectTagForPlatform(
  ctx: BaseContext,
  ref: ImageRef,
  tags: { local: string[]; remote: string[]; client: RegistryClient },
  readPlatform: () => Promise<ImagePlatform | undefined>,
): Promise<LocatedTag> {
  const name = formatRepository(ref);
  const platform = await readPlatform();
  if (platform === undefined) return { tag: selectNewestTag([...tags.local, ...tags.remote])!, presentLocally: false };
  const skipped: Array<{ tag: string; platforms: ImagePlatform[] }> = [];
  let found: LocatedTag | undefined;
  for (const tag of sortTagsNewestFirst([...tags.local, ...tags.remote])) {
    if (tags.local.includes(tag)) {
      found = { tag, presentLocally: true };
      break;
    }
    if (skipped.length >= MAX_PLATFORM_CHECKS) continue;
    const platforms = await tags.client.readPlatforms(ref.path, tag).catch((error: unknown) => {
      if (isRegistryUnreachable(error)) return undefined;
      throw error;
    });
    if (platforms === undefined || platforms.some((image) => runsOn(image, platform))) {
      found = { tag, presentLocally: false };
      break;
    }
    skipped.push({ tag, platforms });
  }
  if (found) {
    if (skipped.length > 0) ctx.log.warn(describeSkipped(name, skipped, platform, found.tag));
    return found;
  }
  throw new RunDockerError(
    `no tag of "${name}" has an image for ${formatPlatform(platform)}, the engine's platform (the newest ${skipped.length === 1 ? 'is' : `${skipped.length} are`} for ${formatSkippedPlatforms(skipped)})`,
    `Publish one built for ${formatPlatform(platform)} (build-docker --platform ${formatPlatform(platform)},…), or pin a tag that has one.`,
  );
}

/** One line for all the tags skipped, naming each with its platforms, and what runs instead. */
function describeSkipped(
  name: string,
  skipped: ReadonlyArray<{ tag: string; platforms: ImagePlatform[] }>,
  platform: ImagePlatform,
  instead: string,
): string {
  const which =
    skipped.length === 1
      ? `the newest tag of "${name}", "${skipped[0]!.tag}", has no image for ${formatPlatform(platform)} (it is for ${formatSkippedPlatforms(skipped)})`
      : `the ${skipped.length} newest tags of "${name}" have no image for ${formatPlatform(platform)} (${formatSkippedPlatforms(skipped)})`;
  return `${which}; running "${name}:${instead}"`;
}

function formatSkippedPlatforms(skipped: ReadonlyArray<{ tag: string; platforms: ImagePlatform[] }>): string {
  const list = (platforms: ImagePlatform[]) =>
    platforms.length ? platforms.map(formatPlatform).join(', ') : 'no platform';
  if (skipped.length === 1) return list(skipped[0]!.platforms);
  return skipped.map(({ tag, platforms }) => `"${tag}": ${list(platforms)}`).join('; ');
}

/**
 * The platforms the registry's manifest of `ref` (tag or digest) lists, or undefined when it
 * cannot tell (unreachable, no such manifest, nothing readable): for a pinned image that is
 * not on this host, before it is pulled.
 */
export async function readImagePlatforms(ctx: BaseContext, ref: ImageRef): Promise<ImagePlatform[] | undefined> {
  const reference = ref.digest ?? ref.tag;
  if (reference === undefined || ctx.local) return undefined;
  try {
    const client = await createClientFor(ctx, ref);
    return await client.readPlatforms(ref.path, reference);
  } catch (error) {
    if (isRegistryUnreachable(error)) return undefined;
    throw error;
  }
}

/**
 * The digest of the manifest the registry holds for `ref`'s tag (`sha256:…`), asked with the
 * login and the scheme the engine would use; undefined when the registry has no such tag.
 */
export async function readRegistryDigest(
  ctx: BaseContext,
  ref: ImageRef & { tag: string },
): Promise<string | undefined> {
  const client = await createClientFor(ctx, ref);
  return client.readDigest(ref.path, ref.tag);
}

/**
 * The tags of `ref` on this host and (unless ctx.local) in its registry, asked at once. A
 * registry that cannot be used now is not an error: one warning, then no remote tags.
 */
export async function readRepositoryTags(ctx: BaseContext, ref: ImageRef): Promise<RepositoryTags> {
  const name = formatRepository(ref);
  let unreachable: string | undefined;
  let client: RegistryClient | undefined;
  const [local, remote] = await Promise.all([
    readLocalTags(ctx, ref),
    ctx.local
      ? []
      : createClientFor(ctx, ref, true)
          .then((created) => {
            client = created;
            return created.listTags(ref.path);
          })
          .catch((error: unknown) => {
            if (!isRegistryUnreachable(error)) throw error;
            unreachable = `${error.summary} (${error.reason})`;
            client = undefined;
            ctx.log.warn(`${error.summary} (${error.reason}); using the images of "${name}" on this host`);
            return [];
          }),
  ]);
  return {
    local,
    remote,
    ...(unreachable === undefined ? {} : { unreachable }),
    ...(client === undefined ? {} : { client }),
  };
}

/**
 * A client for `ref`'s registry, which asks as the engine would ask (createRegistryClient), with
 * the proxy settings of docker's configuration as this call loaded it, and the login the
 * engine's own CLI would use (on Podman, `podman login`'s first: read-login-files.ts). For a tag
 * lookup (`lookup`), the repository the last call in this folder looked up next
 * (predict-next-lookup.ts) has its first request sent now too, beside this lookup's, for that
 * lookup to find answered (registry/transport/early-answers.ts); a platform check is no lookup.
 */
async function createClientFor(ctx: BaseContext, ref: ImageRef, lookup = false): Promise<RegistryClient> {
  const dockerConfig = await readContextDockerConfig(ctx);
  const engineHost = await readEngineHost(ctx, dockerConfig);
  // Which engine it is (its image list, asked at start) decides the login files; the clients are
  // made meanwhile, and no lookup's request goes out before both are done (an early request
  // carries only a cached token: predict-next-lookup.ts).
  let loginFiles: readonly LoginFile[] = [];
  const loginFilesRead = readLoginFiles(ctx.engine, ctx.env, dockerConfig).then((files) => {
    loginFiles = files;
  });
  const clients = new Map<string, Promise<RegistryClient>>();
  const clientFor = (registry: string, path: string) => {
    let client = clients.get(registry);
    if (client === undefined) {
      // Podman's key for it: `docker.io/library/python`, `host:5000/team/app`.
      const repository = `${registry}/${path}`;
      client = createRegistryClient(registry, {
        env: ctx.env,
        homeDir: readHomeDir(ctx.env),
        engine: ctx.engine,
        engineHost,
        cacheDir: ctx.cacheDir,
        log: ctx.log,
        proxy: readProxySettings({ env: ctx.env, dockerConfig }),
        login: {
          account: () => readCredentialSource(registry, dockerConfig, loginFiles, repository),
          credentials: () =>
            readDockerCredentials(registry, { dockerConfig, loginFiles, repository, env: ctx.env, log: ctx.log }),
        },
      });
      clients.set(registry, client);
    }
    return client;
  };
  const [client] = await Promise.all([
    clientFor(ref.registry, ref.path),
    loginFilesRead,
    lookup && askNextEarly(ctx, ref, clientFor),
  ]);
  return client;
}

/**
 * Notes this lookup in the process's record; remembers it as what followed the lookup before
 * it (mini's, when this is the project's); and when the last call in this folder looked up
 * another repository after this one, sends that one's first request now. Costs only speed
 * when anything fails, never the lookup.
 */
async function askNextEarly(
  ctx: BaseContext,
  ref: ImageRef,
  clientFor: (registry: string, path: string) => Promise<RegistryClient>,
): Promise<void> {
  const { cacheDir } = ctx;
  const folder = currentFolder();
  const lookups = processEarlyAnswers().lookups;
  const repository = formatRepository(ref);
  const before = lookups.at(-1);
  const lookup: (typeof lookups)[number] = { repository };
  lookups.push(lookup);
  if (cacheDir === undefined || folder === undefined) return;
  // The lookup before this one guessed (null: guessed nothing); one by an older locator did not, so read the file.
  // The same repository again (the shim listing mini's tags after its newest failed) follows nothing.
  if (before !== undefined && before.repository !== repository && before.predicted !== repository) {
    const known =
      before.predicted !== undefined
        ? before.predicted
        : selectNextLookup(await readLookupMemory(cacheDir, ctx.log), folder, before.repository);
    if (known !== repository) await rememberNextLookup(cacheDir, folder, before.repository, repository, ctx.log);
  }
  const next = selectNextLookup(await readLookupMemory(cacheDir, ctx.log), folder, repository);
  lookup.predicted = next ?? null;
  if (next === undefined || next === repository) return;
  try {
    const nextRef = parseImageRef(next, 'repository');
    (await clientFor(nextRef.registry, nextRef.path)).askEarly(nextRef.path);
  } catch (error) {
    ctx.log.debug(`not asking "${next}" early: ${(error as Error).message}`);
  }
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
