/**
 * What scripts/publish (plain JavaScript, run from a checkout) borrows from the TypeScript
 * side, bundled as dist/publish-support.js: the engine the docker CLI would use, the UTC
 * stamp of mini versions, and the tag order, so "newer than the newest published mini" means what it means to every host.
 * The tag listing itself is the locator's (dist/payload/tiny/locate.js).
 */
import type { EngineClient } from '../contract/engine-client';
import { createEngineClient } from './engine/create-engine-client';
import { readEngineEndpoint } from './engine/read-engine-endpoint';
import { loadDockerConfig } from './load-docker-config';

export { compareTagOrder } from './compare-tag-order';
export { formatUtcStamp } from './format-utc-stamp';

/** An engine client for DOCKER_HOST, else the current docker context, as the shim connects. */
export async function connectEngine(
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
): Promise<EngineClient> {
  return createEngineClient(await readEngineEndpoint(env, await loadDockerConfig(env, homeDir)), env);
}
