/**
 * `.` as IMAGE: this project's image (pure). None of these spellings is a valid image
 * reference (a repository starts with a letter or digit), so nothing a user could type
 * before changes meaning:
 *
 *   .            the newest dev image, IMAGE from [tool.run-docker]
 *   .prod        the newest prod image of the current branch, IMAGE-BRANCH (as build-docker names it)
 *   .:TAG        a version of either (rollback), .prod:TAG
 *   .@sha256:…   exactly that image, .:TAG@sha256:… too
 */
import { RunDockerError } from '../../common/run-docker-error';
import { TAG_PATTERN } from '../../common/image-ref';

export interface ProjectImageSpec {
  kind: 'dev' | 'prod';
  /** `:TAG` and `@DIGEST` as written after `.` or `.prod`, e.g. `:20261101-120000`; empty for the newest. */
  suffix: string;
}

const PROJECT_IMAGE = /^\.(prod)?((?::[^@]*)?(?:@.*)?)$/s;

/** The spec when `image` is one of the spellings above; undefined for any other image. */
export function parseProjectImage(image: string): ProjectImageSpec | undefined {
  if (!image.startsWith('.')) return undefined;
  const match = PROJECT_IMAGE.exec(image);
  if (!match) {
    throw new RunDockerError(
      `"${image}" is not an image: "." stands for this project`,
      'Write ".", ".prod" (the prod image of the current branch), ".:TAG" or ".prod:TAG".',
    );
  }
  const suffix = match[2] ?? '';
  const tag = /^:([^@]*)/.exec(suffix)?.[1];
  if (tag !== undefined && !TAG_PATTERN.test(tag)) {
    throw new RunDockerError(`"${image}" has no valid tag after ":"`, 'Write ".:TAG", e.g. ".:20261101-120000".');
  }
  return { kind: match[1] ? 'prod' : 'dev', suffix };
}

/** The image reference the spec names: the table's repository, `-BRANCH` for prod, then the suffix. */
export function formatProjectImage(spec: ProjectImageSpec, repository: string, branchComponent?: string): string {
  if (spec.kind === 'prod') {
    if (branchComponent === undefined) throw new Error('a prod image needs the branch');
    return `${repository}-${branchComponent}${spec.suffix}`;
  }
  return `${repository}${spec.suffix}`;
}
