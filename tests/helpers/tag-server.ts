/**
 * The one registry call the locator makes, `GET /v2/<name>/tags/list`, answered by a tiny
 * HTTP server on 127.0.0.1 in the test's process: for unit tests of what is done with the
 * tags (tests/unit/create-registry-client.test.ts covers the protocol, tests/integration the
 * real registry). useTagServer() gives a test file one, with an engine in memory and a HOME.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeEngine, type FakeEngine } from './fake-engine';
import { createHash } from 'node:crypto';
import { json, serveHttp } from './http-server';
import type { ImagePlatform } from '../../payload/locator/image-platform';

export interface TagServer {
  /** `127.0.0.1:<port>`, as in an image reference. */
  registry: string;
  /** Tags per repository path (`team/app`); absent: NAME_UNKNOWN. */
  tags: Map<string, string[]>;
  /** Answer every request with this status instead (e.g. 503). */
  failWith?: number;
  /** Answer every request with this HTML page and status 200 instead, as a captive portal does. */
  portal?: string;
  /**
   * What `GET /v2/<path>/manifests/<tag>` (key `path:tag`) answers: an index of these
   * platforms, or one image's manifest whose config (`/blobs/<digest>`) says its platform;
   * absent: 404 MANIFEST_UNKNOWN.
   */
  manifests: Map<string, { index: ImagePlatform[] } | { image: ImagePlatform }>;
  /** `GET` paths of manifests and blobs asked for, in order. */
  manifestRequests: string[];
  close(): Promise<void>;
}

const CONFIG_DIGEST = (platform: ImagePlatform) =>
  `sha256:${createHash('sha256').update(JSON.stringify(platform)).digest('hex')}`;

export async function startTagServer(): Promise<TagServer> {
  const state: Pick<TagServer, 'failWith' | 'portal' | 'manifests' | 'manifestRequests'> & {
    tags: Map<string, string[]>;
  } = { tags: new Map(), manifests: new Map(), manifestRequests: [] };
  const served = await serveHttp((req, res) => {
    const name = /^\/v2\/(.+)\/tags\/list(?:\?|$)/.exec(req.url ?? '')?.[1];
    if (state.failWith !== undefined) return void res.writeHead(state.failWith).end();
    const manifest = /^\/v2\/(.+)\/(manifests|blobs)\/([^/?]+)$/.exec(req.url ?? '');
    if (manifest) {
      state.manifestRequests.push(req.url ?? '');
      const [, path, kind, reference] = manifest;
      if (kind === 'blobs') {
        const image = [...state.manifests.values()].find(
          (entry) => 'image' in entry && CONFIG_DIGEST(entry.image) === reference,
        ) as { image: ImagePlatform } | undefined;
        return image ? json(res, 200, { ...image.image, config: {} }) : json(res, 404, { errors: [] });
      }
      const entry = state.manifests.get(`${path}:${decodeURIComponent(reference!)}`);
      if (entry === undefined) return json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN' }] });
      if ('index' in entry)
        return json(res, 200, {
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: entry.index.map((platform) => ({ digest: CONFIG_DIGEST(platform), platform })),
        });
      return json(res, 200, {
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { digest: CONFIG_DIGEST(entry.image) },
        layers: [],
      });
    }
    if (state.portal !== undefined) return void res.writeHead(200, { 'Content-Type': 'text/html' }).end(state.portal);
    const found = name === undefined ? undefined : state.tags.get(name);
    if (found === undefined) {
      return json(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] });
    }
    json(res, 200, { name, tags: found });
  });
  return Object.assign(state, { registry: served.address, close: () => served.close() });
}

/**
 * For a test file: one tag server, a HOME, and before each test an empty engine in memory,
 * no tags and no failure. `fixture.repository` is `<server>/team/app`.
 */
export function useTagServer(prefix: string) {
  const fixture = {} as { home: string; server: TagServer; engine: FakeEngine; repository: string };
  beforeAll(async () => {
    fixture.home = await mkdtemp(join(tmpdir(), prefix));
    fixture.server = await startTagServer();
  });
  afterAll(async () => {
    await fixture.server.close();
    await rm(fixture.home, { recursive: true, force: true });
  });
  beforeEach(() => {
    fixture.engine = createFakeEngine();
    fixture.server.tags.clear();
    fixture.server.failWith = undefined;
    fixture.server.portal = undefined;
    fixture.server.manifests.clear();
    fixture.server.manifestRequests.length = 0;
    fixture.repository = `${fixture.server.registry}/team/app`;
  });
  return fixture;
}
