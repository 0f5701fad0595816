// A user's Python project (examples/python-project, package `hello`) on a host, and
// its images: `<prefix>/hello` for development (the source is mapped in at run time) and
// `<prefix>/hello-main` for production (the package installed), as "<project>-<branch>".
// Both are built FROM the Python base image with the legacy builder and pushed: dev from the
// project's docker/Dockerfile, prod from python-project-prod.Dockerfile (by hand, so the
// walkthrough does not depend on build-docker, which has its own test).
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TEST_LABEL, dockerBuild, pushImage } from './fixtures';
import { ensurePythonBaseImage } from './python-base';

export const PROJECT_NAME = 'hello';
export const PROJECT_TEMPLATE = path.resolve(__dirname, '..', '..', 'examples', 'python-project');

export interface ProjectHome {
  /** A HOME with a space in its path, e.g. `/tmp/run-docker home AbC123`. */
  home: string;
  /** `<home>/work/src/hello`: a copy of the template, where run-docker looks for dev source. */
  projectDir: string;
}

export interface ProjectImages {
  /** `<prefix>/hello:<tag>`, from docker/Dockerfile. */
  dev: string;
  /** `<prefix>/hello-main:<tag>`, from python-project-prod.Dockerfile. */
  prod: string;
}

const projectHomes: string[] = [];

/**
 * Copies the template to `<new home>/work/src/hello`. Everything under `<home>/work` is
 * made readable and writable by all (`chmod -R a+rwX`): the container runs as docker-user
 * (uid 1000), not as the host user who owns the copy, and Python writes `__pycache__`.
 */
export async function makeProjectHome(): Promise<ProjectHome> {
  const home = await mkdtemp(path.join(tmpdir(), 'run-docker home '));
  projectHomes.push(home);
  const projectDir = path.join(home, 'work', 'src', PROJECT_NAME);
  await cp(PROJECT_TEMPLATE, projectDir, {
    recursive: true,
    filter: (source) => !['__pycache__', '.pytest_cache'].includes(path.basename(source)),
  });
  return { home, projectDir };
}

/** Deletes every home made by makeProjectHome in this test file. */
export async function removeProjectHomes(): Promise<void> {
  await Promise.all(projectHomes.splice(0).map((home) => rm(home, { recursive: true, force: true })));
}

/** The references buildProjectImages builds; PREFIX is a registry address, optionally with a path. */
export function projectImages(prefix: string, tag: string): ProjectImages {
  return { dev: `${prefix}/${PROJECT_NAME}:${tag}`, prod: `${prefix}/${PROJECT_NAME}-main:${tag}` };
}

/**
 * Builds both images (labelled TEST_LABEL=1) and pushes them to PREFIX's registry. The
 * first push uploads the Python base layer (~390 MB, about 20 s); the second reuses it.
 */
export async function buildProjectImages(prefix: string, tag: string): Promise<ProjectImages> {
  const base = await ensurePythonBaseImage();
  const images = projectImages(prefix, tag);
  await Promise.all([
    buildProjectImage(base, path.join(PROJECT_TEMPLATE, 'docker', 'Dockerfile'), images.dev),
    buildProjectImage(base, path.join(__dirname, 'python-project-prod.Dockerfile'), images.prod),
  ]);
  // One after the other, so the base layer is uploaded once and mounted for the second.
  await pushImage(images.dev);
  await pushImage(images.prod);
  return images;
}

async function buildProjectImage(base: string, dockerfile: string, reference: string): Promise<void> {
  // DOCKER_BUILDKIT=0: the legacy builder, as in fixtures.ts (no buildx on CI).
  await dockerBuild(
    [
      '--quiet',
      '--file',
      dockerfile,
      '--build-arg',
      `BASE=${base}`,
      '--label',
      `${TEST_LABEL}=1`,
      '--tag',
      reference,
      PROJECT_TEMPLATE,
    ],
    { check: true },
  );
}
