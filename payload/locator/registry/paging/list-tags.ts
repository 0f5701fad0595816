/**
 * All tags of a repository in its registry: GET `/v2/<name>/tags/list?n=<page size>`, then each
 * `Link: <…>; rel="next"` until there is none
 * (https://distribution.github.io/distribution/spec/api/#listing-image-tags and #pagination).
 * Tags are returned as the registry sent them (strings only); choosing among them is
 * selectNewestTag's job.
 */
import type { Logger } from '../../../../contract/contract';
import { formatLoginCommand } from '../../../../common/format-login-command';
import { RunDockerError } from '../../../../common/run-docker-error';
import type { RegistryResponse } from '../registry-request';
import { findNextLink } from './parse-link-header';
import {
  isServerFailure,
  registryAnswerUnreadable,
  registryFailing,
  registryPagedTooFar,
  registryRateLimited,
} from '../registry-unreachable-error';

/** One page, fetched with whatever authorization the registry wants (auth/create-authorized-get.ts). */
export type GetPage = (url: string, accept: string) => Promise<RegistryResponse>;

export interface ListTagsOptions {
  /** The registry's origin (registryBaseUrl) and the repository's path in it. */
  baseUrl: string;
  path: string;
  pageSize: number;
  /** Bound on the walk. */
  maxPages: number;
  /** For messages: the registry as in image references, and `registry/path`. */
  registry: string;
  repositoryName: string;
  log?: Logger;
}

/** What a page is asked for as. */
export const TAG_PAGE_TYPES = 'application/json';

/** Pure: the URL of the first page of `path`'s tags. */
export function firstTagPageUrl(baseUrl: string, path: string, pageSize: number): string {
  return `${baseUrl}/v2/${path}/tags/list?n=${pageSize}`;
}

export async function listTags(get: GetPage, options: ListTagsOptions): Promise<string[]> {
  const { registry, repositoryName: name } = options;
  const tags: string[] = [];
  const requested = new Set<string>();
  let url: string | undefined = firstTagPageUrl(options.baseUrl, options.path, options.pageSize);
  while (url !== undefined) {
    if (requested.has(url)) {
      throw new RunDockerError(
        `the registry "${registry}" sent a pagination loop while listing the tags of "${name}"`,
        'The registry is misbehaving; try again later, or run with --local to use only images on this host.',
      );
    }
    if (requested.size >= options.maxPages) throw registryPagedTooFar(registry, name, options.maxPages);
    requested.add(url);
    options.log?.debug(`listing tags: GET ${url}`);
    const response = await get(url, TAG_PAGE_TYPES);
    // A repository nobody has pushed to yet has no tags, which is not an error here.
    if (response.status === 404 && requested.size === 1 && hasErrorCode(response, 'NAME_UNKNOWN')) return [];
    if (response.status === 429) throw registryRateLimited(registry, response.headers.get('retry-after'));
    if (isServerFailure(response.status)) throw registryFailing(registry, response.status);
    if (response.status !== 200) throw httpError(response, registry, name);
    for (const tag of parseTagPage(response, registry, name)) tags.push(tag);
    try {
      url = findNextLink(response.headers.get('link'), url);
    } catch (error) {
      throw registryAnswerUnreadable(
        registry,
        `the registry "${registry}" sent an unusable page link for "${name}"`,
        (error as Error).message,
      );
    }
  }
  return tags;
}

/** The body of a tags page: `{"name": "...", "tags": [...]}`; `tags` may be null when empty. */
function parseTagPage(response: RegistryResponse, registry: string, name: string): string[] {
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    // Only a short, printable media type: the body itself may be anything.
    const type = (response.headers.get('content-type') ?? 'no content type')
      .replace(/[^\x20-\x7e]+/g, ' ')
      .slice(0, 60);
    throw registryAnswerUnreadable(registry, malformedTagList(registry, name), `${type}, not JSON`);
  }
  const tags = typeof body === 'object' && body !== null ? (body as { tags?: unknown }).tags : undefined;
  if (tags === null) return [];
  if (!Array.isArray(tags))
    throw registryAnswerUnreadable(registry, malformedTagList(registry, name), 'no "tags" list');
  return tags.filter((tag): tag is string => typeof tag === 'string');
}

function malformedTagList(registry: string, name: string): string {
  return `the registry "${registry}" sent a malformed tag list for "${name}"`;
}

/** Error bodies: `{"errors": [{"code": "NAME_UNKNOWN", "message": "...", "detail": ...}]}`
 *  (https://distribution.github.io/distribution/spec/api/#errors). */
function registryErrors(response: RegistryResponse): Array<{ code?: unknown; message?: unknown }> {
  try {
    const errors = (JSON.parse(response.text) as { errors?: unknown }).errors;
    return Array.isArray(errors)
      ? errors.filter((e: unknown): e is { code?: unknown; message?: unknown } => typeof e === 'object' && e !== null)
      : [];
  } catch {
    return [];
  }
}

function hasErrorCode(response: RegistryResponse, code: string): boolean {
  return registryErrors(response).some((e) => e.code === code);
}

function httpError(response: RegistryResponse, registry: string, name: string): RunDockerError {
  const first = registryErrors(response)[0];
  const said = typeof first?.message === 'string' ? first.message : typeof first?.code === 'string' ? first.code : '';
  // The registry's own words help, but only as one short printable line.
  const detail = said
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim()
    .slice(0, 200);
  const message = `could not list the tags of "${name}": the registry answered HTTP ${response.status}${detail ? ` (${detail})` : ''}`;
  switch (response.status) {
    case 403:
      return new RunDockerError(message, `Check that your account may pull it (${formatLoginCommand(registry)}).`);
    case 404:
      return new RunDockerError(message, 'Check the registry address and the repository name.');
    default:
      return new RunDockerError(message, 'Try again later, or run with --local to use only images on this host.');
  }
}
