// A stand-in for a remote Docker engine: a listener (TLS on 127.0.0.1 with client
// certificates required, or a plain unix socket) in front of the real engine's socket.
// It records the HTTP request lines it relays, so a test can see which client used it.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';

const ENGINE_SOCKET = '/var/run/docker.sock';
const REQUEST_LINE = /(?:^|\r\n)(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP\/1\.[01]\r\n/g;

export interface EngineProxy {
  /** `tcp://127.0.0.1:PORT` or `unix:///path`. */
  host: string;
  /** "METHOD /path" of every request relayed so far. */
  requests: string[];
  close(): Promise<void>;
}

function relay(client: net.Socket, requests: string[]): void {
  // Half-open both ways: `docker run -i` closes its side of the attach stream when stdin ends,
  // and the container's output still has to come back.
  const engine = net.connect({ path: ENGINE_SOCKET, allowHalfOpen: true });
  client.on('data', (chunk: Buffer) => {
    for (const match of chunk.toString('latin1').matchAll(REQUEST_LINE)) requests.push(`${match[1]} ${match[2]}`);
  });
  client.pipe(engine).pipe(client);
  client.on('error', () => engine.destroy());
  engine.on('error', () => client.destroy());
}

async function listen(server: net.Server, where: { port: number; host: string } | string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where as never, resolve);
  });
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

export async function startUnixEngineProxy(socketPath: string): Promise<EngineProxy> {
  const requests: string[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (client) => relay(client, requests));
  const close = closer(server);
  await listen(server, socketPath);
  return { host: `unix://${socketPath}`, requests, close };
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
    (client) => relay(client, requests),
  );
  server.on('tlsClientError', () => {});
  const close = closer(server);
  await listen(server, { port: 0, host: '127.0.0.1' });
  const { port } = server.address() as net.AddressInfo;
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
