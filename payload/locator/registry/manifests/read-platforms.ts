/**
 * The platforms a tag (or digest) of a repository is for: GET `/v2/<name>/manifests/<reference>`
 * asking for an index first (OCI distribution spec, "Pulling manifests":
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests);
 * an index lists them, a single image's config blob says its one
 * (`/v2/<name>/blobs/<digest>`, one more request). Answers are bounded by the transport.
 */
import { loadCrypto } from '../../../../common/lazy-builtins';
import type { Logger } from '../../../../contract/contract';
import {
  formatPlatform,
  MANIFEST_ACCEPT,
  readConfigPlatform,
  readManifest,
  type ImagePlatform,
} from '../../image-platform';
import {
  isServerFailure,
  registryAnswerUnreadable,
  registryFailing,
  registryRateLimited,
} from '../registry-unreachable-error';
import type { RegistryResponse } from '../registry-request';

export type GetWithAccept = (url: string, accept: string) => Promise<RegistryResponse>;

export interface ReadPlatformsOptions {
  baseUrl: string;
  path: string;
  /** A tag or `sha256:…`. */
  reference: string;
  registry: string;
  repositoryName: string;
  log?: Logger;
}

/** Undefined when the registry has no such tag (404) or says nothing run-docker can read about it. */
export async function readPlatforms(
  get: GetWithAccept,
  options: ReadPlatformsOptions,
): Promise<ImagePlatform[] | undefined> {
  const { baseUrl, path, reference, registry, repositoryName } = options;
  const manifest = await get(`${baseUrl}/v2/${path}/manifests/${encodeURIComponent(reference)}`, MANIFEST_ACCEPT);
  check(manifest, registry, repositoryName);
  if (manifest.status !== 200) return undefined;
  const facts = readManifest(manifest.headers.get('content-type'), manifest.text);
  if (facts === undefined) return undefined;
  if (facts.kind === 'index') {
    options.log?.debug(
      `${repositoryName}:${reference} is an index for ${facts.platforms.map(formatPlatform).join(', ')}`,
    );
    return facts.platforms;
  }
  const config = await get(`${baseUrl}/v2/${path}/blobs/${facts.configDigest}`, 'application/json, */*');
  check(config, registry, repositoryName);
  const platform = config.status === 200 ? readConfigPlatform(config.text) : undefined;
  if (platform) options.log?.debug(`${repositoryName}:${reference} is one image, for ${formatPlatform(platform)}`);
  return platform ? [platform] : undefined;
}

/**
 * The digest of the manifest the registry holds for `reference` (`sha256:…` of the bytes it
 * sends, the OCI content address), or undefined when it has no such tag (404). For an image
 * just pushed by an engine that does not record it: Podman's RepoDigests after a push hold
 * the digest of its local manifest, not of the one it pushed.
 */
export async function readManifestDigest(
  get: GetWithAccept,
  options: ReadPlatformsOptions,
): Promise<string | undefined> {
  const { baseUrl, path, reference, registry, repositoryName } = options;
  const manifest = await get(`${baseUrl}/v2/${path}/manifests/${encodeURIComponent(reference)}`, MANIFEST_ACCEPT);
  check(manifest, registry, repositoryName);
  if (manifest.status !== 200) return undefined;
  return `sha256:${loadCrypto().createHash('sha256').update(manifest.text, 'utf8').digest('hex')}`;
}

/** Rate limits and failures are the registry's state, as for the tag list (registry-unreachable-error.ts). */
function check(response: RegistryResponse, registry: string, repositoryName: string): void {
  if (response.status === 429) throw registryRateLimited(registry, response.headers.get('retry-after'));
  if (isServerFailure(response.status)) throw registryFailing(registry, response.status);
  if (response.status !== 200 && response.status !== 404)
    throw registryAnswerUnreadable(
      registry,
      `the registry "${registry}" did not show the manifest of "${repositoryName}"`,
      `HTTP ${response.status}`,
    );
}
