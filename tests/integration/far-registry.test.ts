/**
 * The far-registry proxy (scripts/far-registry.cjs) that the far benchmark and future
 * round-trip tests stand on: a registry RTT away that wants Bearer tokens. If it stopped
 * delaying, asking for tokens or counting, the bench would measure nothing.
 */
import http from 'node:http';
import https from 'node:https';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCertificates } from '../helpers/certificates';
import { startFarRegistry, type FarRegistry } from '../../scripts/far-registry.cjs';
import { buildBusyboxImage, docker, pushImage, removeImages } from '../helpers/fixtures';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { defined } from '../helpers/defined';

jest.setTimeout(120_000);

const RUN = `${process.pid}-${Date.now().toString(36)}`;
const REPO_PATH = `far-registry-test/app-${RUN}`;
const RTT_MS = 200;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** One GET; a fresh connection unless an agent that keeps them is given. */
function get(url: string, headers: Record<string, string> = {}, agent: http.Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    http
      .get(url, { headers, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: Date.now() - started }),
        );
      })
      .on('error', reject);
  });
}

let registry: TestRegistry;
let far: FarRegistry;
const images: string[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  far = await startFarRegistry({ upstream: registry.address, rttMs: RTT_MS });
  const direct = `${registry.address}/${REPO_PATH}:1.0.0`;
  await buildBusyboxImage(direct);
  images.push(direct);
  await pushImage(direct);
});

afterAll(async () => {
  await removeImages(images);
  await far?.close();
  await registry?.remove();
});

beforeEach(() => far.reset());

test('a request without a token gets a Bearer challenge naming the token service, and the token opens only its own repository', async () => {
  const tagsUrl = `http://${far.address}/v2/${REPO_PATH}/tags/list`;
  const challenged = await get(tagsUrl);
  expect(challenged.status).toBe(401);
  expect(challenged.headers['www-authenticate']).toBe(
    `Bearer realm="http://${far.address}/token",service="far-registry",scope="repository:${REPO_PATH}:pull"`,
  );

  const issued = await get(
    `http://${far.address}/token?service=far-registry&scope=${encodeURIComponent(`repository:${REPO_PATH}:pull`)}`,
  );
  expect(issued.status).toBe(200);
  const body = JSON.parse(issued.body) as { token: string };
  expect(body).toEqual({
    token: expect.any(String) as unknown,
    access_token: body.token,
    expires_in: 300,
    issued_at: expect.any(String) as unknown,
  });

  const listed = await get(tagsUrl, { Authorization: `Bearer ${body.token}` });
  expect(listed.status).toBe(200);
  expect(JSON.parse(listed.body)).toEqual({ name: REPO_PATH, tags: ['1.0.0'] });

  const elsewhere = await get(`http://${far.address}/v2/${REPO_PATH}-other/tags/list`, {
    Authorization: `Bearer ${body.token}`,
  });
  expect(elsewhere.status).toBe(401);
  expect(elsewhere.headers['www-authenticate']).toContain('error="insufficient_scope"');

  expect(far.counts()).toEqual({
    token: 1,
    '401': 2,
    'tags/list': 1,
    manifests: 0,
    blobs: 0,
    other: 0,
    connections: 4,
    resumed: 0,
  });
});

test('a request on an open connection costs one RTT, and the first on a new connection one more for the handshake', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const url = `http://${far.address}/v2/`;
    const first = await get(url, {}, agent);
    const second = await get(url, {}, agent);
    expect(far.counts().connections).toBe(1);
    // Lower bounds only: a loaded machine adds time, never takes it away.
    expect(first.ms).toBeGreaterThanOrEqual(2 * RTT_MS - 5);
    expect(second.ms).toBeGreaterThanOrEqual(RTT_MS - 5);
    expect(second.ms).toBeLessThan(2 * RTT_MS - 5);
  } finally {
    agent.destroy();
  }
});

test('the engine pulls through it: dockerd answers the challenge itself, and every request is counted', async () => {
  const viaFar = `${far.address}/${REPO_PATH}:1.0.0`;
  images.push(viaFar);
  const pulled = await docker(['pull', viaFar]);
  expect(pulled.stderr).toBe('');
  expect(pulled.code).toBe(0);
  expect((await docker(['image', 'inspect', '--format', '{{.Id}}', viaFar])).code).toBe(0);

  const requests = far.requests();
  const tokenRequests = requests.filter((r) => r.kind === 'token');
  expect(tokenRequests).toEqual([
    expect.objectContaining({
      method: 'GET',
      status: 200,
      path: expect.stringContaining(`scope=${encodeURIComponent(`repository:${REPO_PATH}:pull`)}`) as unknown,
    }),
  ]);
  // Everything after the token is served, none of it refused.
  const afterToken = requests.slice(requests.indexOf(defined(tokenRequests[0], 'a token request')) + 1);
  expect(afterToken.filter((r) => r.kind === 'manifests').length).toBeGreaterThanOrEqual(1);
  expect(afterToken.every((r) => r.status === 200)).toBe(true);
  expect(far.counts()['401']).toBeGreaterThanOrEqual(1);
});

