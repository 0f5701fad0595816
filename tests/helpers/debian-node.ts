// A Debian 12 host with the distribution's own Node.js (18.20) for tests that run the
// shim as such a host would. Built by scripts/build-debian-node from Debian packages (no
// Docker Hub); that takes about a minute, so the script skips an existing image and test
// cleanups leave it alone (it is labelled org.run-docker.test.base, not org.run-docker.test).
import path from 'node:path';
import { runCommand } from './fixtures';

export const DEBIAN_NODE_IMAGE = 'run-docker-test/debian-node:bookworm';

const BUILD_SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'build-debian-node');

/** Time to allow a test (hook) that may have to build the image from scratch. */
export const DEBIAN_NODE_BUILD_TIMEOUT_MS = 10 * 60 * 1000;

let build: Promise<string> | undefined;

/**
 * Resolves to DEBIAN_NODE_IMAGE once it exists (building it at most once per process).
 * The image has Debian's nodejs and ca-certificates, no docker CLI; CMD is
 * ["node", "--version"].
 */
export function ensureDebianNodeImage(): Promise<string> {
  build ??= runCommand(BUILD_SCRIPT, [DEBIAN_NODE_IMAGE], { check: true }).then(
    () => DEBIAN_NODE_IMAGE,
    (error: unknown) => {
      build = undefined;
      throw error;
    },
  );
  return build;
}
