import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  openProxyTunnel,
  ProxyFailure,
  requestThroughProxy,
} from '../../payload/locator/registry/transport/request-through-proxy';
import { sendWithNodeHttp } from '../../payload/locator/registry/transport/send-with-node-http';
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy';
import { closeHttpServers, serveHttp } from '../helpers/http-server';

const servers: Server[] = [];
const proxies: ForwardProxy[] = [];

/** `host:port` of a server that says what reached it: method, target, Host and any Proxy-Authorization. */
async function serve(): Promise<string> {
  const served = await serveHttp((req, res) =>
    res.end(
      `${req.method} ${req.url} host=${req.headers.host} proxy-auth=${req.headers['proxy-authorization'] ?? '-'}`,
    ),
  );
  return served.address;
}

async function proxy(options: Parameters<typeof startForwardProxy>[0] = {}): Promise<ForwardProxy> {
  const started = await startForwardProxy(options);
  proxies.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await closeHttpServers();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

const limits = { timeoutMs: 2000, maxBodyBytes: 4096 };

describe('openProxyTunnel', () => {
  it('opens a CONNECT tunnel to the target, sending the proxy credentials to the proxy only', async () => {
    const target = await serve();
    const forward = await proxy({ credentials: { username: 'me', password: 'p@ss' } });
    const proxyUrl = new URL(forward.url.replace('http://', 'http://me:p%40ss@'));
    const { hostname, port } = new URL(`http://${target}`);
    const tunnel = await openProxyTunnel(proxyUrl, hostname, Number(port), 2000);
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      tunnel.on('data', (chunk: Buffer) => (text += chunk.toString()));
      tunnel.on('end', () => resolve(text));
      tunnel.write(`GET /inside HTTP/1.1\r\nHost: ${target}\r\nConnection: close\r\n\r\n`);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(answer).toContain(`GET /inside host=${target} proxy-auth=-`);
    expect(forward.log).toEqual([`CONNECT ${target}`]);
    expect(forward.authorizations).toEqual([`Basic ${Buffer.from('me:p@ss').toString('base64')}`]);
  });

  it('rejects with a ProxyFailure naming the proxy, password hidden: refused connection, 407, 502', async () => {
    const refused = openProxyTunnel(new URL('http://me:secret@127.0.0.1:1'), 'registry.corp', 443, 2000);
    await expect(refused).rejects.toBeInstanceOf(ProxyFailure);
    await expect(refused).rejects.toMatchObject({
      proxy: 'http://me:xxxxx@127.0.0.1:1',
      reason: 'ECONNREFUSED',
      authentication: false,
    });

    const guarded = await proxy({ credentials: { username: 'me', password: 'right' } });
    await expect(
      openProxyTunnel(new URL(guarded.url.replace('http://', 'http://me:wrong@')), '127.0.0.1', 1, 2000),
    ).rejects.toMatchObject({
      reason: 'HTTP 407 Proxy Authentication Required to CONNECT 127.0.0.1:1',
      authentication: true,
    });

    const open = await proxy();
    await expect(openProxyTunnel(new URL(open.url), '127.0.0.1', 1, 2000)).rejects.toMatchObject({
      reason: 'HTTP 502 Bad Gateway to CONNECT 127.0.0.1:1',
    });
  });
});

describe('sendWithNodeHttp through a proxy', () => {
  it('sends a plain http URL as an absolute-URI request to the proxy, with Proxy-Authorization', async () => {
    const target = await serve();
    const forward = await proxy({ credentials: { username: 'me', password: 'pw' } });
    const proxyUrl = new URL(forward.url.replace('http://', 'http://me:pw@'));
    const answer = await sendWithNodeHttp(
      `http://${target}/v2/app/tags/list?n=1`,
      { headers: { Accept: 'application/json' } },
      { ...limits, proxyFor: () => proxyUrl },
    );
    expect(answer.status).toBe(200);
    // The proxy forwards it without its own credentials.
    expect(answer.text).toBe(`GET /v2/app/tags/list?n=1 host=${target} proxy-auth=-`);
    expect(forward.log).toEqual([`GET http://${target}/v2/app/tags/list?n=1`]);
    expect(forward.authorizations).toEqual([`Basic ${Buffer.from('me:pw').toString('base64')}`]);
  });

  it('asks for the proxy at every hop: a redirect to a host with no proxy goes direct', async () => {
    const direct = await serve();
    const start = (await serveHttp((_req, res) => res.writeHead(302, { Location: `http://${direct}/token` }).end()))
      .address;
    const forward = await proxy();
    const proxyFor = (url: URL) => (url.host === start ? new URL(forward.url) : undefined);
    const answer = await sendWithNodeHttp(`http://${start}/v2/`, {}, { ...limits, proxyFor });
    expect(answer.text).toBe(`GET /token host=${direct} proxy-auth=-`);
    expect(forward.log).toEqual([`GET http://${start}/v2/`]);
  });

  it('rejects with a ProxyFailure when the proxy is not there, for http and https URLs', async () => {
    const proxyFor = () => new URL('http://user:secret@127.0.0.1:1');
    await expect(sendWithNodeHttp('http://registry.corp/v2/', {}, { ...limits, proxyFor })).rejects.toMatchObject({
      name: 'ProxyFailure',
      proxy: 'http://user:xxxxx@127.0.0.1:1',
      reason: 'ECONNREFUSED',
    });
    await expect(sendWithNodeHttp('https://registry.corp/v2/', {}, { ...limits, proxyFor })).rejects.toMatchObject({
      name: 'ProxyFailure',
      reason: 'ECONNREFUSED',
    });
  });
});

describe('requestThroughProxy to an https registry', () => {
  it('speaks TLS to the registry inside the tunnel, with the TLS options given, and keeps the tunnel for the next request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-docker-tunnel-tls-'));
    try {
      // A self-signed certificate for "localhost", trusted through the `ca` option only.
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost',
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(join(dir, 'cert.pem'));
      const server = createTlsServer({ cert, key: readFileSync(join(dir, 'key.pem')) }, (req, res) =>
        res.end(`tls ${req.url}`),
      );
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      const forward = await proxy();
      const get = (path: string) =>
        new Promise<string>((resolve, reject) => {
          const req = requestThroughProxy(
            new URL(`https://localhost:${port}${path}`),
            new URL(forward.url),
            { method: 'GET', ca: cert } as never,
            2000,
            (res: IncomingMessage) => {
              let text = '';
              res.on('data', (chunk) => (text += chunk));
              res.on('end', () => resolve(text));
            },
          );
          req.on('error', reject);
          req.end();
        });
      expect(await get('/one')).toBe('tls /one');
      expect(await get('/two')).toBe('tls /two');
      expect(forward.log).toEqual([`CONNECT localhost:${port}`]);
      expect(forward.connections()).toBe(1);

      // An https:// proxy's own certificate is checked (against the system's CAs; not `ca`, which is the registry's).
      const tlsProxy = await proxy({ tls: { cert, key: readFileSync(join(dir, 'key.pem')) } });
      await expect(
        openProxyTunnel(new URL(tlsProxy.url.replace('127.0.0.1', 'localhost')), 'localhost', port, 2000),
      ).rejects.toMatchObject({
        name: 'ProxyFailure',
        reason: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      });
      expect(tlsProxy.log).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
