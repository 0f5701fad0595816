import { isDockerHub } from './image-ref';

/**
 * Pure: the login commands a hint names for `registry` (none: Docker Hub). run-docker reads
 * what `docker login` stores and, on a Podman engine, what `podman login` stores first
 * (docs/engine-and-credentials.md); a host may have only one of the two CLIs, so a hint
 * that names one alone sends some users to a command they do not have.
 */
export function formatLoginCommand(registry?: string): string {
  // Docker Hub is the CLIs' default; its API host is not what either CLI logs in to.
  const target = registry && !isDockerHub(registry) ? ` ${registry}` : '';
  return `"docker login${target}" (with Podman: "podman login${target}")`;
}
