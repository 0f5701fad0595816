/**
 * Pure: the names an engine may keep an image of a repository under. dockerd lists Docker
 * Hub images in their familiar form (`python`, `team/app`). Podman keeps every name fully
 * qualified (`docker.io/library/python`), and an image it built or loaded without a registry
 * (`podman build -t app`, `podman load` of `docker save app`) as `localhost/app`
 * (https://docs.podman.io/en/v4.3/markdown/podman-build.1.html, containers-registries.conf(5)
 * short names): so on Podman a name without a registry is looked for under all three.
 */
import type { EngineIdentity } from '../contract/contract';
import { DOCKER_HUB, formatRepository, type ImageRef } from './image-ref';

/** The names to look for `ref`'s repository under, the one to run first when several hold a tag. */
export function localRepositoryNames(
  ref: Pick<ImageRef, 'registry' | 'path'>,
  kind: EngineIdentity['kind'] | undefined,
): string[] {
  const familiar = formatRepository(ref);
  if (kind !== 'podman' || ref.registry !== DOCKER_HUB) return [familiar];
  const short = ref.path.startsWith('library/') ? ref.path.slice('library/'.length) : ref.path;
  return [...new Set([`localhost/${short}`, `${DOCKER_HUB}/${ref.path}`, familiar])];
}
