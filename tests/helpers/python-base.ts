// The Python 3 + pytest + Jupyter base image for tests that need a real Python project
// image. Built by scripts/build-python-base from Debian packages (no Docker Hub); that
// takes minutes, so the script skips an existing image and test cleanups leave it
// alone (it is labelled org.run-docker.test.base, not org.run-docker.test).
import path from 'node:path';
import { runCommand } from './fixtures';

export const PYTHON_BASE_IMAGE = 'run-docker-test/python-base:bookworm';

const BUILD_SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'build-python-base');

/** Time to allow a test (hook) that may have to build the image from scratch. */
export const PYTHON_BASE_BUILD_TIMEOUT_MS = 10 * 60 * 1000;

let build: Promise<string> | undefined;

/**
 * Resolves to PYTHON_BASE_IMAGE once it exists (building it at most once per process).
 * The image has python3, pytest, `jupyter notebook` and docker-user (uid 1000, home
 * /home/docker-user); CMD is ["python3"].
 */
export function ensurePythonBaseImage(): Promise<string> {
  build ??= runCommand(BUILD_SCRIPT, [PYTHON_BASE_IMAGE], { check: true }).then(
    () => PYTHON_BASE_IMAGE,
    (error: unknown) => {
      build = undefined;
      throw error;
    },
  );
  return build;
}
