// A forward proxy on 127.0.0.1, as a corporate one behaves: CONNECT tunnels for https,
// absolute-URI requests for plain http, optionally Basic credentials (407 without them).
// Every request it is asked to carry is logged, in the order it came.
import http from 'node:http';
import https from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface ForwardProxy {
  /** `http://127.0.0.1:PORT` (`https://` with `tls`) */
  url: string;
  /** One line per request: `CONNECT host:port` or `GET http://host:port/path` (with ` 407` when refused). */
  log: string[];
  /** The Proxy-Authorization headers it was sent, in order (undefined when none). */
  authorizations: Array<string | undefined>;
  /** Connections clients opened to it. */
  connections(): number;
  close(): Promise<void>;
}

export interface ForwardProxyOptions {
  /** Answer 407 unless these are sent as Proxy-Authorization: Basic. */
  credentials?: { username: string; password: string };
  /** Serve the proxy itself over TLS (an `https://` proxy) with this certificate and key. */
  tls?: { cert: Buffer; key: Buffer };
}

export async function startForwardProxy(options: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const log: string[] = [];
  const authorizations: Array<string | undefined> = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const expected = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`
    : undefined;
  const allowed = (req: http.IncomingMessage) => {
    authorizations.push(req.headers['proxy-authorization']);
    return expected === undefined || req.headers['proxy-authorization'] === expected;
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!allowed(req)) {
      log.push(`${req.method} ${req.url} 407`);
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="test-proxy"' }).end();
      return;
    }
    log.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '/');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const upstream = http.request(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  };
  const server = options.tls ? https.createServer(options.tls, handle) : http.createServer(handle);
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (req: http.IncomingMessage, client: Socket, head: Buffer) => {
    client.on('error', () => undefined);
    if (!allowed(req)) {
      log.push(`CONNECT ${req.url} 407`);
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test-proxy"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    log.push(`CONNECT ${req.url}`);
    const { hostname, port } = new URL(`http://${req.url}`);
    const upstream = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 443) }, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    authorizations,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
