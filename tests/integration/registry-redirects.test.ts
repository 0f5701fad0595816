/**
 * Redirects a registry sends, against the real engine and registry (issue 19, item 2): an
 * https registry that sends the request on to plain http on the same host must not get the
 * password in clear text. `https://h` and `http://h` share URL.host, not the origin.
 *
 * The real registry cannot redirect, so a stand-in does, on the default ports of a loopback
 * address of its own (127.x.y.z:443 with TLS, trusted through ~/.docker/certs.d as the
 * engine trusts a registry, and 127.x.y.z:80 in plain http): it asks for Basic credentials,
 * and answers the request that carries them with a 302 to the same path over http. The
 * plain listener records what reaches it and passes the request on to the real registry.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { createDockerodeEngineClient } from '../helpers/dockerode-engine-client';
import { findNewestTag } from '../../payload/locator/main';
import { makeCertificates } from '../helpers/certificates';
import { buildBusyboxImage, docker, pushImage, removeImages } from '../helpers/fixtures';
import { mapHostName } from '../helpers/hosts-file';
import { makeLocatorContext } from '../helpers/locator-context';
import { startRegistry, type TestRegistry } from '../helpers/registry';

jest.setTimeout(120_000);

const RUN = `${process.pid}-${Date.now().toString(36)}`;
const REPO_PATH = `redirect-test/app-${RUN}`;
const OLD = '20260101-000000';
const NEW = '20260201-000000';
const PASSWORD = `pw-${RUN}`;
/** A loopback address of this file's own, so that ports 443 and 80 are free on it. */
const ADDRESS = `127.${100 + (process.pid % 150)}.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
const NAME = `redirect-${RUN}.run-docker.test`;

const engine = createDockerodeEngineClient(new Dockerode());
let registry: TestRegistry;
let work: string;
let unmapHostName: (() => Promise<void>) | undefined;
const servers: http.Server[] = [];
const localRefs: string[] = [];
/** The Authorization header of each request that reached plain http ('-' for none). */
const plainAuthorizations: string[] = [];

async function listen(server: http.Server, port: number): Promise<void> {
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ADDRESS, resolve);
  });
}

/** A HOME whose docker config holds a password for `registry`, and whose certs.d trusts the test CA for it. */
async function makeHome(registryName: string): Promise<string> {
  const home = await mkdtemp(join(work, 'home-'));
  await mkdir(join(home, '.docker', 'certs.d', registryName), { recursive: true });
  await writeFile(join(home, '.docker', 'certs.d', registryName, 'ca.crt'), await readFile(join(work, 'ca.crt')));
  const auth = Buffer.from(`team:${PASSWORD}`).toString('base64');
  await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { [registryName]: { auth } } }));
  return home;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'run-docker-redirect-'));
  registry = await startRegistry();
  await makeCertificates(work, NAME, ADDRESS);
  unmapHostName = await mapHostName(NAME, ADDRESS, `registry-redirects test ${RUN}`);

  // NEW only in the registry; OLD only on this host, under both names the tests use.
  const pushed = `${registry.address}/${REPO_PATH}:${NEW}`;
  await buildBusyboxImage(pushed);
  await pushImage(pushed);
  for (const name of [NAME, ADDRESS]) {
    const local = `${name}/${REPO_PATH}:${OLD}`;
    expect((await docker(['tag', pushed, local])).code).toBe(0);
    localRefs.push(local);
  }
  await removeImages([pushed]);

  const tls = { cert: await readFile(join(work, 'server.crt')), key: await readFile(join(work, 'server.key')) };
  await listen(
    https.createServer(tls, (req, res) => {
      if (!req.headers.authorization) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="stand-in"' }).end();
        return;
      }
      // The same host (Host has no port: 443), over plain http (port 80).
      res.writeHead(302, { Location: `http://${req.headers.host}${req.url}` }).end();
    }),
    443,
  );
  await listen(
    http.createServer((req, res) => {
      plainAuthorizations.push(req.headers.authorization ?? '-');
      const upstream = http.get(`http://${registry.address}${req.url}`, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.writeHead(502).end());
    }),
    80,
  );
});

afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await unmapHostName?.();
  await removeImages(localRefs);
  await registry?.remove();
  await rm(work, { recursive: true, force: true });
});

beforeEach(() => {
  plainAuthorizations.length = 0;
});

/** findNewestTag of REPO_PATH in `registryName`, from a HOME that has a password and the CA for it. */
async function findNewestAs(registryName: string) {
  const { ctx, warnings } = makeLocatorContext(engine, {
    HOME: await makeHome(registryName),
    RUN_DOCKER_REGISTRY_DEADLINE_MS: '600000',
  });
  return { found: await findNewestTag(ctx, `${registryName}/${REPO_PATH}`), warnings };
}

test('an https registry by name that redirects to plain http on the same host: refused, the password never leaves; one warning, the local image', async () => {
  const { found, warnings } = await findNewestAs(NAME);
  expect(found).toEqual({ tag: OLD, presentLocally: true });
  expect(plainAuthorizations).toEqual([]);
  expect(warnings).toEqual([
    `the registry "${NAME}" sent a redirect run-docker does not follow (a redirect from https://${NAME} to plain http://${NAME}); using the images of "${NAME}/${REPO_PATH}" on this host`,
  ]);
});

test('a redirect to plain http on a loopback address is followed, without the credentials', async () => {
  // The registry behind the plain listener needs no login: the tag list arrives anyway.
  const { found, warnings } = await findNewestAs(ADDRESS);
  expect(found).toEqual({ tag: NEW, presentLocally: false });
  expect(plainAuthorizations).toEqual(['-']);
  expect(warnings).toEqual([]);
});
