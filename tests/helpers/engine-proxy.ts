// A stand-in for a remote Docker engine: a listener (TLS on 127.0.0.1 with client
// certificates required, or a plain unix socket) in front of the real engine's socket.
// It records the HTTP request lines it relays, so a test can see which client used it.
// The same relay, with a hold, lets a test stop a client at a state it can observe (a build
// request sent, a blob upload begun) instead of guessing a delay.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { listen } from './listen';

const ENGINE_SOCKET = '/var/run/docker.sock';
const REQUEST_LINE = /(?:^|\r\n)(GET|POST|PUT|PATCH|DELETE|HEAD) (\S+) HTTP\/1\.[01]\r\n/g;

export interface EngineProxy {
  /** `tcp://127.0.0.1:PORT` or `unix:///path`. */
  host: string;
  /** "METHOD /path" of every request relayed so far. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Requests whose "METHOD /path" matches `request` are held on their connection for as long as
 * the relay lives: with `part: 'request'` nothing of the request reaches the target; with
 * `part: 'response'` the request does, and its answer is kept from the client.
 */
export interface Hold {
  request: RegExp;
  part: 'request' | 'response';
}

export interface HoldingRelay {
  /** Resolves to the first held request's "METHOD /path". */
  held: Promise<string>;
}

type Connect = () => net.Socket;

function relay(
  client: net.Socket,
  connect: Connect,
  requests: string[],
  hold?: Hold,
  onHeld?: (line: string) => void,
): void {
  // Half-open both ways: `docker run -i` closes its side of the attach stream when stdin ends,
  // and the container's output still has to come back.
  const target = connect();
  let holding: Hold['part'] | undefined;
  client.on('data', (chunk: Buffer) => {
    if (holding === 'request') return;
    let forward = chunk;
    for (const match of chunk.toString('latin1').matchAll(REQUEST_LINE)) {
      const line = `${match[1]} ${match[2]}`;
      requests.push(line);
      if (holding || !hold?.request.test(line)) continue;
      holding = hold.part;
      onHeld?.(line);
      // Latin-1 keeps one character per byte: the index is the byte offset.
      if (holding === 'request') forward = chunk.subarray(0, match.index);
    }
    if (forward.length > 0 && !target.write(forward)) {
      client.pause();
      target.once('drain', () => client.resume());
    }
  });
  client.on('end', () => target.end());
  target.on('data', (chunk: Buffer) => {
    if (holding === 'response') return;
    if (!client.write(chunk)) {
      target.pause();
      client.once('drain', () => target.resume());
    }
  });
  target.on('end', () => {
    if (holding !== 'response') client.end();
  });
  client.on('error', () => target.destroy());
  target.on('error', () => client.destroy());
  client.on('close', () => target.destroy());
}

function closer(server: net.Server): () => Promise<void> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

/** A relay in front of the local engine, on a unix socket; with `hold`, it holds those requests. */
export async function startUnixEngineProxy(socketPath: string, hold?: Hold): Promise<EngineProxy & HoldingRelay> {
  const requests: string[] = [];
  let onHeld: (line: string) => void = () => undefined;
  const held = new Promise<string>((resolve) => (onHeld = resolve));
  const connect = () => net.connect({ path: ENGINE_SOCKET, allowHalfOpen: true });
  const server = net.createServer({ allowHalfOpen: true }, (client) => relay(client, connect, requests, hold, onHeld));
  const close = closer(server);
  await listen(server, socketPath);
  return { host: `unix://${socketPath}`, requests, close, held };
}

/** A plain-HTTP engine address, tcp://127.0.0.1:PORT, in front of the engine socket `socketPath` (default: the main engine's). */
export async function startTcpEngineRelay(socketPath: string = ENGINE_SOCKET): Promise<EngineProxy> {
  const requests: string[] = [];
  const connect = () => net.connect({ path: socketPath, allowHalfOpen: true });
  const server = net.createServer({ allowHalfOpen: true }, (client) => relay(client, connect, requests));
  const close = closer(server);
  const port = await listen(server);
  return { host: `tcp://127.0.0.1:${port}`, requests, close };
}

/** A relay on 127.0.0.1 in front of a TCP service there (a registry), holding `hold`'s requests. */
export async function startHoldingTcpRelay(
  targetAddress: string,
  hold: Hold,
): Promise<HoldingRelay & { address: string; close(): Promise<void> }> {
  const [host, port] = targetAddress.split(':');
  let onHeld: (line: string) => void = () => undefined;
  const held = new Promise<string>((resolve) => (onHeld = resolve));
  const connect = () => net.connect({ host, port: Number(port), allowHalfOpen: true });
  const server = net.createServer({ allowHalfOpen: true }, (client) => relay(client, connect, [], hold, onHeld));
  const close = closer(server);
  const listening = await listen(server);
  return { address: `127.0.0.1:${listening}`, held, close };
}

export async function startTlsEngineProxy(certs: TestCertificates): Promise<EngineProxy> {
  const requests: string[] = [];
  const server = tls.createServer(
    {
      key: await readFile(certs.serverKey),
      cert: await readFile(certs.serverCert),
      ca: await readFile(certs.ca),
      requestCert: true,
      rejectUnauthorized: true,
      allowHalfOpen: true,
    },
    (client) => relay(client, () => net.connect({ path: ENGINE_SOCKET, allowHalfOpen: true }), requests),
  );
  server.on('tlsClientError', () => {});
  const close = closer(server);
  const port = await listen(server);
  return { host: `tcp://127.0.0.1:${port}`, requests, close };
}

export interface TestCertificates {
  /** Holds ca.pem, cert.pem and key.pem (the client's), as DOCKER_CERT_PATH expects. */
  clientDir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
}

/** A throw-away CA, a server certificate for IP 127.0.0.1 and a client certificate (openssl). */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const openssl = (args: string[]) => promisify(execFile)('openssl', args, { cwd: dir });
  const file = (name: string) => path.join(dir, name);
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl([
    'req',
    '-x509',
    ...newKey,
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=run-docker test CA',
  ]);
  const issue = async (name: string, extensions: string) => {
    await writeFile(file(`${name}.ext`), extensions);
    await openssl(['req', ...newKey, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    await openssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${name}-cert.pem`,
      '-extfile',
      `${name}.ext`,
    ]);
  };
  await issue('server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await issue('client', 'extendedKeyUsage=clientAuth\n');
  const clientDir = path.join(dir, 'client');
  await mkdir(clientDir, { recursive: true });
  await writeFile(path.join(clientDir, 'ca.pem'), await readFile(file('ca.pem')));
  await writeFile(path.join(clientDir, 'cert.pem'), await readFile(file('client-cert.pem')));
  await writeFile(path.join(clientDir, 'key.pem'), await readFile(file('client-key.pem')));
  return { clientDir, ca: file('ca.pem'), serverCert: file('server-cert.pem'), serverKey: file('server-key.pem') };
}
