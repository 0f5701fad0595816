/**
 * Image references as the Docker engine reads them
 * (grammar: github.com/distribution/reference, reference.go):
 *   [registry/]path[:tag][@digest]
 * The first path part is a registry only if it has a `.` or a `:` or is `localhost`;
 * otherwise the registry is Docker Hub, where one-part names live under `library/`.
 */
import { RunDockerError } from './run-docker-error';

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
/** The name Docker Hub had in older references and configs; parseImageRef reads it as DOCKER_HUB. */
const DOCKER_HUB_OLD_INDEX = 'index.docker.io';

export interface ImageRef {
  /** `docker.io`, `ghcr.io`, `127.0.0.1:5000`, `localhost:5000`, `[::1]:5000` … */
  registry: string;
  /** Repository path inside the registry, e.g. `library/python`, `team/app`. */
  path: string;
  tag?: string;
  /** `sha256:<64 hex>` (any registered algorithm with ≥ 32 hex digits is accepted). */
  digest?: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;
export const TAG_PATTERN = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[-_+.][a-z0-9]+)*:[0-9a-f]{32,}$/;
const MAX_NAME_LENGTH = 255;

function invalid(text: string, what: string, why: string): RunDockerError {
  return new RunDockerError(
    `${what} "${text}" is not a valid image reference (${why})`,
    'Write it as [registry/]name[:tag][@sha256:digest], for example "127.0.0.1:5000/team/app:1.2.0".',
  );
}

function isRegistryPart(part: string): boolean {
  return part.includes('.') || part.includes(':') || part === 'localhost';
}

/** Parses a reference; `what` names where it came from, for the error message. */
export function parseImageRef(text: string, what = 'image'): ImageRef {
  if (text.length === 0) throw invalid(text, what, 'it is empty');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(text, what, `"${digest}" is not a digest such as sha256:<64 hex digits>`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_PATTERN.test(tag)) throw invalid(text, what, `"${tag}" is not a valid tag`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0];
  if (parts.length > 1 && first !== undefined && isRegistryPart(first)) {
    registry = first;
    parts.shift();
    if (!DOMAIN.test(registry)) throw invalid(text, what, `"${registry}" is not a registry host`);
  }
  if (registry === DOCKER_HUB_OLD_INDEX) registry = DOCKER_HUB;
  for (const part of parts) {
    if (!PATH_COMPONENT.test(part)) {
      const why = /[A-Z]/.test(part) ? 'repository names must be lower-case' : `"${part}" is not a valid name part`;
      throw invalid(text, what, why);
    }
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const path = parts.join('/');
  if (registry.length + 1 + path.length > MAX_NAME_LENGTH)
    throw invalid(text, what, 'the name is longer than 255 characters');
  return { registry, path, tag, digest };
}

/** The repository as the engine lists it in RepoTags: Docker Hub names in familiar form. */
export function formatRepository(ref: Pick<ImageRef, 'registry' | 'path'>): string {
  if (ref.registry !== DOCKER_HUB) return `${ref.registry}/${ref.path}`;
  return ref.path.startsWith('library/') ? ref.path.slice('library/'.length) : ref.path;
}

/** `repository[:tag][@digest]` in the engine's familiar form. */
export function formatImageRef(ref: ImageRef): string {
  return formatRepository(ref) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** Whether `host` is Docker Hub under any of its names: its own, its old index's, its API host's. */
export function isDockerHub(host: string): boolean {
  return host === DOCKER_HUB || host === DOCKER_HUB_OLD_INDEX || host === DOCKER_HUB_API_HOST;
}

/** Host to send Registry HTTP API requests to. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
}

/** Whether a reference names a fixed image (tag or digest) rather than "the newest". */
export function isPinned(ref: ImageRef): boolean {
  return ref.tag !== undefined || ref.digest !== undefined;
}
