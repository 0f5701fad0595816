/**
 * Registries as the engine sees them (issue 11, item 4): a TLS registry with its own CA,
 * trusted through /etc/docker/certs.d/<host:port>/ca.crt as the engine trusts it; a wrong CA;
 * a TLS registry without certs.d; a plain-HTTP registry under a name that resolves into the
 * engine's InsecureRegistryCIDRs (127.0.0.0/8 on every engine), which the engine's /info says
 * to ask over http. Everything runs against the real engine and Debian's docker-registry.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { createDockerodeEngineClient } from '../helpers/dockerode-engine-client';
import type { BaseContext } from '../../contract/contract';
import { RunDockerError } from '../../common/run-docker-error';
import { findNewestTag } from '../../payload/locator/main';
import { ENGINE_CONFIG_CACHE_FILE } from '../../payload/locator/registry/host/read-engine-registry-config';
import { buildBusyboxImage, pushImage, removeImages } from '../helpers/fixtures';
import { failure, makeLocatorContext } from '../helpers/locator-context';
import { startRegistry, type TestRegistry } from '../helpers/registry';
import { makeHost, PACKAGE_VERSION, publish, removeHosts, runShim, stderrLines } from '../helpers/shim';

jest.setTimeout(120_000);

const RUN = `${process.pid}-${Date.now().toString(36)}`;
const REPO_PATH = `tls-test/app-${RUN}`;
const TAG = '20260101-000000';
const CERTS_D = '/etc/docker/certs.d';
const HOSTS = '/etc/hosts';
const INSECURE_NAME = `insecure-${RUN}.run-docker.test`;
const HOSTS_LINE = `127.0.0.1 ${INSECURE_NAME} # run-docker registry-tls.test ${RUN}`;

const engine = createDockerodeEngineClient(new Dockerode());
let work: string;
let home: string;
let tlsRegistry: TestRegistry;
let plainRegistry: TestRegistry;
let certsFolder: string;
const localRefs: string[] = [];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA and a certificate it signs for 127.0.0.1 (the registry's address). */
function makeCa(name: string): void {
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}-ca.key`,
    '-out',
    `${name}-ca.crt`,
    '-days',
    '2',
    '-subj',
    `/CN=run-docker test CA ${name}`,
  ]);
}

function makeContext(overrides: Partial<BaseContext> = {}) {
  return makeLocatorContext(engine, { HOME: home, RUN_DOCKER_REGISTRY_DEADLINE_MS: '600000' }, overrides);
}

async function removeHostsLine(): Promise<void> {
  const text = await readFile(HOSTS, 'utf8');
  const kept = text.split('\n').filter((line) => line !== HOSTS_LINE);
  if (kept.length !== text.split('\n').length) await writeFile(HOSTS, kept.join('\n'));
}

async function trustCa(name: string | undefined): Promise<void> {
  await rm(certsFolder, { recursive: true, force: true });
  if (name === undefined) return;
  await mkdir(certsFolder, { recursive: true });
  await writeFile(path.join(certsFolder, 'ca.crt'), await readFile(path.join(work, `${name}-ca.crt`)));
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'run-docker-tls-'));
  home = path.join(work, 'home');
  await mkdir(home);
  makeCa('good');
  makeCa('other');
  openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  ]);
  await writeFile(path.join(work, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'good-ca.crt',
    '-CAkey',
    'good-ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  ]);
  tlsRegistry = await startRegistry({
    tls: { cert: path.join(work, 'server.crt'), key: path.join(work, 'server.key') },
  });
  certsFolder = path.join(CERTS_D, tlsRegistry.address);
  await trustCa('good');
  plainRegistry = await startRegistry();
  await writeFile(HOSTS, `${(await readFile(HOSTS, 'utf8')).replace(/\n?$/, '\n')}${HOSTS_LINE}\n`);

  // Pushed through the engine (which reads the same certs.d), then removed from this host:
  // the tag is only in the registries, so finding it proves the registry was asked.
  for (const registry of [tlsRegistry, plainRegistry]) {
    const reference = `${registry.address}/${REPO_PATH}:${TAG}`;
    localRefs.push(reference);
    await buildBusyboxImage(reference);
    await pushImage(reference);
  }
  await removeImages(localRefs);
});

afterAll(async () => {
  await removeHosts();
  await removeHostsLine();
  if (certsFolder) await rm(certsFolder, { recursive: true, force: true });
  await removeImages(localRefs);
  await tlsRegistry?.remove();
  await plainRegistry?.remove();
  await rm(work, { recursive: true, force: true });
});

describe('a TLS registry with its own CA', () => {
  afterEach(() => trustCa('good'));

  it('is asked over https, trusting /etc/docker/certs.d/<host:port>/ca.crt as the engine does for a secure registry', async () => {
    const { ctx, warnings } = makeContext();
    expect(await findNewestTag(ctx, `${tlsRegistry.address}/${REPO_PATH}`)).toEqual({
      tag: TAG,
      presentLocally: false,
    });
    expect(warnings).toEqual([]);
  });

  it('with another CA in certs.d: one warning naming the certificate and the certs.d file, then the images on this host', async () => {
    await trustCa('other');
    const local = `${tlsRegistry.address}/${REPO_PATH}:20250101-000000`;
    await buildBusyboxImage(local);
    localRefs.push(local);
    const { ctx, warnings } = makeContext();
    expect(await findNewestTag(ctx, `${tlsRegistry.address}/${REPO_PATH}`)).toEqual({
      tag: '20250101-000000',
      presentLocally: true,
    });
    // Named for what it is, never a misleading "cannot reach": the fix is in the line.
    expect(warnings).toEqual([
      `the registry "${tlsRegistry.address}" presented a certificate this host does not trust (UNABLE_TO_VERIFY_LEAF_SIGNATURE; if it uses a private CA, put that CA in ${CERTS_D}/${tlsRegistry.address}/ca.crt); using the images of "${tlsRegistry.address}/${REPO_PATH}" on this host`,
    ]);
    await removeImages([local]);
  });

  it('without a certs.d folder: insecure for the engine, so http first, then https without checking the certificate, as dockerd does', async () => {
    await trustCa(undefined);
    const { ctx, warnings } = makeContext();
    expect(await findNewestTag(ctx, `${tlsRegistry.address}/${REPO_PATH}`)).toEqual({
      tag: TAG,
      presentLocally: false,
    });
    expect(warnings).toEqual([]);
  });
});

describe('a plain-HTTP registry under a name the engine treats as insecure', () => {
  it('is asked over http because /info lists 127.0.0.0/8 in InsecureRegistryCIDRs, and the answer is cached', async () => {
    const byName = `${INSECURE_NAME}:${plainRegistry.address.split(':')[1]}/${REPO_PATH}`;
    const cacheDir = path.join(work, 'cache');
    await mkdir(cacheDir, { mode: 0o700 });
    let infoCalls = 0;
    const counting = { ...engine, readInfo: () => (infoCalls++, engine.readInfo()) };
    const { ctx, warnings } = makeContext({ engine: counting, cacheDir });
    expect(await findNewestTag(ctx, byName)).toEqual({ tag: TAG, presentLocally: false });
    expect(warnings).toEqual([]);
    // A second call within the minute reads the engine's answer from the cache folder.
    expect(await findNewestTag(ctx, byName)).toEqual({ tag: TAG, presentLocally: false });
    expect(infoCalls).toBe(1);
    const cached = JSON.parse(await readFile(path.join(cacheDir, ENGINE_CONFIG_CACHE_FILE), 'utf8')) as {
      config: { engineId: string; insecureCidrs: string[] };
    };
    expect(cached.config.engineId).toBe(((await engine.readInfo()) as { ID: string }).ID);
    expect(cached.config.insecureCidrs).toContain('127.0.0.0/8');
  });

  it('with an engine whose /info fails, keeps the rule from before: https, which the plain-HTTP registry cannot serve, local images', async () => {
    const byName = `${INSECURE_NAME}:${plainRegistry.address.split(':')[1]}/${REPO_PATH}`;
    const withoutInfo = {
      ...engine,
      readInfo: () =>
        Promise.reject(Object.assign(new Error('(HTTP code 500) server error - boom '), { statusCode: 500 })),
    };
    const { ctx, warnings } = makeContext({ engine: withoutInfo });
    const error = await failure(findNewestTag(ctx, byName));
    expect(error.message).toMatch(
      /^no usable tag of ".*" among the images on this host \(the registry ".*" cannot be used over https \(it answers plain HTTP, and the engine treats it as secure\)\)$/,
    );
    expect(warnings).toHaveLength(1);
  });
});

describe('the shim, with its newest mini in a TLS registry with its own CA', () => {
  const MINI_VERSION = '20260103-000000';
  let host: Record<string, string>;
  let miniRepo: string;

  beforeAll(async () => {
    const tinyRepo = `${plainRegistry.address}/tls-test-${RUN}/tiny`;
    miniRepo = `${tlsRegistry.address}/tls-test-${RUN}/mini`;
    // Listed first: removed in afterAll even when publishing fails half-way.
    localRefs.push(`${tinyRepo}:${PACKAGE_VERSION}`, `${miniRepo}:${MINI_VERSION}`);
    const tiny = await publish('tiny', tinyRepo);
    localRefs.push(tiny);
    await publish('mini', miniRepo, ['--version', MINI_VERSION]);
    // The mini is in the registry only: the shim must find it there, over https.
    await removeImages([`${miniRepo}:${MINI_VERSION}`]);
    host = await makeHost({ RUN_DOCKER_TINY: tiny, RUN_DOCKER_MINI: miniRepo });
  });

  afterEach(() => trustCa('good'));

  it('finds, pulls and runs it, trusting the CA in certs.d', async () => {
    const outcome = await runShim(['--version'], host);
    expect({ code: outcome.code, stderr: stderrLines(outcome) }).toEqual({ code: 0, stderr: [] });
    expect(outcome.stdout).toContain(`mini ${miniRepo}:${MINI_VERSION}`);
  });

  it('with another CA in certs.d: one warning naming the certificate and the certs.d file, and the mini on this host runs', async () => {
    await trustCa('other');
    const outcome = await runShim(['--version'], host);
    // One object, so a failure shows the exit code and everything printed together.
    expect({ code: outcome.code, stderr: stderrLines(outcome) }).toEqual({
      code: 0,
      stderr: [
        `run-docker: warning: the registry "${tlsRegistry.address}" presented a certificate this host does not trust (UNABLE_TO_VERIFY_LEAF_SIGNATURE; if it uses a private CA, put that CA in ${CERTS_D}/${tlsRegistry.address}/ca.crt); using the images of "${miniRepo}" on this host`,
      ],
    });
    expect(outcome.stdout).toContain(`mini ${miniRepo}:${MINI_VERSION}`);
  });
});

describe('a TLS registry that asks for a client certificate', () => {
  let mtlsRegistry: TestRegistry;
  let folder: string;
  let reference: string;

  const writeFolder = async (withPair: boolean) => {
    await rm(folder, { recursive: true, force: true });
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'ca.crt'), await readFile(path.join(work, 'good-ca.crt')));
    if (!withPair) return;
    await writeFile(path.join(folder, 'client.cert'), await readFile(path.join(work, 'client.cert')));
    await writeFile(path.join(folder, 'client.key'), await readFile(path.join(work, 'client.key')));
  };

  beforeAll(async () => {
    makeCa('client');
    openssl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'client.key',
      '-out',
      'client.csr',
      '-subj',
      '/CN=run-docker test client',
    ]);
    openssl([
      'x509',
      '-req',
      '-in',
      'client.csr',
      '-CA',
      'client-ca.crt',
      '-CAkey',
      'client-ca.key',
      '-CAcreateserial',
      '-out',
      'client.cert',
      '-days',
      '2',
    ]);
    // dockerd ignores certs.d for an insecure (here: loopback) registry, so it cannot push
    // to one that wants a client certificate: the image goes in over plain HTTP first, and
    // the same storage is then served with TLS and client certificates.
    const storage = path.join(work, 'mtls-registry');
    const plain = await startRegistry({ dir: storage });
    reference = `${plain.address}/${REPO_PATH}:${TAG}`;
    localRefs.push(reference);
    await buildBusyboxImage(reference);
    await pushImage(reference);
    await removeImages([reference]);
    await plain.stop();
    mtlsRegistry = await startRegistry({
      dir: storage,
      tls: {
        cert: path.join(work, 'server.crt'),
        key: path.join(work, 'server.key'),
        clientCa: path.join(work, 'client-ca.crt'),
      },
    });
    folder = path.join(CERTS_D, mtlsRegistry.address);
  });

  afterAll(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
    await mtlsRegistry?.remove();
  });

  it('is asked with the NAME.cert + NAME.key pair of its certs.d folder, as the engine does for a secure registry', async () => {
    await writeFolder(true);
    const { ctx, warnings } = makeContext();
    expect(await findNewestTag(ctx, `${mtlsRegistry.address}/${REPO_PATH}`)).toEqual({
      tag: TAG,
      presentLocally: false,
    });
    expect(warnings).toEqual([]);
  });

  it('without the pair: one warning saying it asks for a client certificate and where the pair goes; with nothing on the host, no usable tag', async () => {
    await writeFolder(false);
    const { ctx, warnings } = makeContext();
    const error = await failure(findNewestTag(ctx, `${mtlsRegistry.address}/${REPO_PATH}`));
    expect(error).toBeInstanceOf(RunDockerError);
    const why = `the registry "${mtlsRegistry.address}" asks for a client certificate \\(ERR_SSL_[A-Z0-9_]+; put the client certificate and its key in ${CERTS_D}/${mtlsRegistry.address}/ as NAME.cert and NAME.key\\)`;
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^${why}; using the images of`))]);
    expect(error.message).toMatch(
      new RegExp(
        `^no usable tag of "${mtlsRegistry.address}/${REPO_PATH}" among the images on this host \\(${why}\\)$`,
      ),
    );
  });
});
