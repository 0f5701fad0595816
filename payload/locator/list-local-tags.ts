import type Dockerode from 'dockerode';

/**
 * Tags of `repository` (in formatRepository form: `127.0.0.1:5000/team/app`, `team/app`,
 * `python`) among the images on the host, in no particular order.
 * Engine API: GET /images/json with a `reference` filter
 * (https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Image/operation/ImageList).
 * The engine matches the familiar form only (`docker.io/library/python` matches nothing on
 * 20.10), and engines differ in whether RepoTags then lists only the matching names, so the
 * repository is matched again here, exactly.
 */
export async function listLocalTags(docker: Dockerode, repository: string): Promise<string[]> {
  const images = await docker.listImages({ filters: { reference: [repository] } });
  const tags = new Set<string>();
  for (const image of images) {
    for (const repoTag of image.RepoTags ?? []) {
      const tag = tagOf(repoTag, repository);
      if (tag !== undefined) tags.add(tag);
    }
  }
  return [...tags];
}

/** The tag in `repository:tag`, if `repoTag` names exactly `repository`. The tag follows the
 *  last `:` — a registry port (`127.0.0.1:5000/…`) also holds one. `<none>:<none>` never matches. */
function tagOf(repoTag: string, repository: string): string | undefined {
  const colon = repoTag.lastIndexOf(':');
  if (colon <= 0 || colon < repoTag.lastIndexOf('/')) return undefined;
  return repoTag.slice(0, colon) === repository ? repoTag.slice(colon + 1) : undefined;
}
