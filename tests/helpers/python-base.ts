// The Python 3 + pytest + Jupyter base image for tests that need a real Python project image,
// built by scripts/build-python-base (base-image.ts).
import { BASE_IMAGE_BUILD_TIMEOUT_MS, baseImageBuiltBy } from './base-image';

export const PYTHON_BASE_IMAGE = 'run-docker-test/python-base:bookworm';

/** Time to allow a test (hook) that may have to build the image from scratch. */
export const PYTHON_BASE_BUILD_TIMEOUT_MS = BASE_IMAGE_BUILD_TIMEOUT_MS;

/**
 * Resolves to PYTHON_BASE_IMAGE once it exists. The image has python3, pytest, `jupyter
 * notebook` and docker-user (uid 1000, home /home/docker-user); CMD is ["python3"].
 */
export const ensurePythonBaseImage = baseImageBuiltBy('build-python-base', PYTHON_BASE_IMAGE);
