// Base images the tests build from Debian packages (no Docker Hub) with one of the
// scripts/build-* scripts. A build takes a minute or more, so each script skips an existing
// image and test cleanups leave them alone (labelled org.run-docker.test.base, not
// org.run-docker.test); in one process each is built at most once.
import path from 'node:path';
import { runCommand } from './fixtures';

/** Time to allow a test (hook) that may have to build a base image from scratch. */
export const BASE_IMAGE_BUILD_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * A function that resolves to `image` once it exists, running `scripts/<script> <image>` the
 * first time it is called in this process (and again after a failed build).
 */
export function baseImageBuiltBy(script: string, image: string): () => Promise<string> {
  const file = path.resolve(__dirname, '..', '..', 'scripts', script);
  let build: Promise<string> | undefined;
  return () =>
    (build ??= runCommand(file, [image], { check: true }).then(
      () => image,
      (error: unknown) => {
        build = undefined;
        throw error;
      },
    ));
}
