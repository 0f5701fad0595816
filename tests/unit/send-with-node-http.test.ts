import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, sendWithNodeHttp } from '../../payload/locator/registry/transport/send-with-node-http';
import { closeHttpServers, serveHttp } from '../helpers/http-server';

const limits = { timeoutMs: 2000, maxBodyBytes: 1024 };

/** `http://host:port` of a server on `host` answering with `handler`. */
async function serve(host: string, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  return (await serveHttp(handler, host)).origin;
}

afterEach(closeHttpServers);

describe('sendWithNodeHttp', () => {
  it('returns status, headers and body, sending method, headers and body', async () => {
    const base = await serve('127.0.0.1', (req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        res.setHeader('Link', '</next>; rel="next"');
        res.end(`${req.method} ${req.headers.accept} ${body}`);
      });
    });
    const answer = await sendWithNodeHttp(
      `${base}/x`,
      { method: 'POST', headers: { Accept: 'a/b' }, body: 'hi' },
      limits,
    );
    expect(answer).toEqual({ status: 200, headers: expect.anything() as unknown, text: 'POST a/b hi' });
    expect(answer.headers.get('LINK')).toBe('</next>; rel="next"');
    expect(answer.headers.get('missing')).toBeNull();
  });

  it('follows redirects, keeping credentials on the same host and dropping them for another', async () => {
    const seen: Array<string | undefined> = [];
    const other = await serve('127.0.0.2', (req, res) => {
      seen.push(req.headers.authorization);
      res.end('other');
    });
    const base = await serve('127.0.0.1', (req, res) => {
      seen.push(req.headers.authorization);
      if (req.url === '/start') res.writeHead(307, { Location: '/same' }).end();
      else res.writeHead(302, { Location: `${other}/away` }).end();
    });
    const answer = await sendWithNodeHttp(`${base}/start`, { headers: { Authorization: 'Bearer secret' } }, limits);
    expect(answer.text).toBe('other');
    expect(seen).toEqual(['Bearer secret', 'Bearer secret', undefined]);
  });

  it('turns a 302 of a POST into a GET without its body: the refresh-token form never reaches another host', async () => {
    const seen: string[] = [];
    const other = await serve('127.0.0.2', (req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        seen.push(`${req.method} ${req.headers['content-type'] ?? '-'} ${req.headers.authorization ?? '-'} [${body}]`);
        res.end('{"token": "t"}');
      });
    });
    const auth = await serve('127.0.0.1', (req, res) => {
      req.resume();
      res.writeHead(302, { Location: `${other}/token` }).end();
    });
    const answer = await sendWithNodeHttp(
      `${auth}/token`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: 'Basic c2VjcmV0' },
        body: 'grant_type=refresh_token&refresh_token=identity-secret',
      },
      limits,
    );
    expect(answer.text).toBe('{"token": "t"}');
    expect(seen).toEqual(['GET - - []']);
  });

  it('stops an endless body and a server that never answers', async () => {
    const big = await serve('127.0.0.1', (_req, res) => res.end('x'.repeat(4096)));
    await expect(sendWithNodeHttp(big, {}, limits)).rejects.toBeInstanceOf(BodyTooLargeError);
    const silent = await serve('127.0.0.1', () => undefined);
    await expect(sendWithNodeHttp(silent, {}, { ...limits, timeoutMs: 200 })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });

  it('rejects with the system error code when nothing listens', async () => {
    await expect(sendWithNodeHttp('http://127.0.0.1:1/', {}, limits)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
