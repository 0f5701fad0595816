/**
 * All tags of a repository in its registry: GET `/v2/<name>/tags/list?n=<page size>`, then each
 * `Link: <…>; rel="next"` until there is none
 * (https://distribution.github.io/distribution/spec/api/#listing-image-tags and #pagination).
 * Tags are returned as the registry sent them (strings only); choosing among them is
 * selectNewestTag's job.
 */
import type { DockerConfigSnapshot, Logger } from '../../../contract/contract';
import type { ImageRef } from '../../../common/image-ref';
import { RunDockerError } from '../../../common/run-docker-error';
import type { TokenCache } from './fetch-bearer-token';
import type { RegistryResponse } from './fetch-registry';
import type { SendRequest } from './send-with-node-http';
import type { RegistryTransport } from './choose-registry-transport';
import { findNextLink } from './parse-link-header';
import { createRegistrySession, type RegistrySession } from './registry-session';
import { readRegistrySettings } from './registry-settings';
import { processRegistryBudget, withRegistryDeadline, type RegistryBudget } from './registry-deadline';
import {
  isServerFailure,
  registryAnswerUnreadable,
  registryFailing,
  registryPagedTooFar,
  registryRateLimited,
} from './registry-unreachable-error';

export interface ListRemoteTagsOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** docker's config.json, loaded once per call (common/load-docker-config.ts): logins, helpers, proxies. */
  dockerConfig: DockerConfigSnapshot;
  /** Tags per page; default RUN_DOCKER_REGISTRY_PAGE_SIZE, else 1000. */
  pageSize?: number;
  /** Bound on the walk; default 200 pages. */
  maxPages?: number;
  /** How requests go out (default: node:http/https); tests wrap it to record requests. */
  send?: SendRequest;
  log?: Logger;
  tokenCache?: TokenCache;
  /** Time registry lookups have spent (default: this process's, registry-deadline.ts). */
  budget?: RegistryBudget;
  /** Scheme and certs.d material (choose-registry-transport.ts); default: http for loopback only. */
  transport?: RegistryTransport;
}

export const DEFAULT_MAX_PAGES = 200;

const JSON_TYPES = 'application/json';

export async function listRemoteTags(
  ref: Pick<ImageRef, 'registry' | 'path'>,
  options: ListRemoteTagsOptions,
): Promise<string[]> {
  const settings = readRegistrySettings(options.env);
  return withRegistryDeadline(options.budget ?? processRegistryBudget(), settings.deadlineMs, (deadline) =>
    walkTagPages(
      ref,
      options,
      createRegistrySession(ref, { ...options, timeoutMs: settings.timeoutMs, deadline }),
      settings.pageSize,
    ),
  );
}

async function walkTagPages(
  ref: Pick<ImageRef, 'registry' | 'path'>,
  options: ListRemoteTagsOptions,
  session: RegistrySession,
  defaultPageSize: number,
): Promise<string[]> {
  const pageSize = options.pageSize ?? defaultPageSize;
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  const name = session.repositoryName;

  const tags: string[] = [];
  const requested = new Set<string>();
  let url: string | undefined = `${session.baseUrl}/v2/${ref.path}/tags/list?n=${pageSize}`;
  while (url !== undefined) {
    if (requested.has(url)) {
      throw new RunDockerError(
        `the registry "${ref.registry}" sent a pagination loop while listing the tags of "${name}"`,
        'The registry is misbehaving; try again later, or run with --local to use only images on this host.',
      );
    }
    if (requested.size >= maxPages) throw registryPagedTooFar(ref.registry, name, maxPages);
    requested.add(url);
    options.log?.debug(`listing tags: GET ${url}`);
    const response = await session.get(url, JSON_TYPES);
    // A repository nobody has pushed to yet has no tags, which is not an error here.
    if (response.status === 404 && requested.size === 1 && hasErrorCode(response, 'NAME_UNKNOWN')) return [];
    if (response.status === 429) throw registryRateLimited(ref.registry, response.headers.get('retry-after'));
    if (isServerFailure(response.status)) throw registryFailing(ref.registry, response.status);
    if (response.status !== 200) throw httpError(response, ref.registry, name);
    for (const tag of parseTagPage(response, ref.registry, name)) tags.push(tag);
    try {
      url = findNextLink(response.headers.get('link'), url);
    } catch (error) {
      throw registryAnswerUnreadable(
        ref.registry,
        `the registry "${ref.registry}" sent an unusable page link for "${name}"`,
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
      return new RunDockerError(message, `Check that your account may pull it ("docker login ${registry}").`);
    case 404:
      return new RunDockerError(message, 'Check the registry address and the repository name.');
    default:
      return new RunDockerError(message, 'Try again later, or run with --local to use only images on this host.');
  }
}
