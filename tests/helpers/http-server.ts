/**
 * Small HTTP servers on loopback addresses in the test's own process, standing in for a
 * registry, its token service, or what they redirect to, where a case cannot be staged on
 * the real registry (tests/integration covers that one). Each remembers what it was asked.
 * A test file closes them with `afterEach(closeHttpServers)`.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

export interface TestServer {
  /** `127.0.0.1:PORT`, as in an image reference. */
  address: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** Request targets (`/v2/…?…`), in order. */
  requests: string[];
  /** The Authorization header of each request, in order. */
  authorizations: Array<string | undefined>;
  close(): Promise<void>;
}

const open = new Set<TestServer>();

/** Listens on `host` (another loopback address, e.g. 127.0.0.2, is another origin) at a free port. */
export async function serveHttp(handler: Handler, host = '127.0.0.1'): Promise<TestServer> {
  const requests: string[] = [];
  const authorizations: Array<string | undefined> = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    authorizations.push(req.headers.authorization);
    handler(req, res, new URL(req.url ?? '/', 'http://placeholder'));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = `${host}:${(server.address() as AddressInfo).port}`;
  const served: TestServer = {
    address,
    origin: `http://${address}`,
    requests,
    authorizations,
    close: () => {
      open.delete(served);
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  open.add(served);
  return served;
}

export async function closeHttpServers(): Promise<void> {
  await Promise.all([...open].map((served) => served.close()));
}

/** Answers with `body` as JSON (a string is sent as it is) and `status`. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}
