// A Debian 12 host with the distribution's own Node.js (18.20) for tests that run the shim as
// such a host would, built by scripts/build-debian-node (base-image.ts).
import { BASE_IMAGE_BUILD_TIMEOUT_MS, baseImageBuiltBy } from './base-image';

export const DEBIAN_NODE_IMAGE = 'run-docker-test/debian-node:bookworm';

/** Time to allow a test (hook) that may have to build the image from scratch. */
export const DEBIAN_NODE_BUILD_TIMEOUT_MS = BASE_IMAGE_BUILD_TIMEOUT_MS;

/**
 * Resolves to DEBIAN_NODE_IMAGE once it exists. The image has Debian's nodejs and
 * ca-certificates, no docker CLI; CMD is ["node", "--version"].
 */
export const ensureDebianNodeImage = baseImageBuiltBy('build-debian-node', DEBIAN_NODE_IMAGE);