test('with credentials set, the token service refuses anonymous and wrong logins and serves the right one', async () => {
  const guarded = await startFarRegistry({
    upstream: registry.address,
    rttMs: 10,
    credentials: { username: 'team', password: 's3cret' },
  });
  try {
    const tokenUrl = `http://${guarded.address}/token?service=far-registry&scope=${encodeURIComponent(`repository:${REPO_PATH}:pull`)}`;
    const basic = (user: string, password: string) => ({
      Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });
    expect((await get(tokenUrl)).status).toBe(401);
    expect((await get(tokenUrl, basic('team', 'wrong'))).status).toBe(401);
    const issued = await get(tokenUrl, basic('team', 's3cret'));
    expect(issued.status).toBe(200);
    const listed = await get(`http://${guarded.address}/v2/${REPO_PATH}/tags/list`, {
      Authorization: `Bearer ${(JSON.parse(issued.body) as { token: string }).token}`,
    });
    expect(listed.status).toBe(200);
  } finally {
    await guarded.close();
  }
});

describe('with tls: real TLS, every flight of the handshake a round trip', () => {
  let certificates: string;
  beforeAll(async () => {
    certificates = await mkdtemp(join(tmpdir(), 'run-docker-far-tls-'));
    await makeCertificates(certificates, 'far-registry.test', '127.0.0.1');
  });
  afterAll(() => rm(certificates, { recursive: true, force: true }));

  /** One https GET of /v2/ (a 401), trusting the test CA; `session` resumes an earlier one. */
  async function getOverTls(far: FarRegistry, agent: https.Agent, session?: Buffer) {
    const ca = await readFile(join(certificates, 'ca.crt'), 'utf8');
    return new Promise<{ status: number; ms: number; session: Buffer | undefined; challenge: string }>(
      (resolve, reject) => {
        const started = Date.now();
        let saved: Buffer | undefined;
        const req = https.get(
          `https://${far.address}/v2/`,
          { ca: [ca], agent, ...(session ? { session } : {}) },
          (res) => {
            res.resume();
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                ms: Date.now() - started,
                session: saved,
                challenge: String(res.headers['www-authenticate']),
              }),
            );
          },
        );
        req.on('socket', (socket) => socket.on('session', (value: Buffer) => (saved = value)));
        req.on('error', reject);
      },
    );
  }

  test.each([
    ['TLSv1.3' as const, 3],
    ['TLSv1.2' as const, 4],
  ])(
    '%s: a new connection costs TCP and the handshake before its first answer; a resumed TLS 1.2 session one round trip less',
    async (maxVersion, firstRtts) => {
      const tls = {
        cert: await readFile(join(certificates, 'server.crt'), 'utf8'),
        key: await readFile(join(certificates, 'server.key'), 'utf8'),
        maxVersion,
      };
      const far = await startFarRegistry({ upstream: registry.address, rttMs: RTT_MS, tls });
      // No session cache in the agents: only the session handed over resumes.
      const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 1, maxCachedSessions: 0 });
      const fresh = new https.Agent({ keepAlive: false, maxCachedSessions: 0 });
      try {
        const first = await getOverTls(far, keepAlive);
        const second = await getOverTls(far, keepAlive);
        const resumed = await getOverTls(far, fresh, first.session);
        expect([first.status, second.status, resumed.status]).toEqual([401, 401, 401]);
        expect(first.challenge).toContain(`realm="https://${far.address}/token"`);
        // Lower bounds only, as above; TLS 1.3 resumes in as many round trips as it connects.
        expect(first.ms).toBeGreaterThanOrEqual(firstRtts * RTT_MS - 5);
        expect(second.ms).toBeGreaterThanOrEqual(RTT_MS - 5);
        expect(second.ms).toBeLessThan(2 * RTT_MS - 5);
        expect(resumed.ms).toBeGreaterThanOrEqual(3 * RTT_MS - 5);
        if (maxVersion === 'TLSv1.2') expect(resumed.ms).toBeLessThan(4 * RTT_MS - 5);
        expect(far.counts()).toMatchObject({ '401': 3, connections: 2, resumed: 1 });
        expect(far.scheme).toBe('https');
      } finally {
        keepAlive.destroy();
        fresh.destroy();
        await far.close();
      }
    },
  );
});
