/**
 * The one registry call the locator makes, `GET /v2/<name>/tags/list`, answered by a tiny
 * HTTP server on 127.0.0.1 in the test's process: for unit tests of what is done with the
 * tags (tests/unit/list-remote-tags.test.ts covers the protocol, tests/integration the real
 * registry).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TagServer {
  /** `127.0.0.1:<port>`, as in an image reference. */
  registry: string;
  /** Tags per repository path (`team/app`); absent: NAME_UNKNOWN. */
  tags: Map<string, string[]>;
  /** Answer every request with this status instead (e.g. 503). */
  failWith?: number;
  /** Answer every request with this HTML page and status 200 instead, as a captive portal does. */
  portal?: string;
  close(): Promise<void>;
}

export async function startTagServer(): Promise<TagServer> {
  const tags = new Map<string, string[]>();
  let failWith: number | undefined;
  let portal: string | undefined;
  const server = http.createServer((req, res) => {
    const name = /^\/v2\/(.+)\/tags\/list(?:\?|$)/.exec(req.url ?? '')?.[1];
    if (failWith !== undefined) {
      res.writeHead(failWith).end();
      return;
    }
    if (portal !== undefined) {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(portal);
      return;
    }
    const found = name === undefined ? undefined : tags.get(name);
    if (found === undefined) {
      res
        .writeHead(404, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ name, tags: found }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    registry: `127.0.0.1:${port}`,
    tags,
    get failWith() {
      return failWith;
    },
    set failWith(status: number | undefined) {
      failWith = status;
    },
    get portal() {
      return portal;
    },
    set portal(page: string | undefined) {
      portal = page;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
