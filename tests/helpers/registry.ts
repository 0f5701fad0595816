// A real registry per test (Debian's docker-registry via scripts/registry) and a fast
// way to give an image many tags through the Registry HTTP API.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCommand } from './fixtures';

const REGISTRY_SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'registry');
const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';

export interface TestRegistry {
  /** `127.0.0.1:PORT`, usable in image references and URLs. */
  address: string;
  /** Holds config.yml, storage/, registry.log and registry.pid. */
  dir: string;
  /** Stops the registry and waits until it is gone; storage is kept until `remove`. */
  stop(): Promise<void>;
  /** Starts it again on the same address with the same storage. */
  restart(): Promise<void>;
  /** Stops it and deletes DIR. */
  remove(): Promise<void>;
  /** Credentials when started with `auth`. */
  auth?: RegistryCredentials;
}

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface StartRegistryOptions {
  /** A fixed port (a free one otherwise). */
  port?: number;
  /** Reuse this directory (and its storage) instead of a new temporary one. */
  dir?: string;
  /** Turn on basic auth with one user. */
  auth?: RegistryCredentials;
  /** Serve https only with this PEM certificate and key (files); with `clientCa`, ask clients for a certificate it signed. */
  tls?: { cert: string; key: string; clientCa?: string };
}

/** Starts a registry on 127.0.0.1 and resolves once `GET /v2/` answers. */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'run-docker-registry-')));
  const extraArgs: string[] = [];
  if (options.auth) {
    const line = await runRegistryScript(['htpasswd', options.auth.username, options.auth.password]);
    const htpasswd = path.join(dir, 'htpasswd');
    await writeFile(htpasswd, line);
    extraArgs.push('--htpasswd', htpasswd);
  }
  if (options.tls) extraArgs.push('--tls', options.tls.cert, options.tls.key);
  if (options.tls?.clientCa) extraArgs.push('--tls-client-ca', options.tls.clientCa);
  const startArgs = (port?: number) => [
    'start',
    dir,
    ...(port === undefined ? [] : ['--port', String(port)]),
    ...extraArgs,
  ];
  const address = (await runRegistryScript(startArgs(options.port))).trim();
  const port = Number(address.split(':')[1]);
  const stop = async () => {
    await runRegistryScript(['stop', dir]);
  };
  return {
    address,
    dir,
    auth: options.auth,
    stop,
    restart: async () => {
      await runRegistryScript(startArgs(port));
    },
    remove: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function runRegistryScript(args: string[]): Promise<string> {
  return (await runCommand(REGISTRY_SCRIPT, args, { check: true })).stdout;
}

/**
 * Tags REPO_PATH:FROM_TAG as each of TO_TAGS without the engine: fetch the manifest and
 * put it back under each new tag (OCI distribution spec, "Pushing Manifests"). Hundreds
 * of tags take a second.
 */
export async function tagInRegistry(
  address: string,
  repoPath: string,
  fromTag: string,
  toTags: string[],
  auth?: RegistryCredentials,
): Promise<void> {
  const headers: Record<string, string> = auth
    ? { Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` }
    : {};
  const base = `http://${address}/v2/${repoPath}/manifests/`;
  const response = await fetch(base + encodeURIComponent(fromTag), { headers: { ...headers, Accept: MANIFEST_V2 } });
  if (!response.ok) throw new Error(`GET ${base}${fromTag}: HTTP ${response.status} ${await response.text()}`);
  const contentType = response.headers.get('content-type') ?? MANIFEST_V2;
  // The exact bytes, so every tag points at the same digest.
  const manifest = Buffer.from(await response.arrayBuffer());
  const concurrency = 8;
  for (let start = 0; start < toTags.length; start += concurrency) {
    await Promise.all(
      toTags.slice(start, start + concurrency).map(async (tag) => {
        const put = await fetch(base + encodeURIComponent(tag), {
          method: 'PUT',
          headers: { ...headers, 'Content-Type': contentType },
          body: manifest,
        });
        if (put.status !== 201) throw new Error(`PUT ${base}${tag}: HTTP ${put.status} ${await put.text()}`);
      }),
    );
  }
}

const MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/**
 * Puts a manifest list under `repositoryPath:tag` naming the manifests of `entries` (tags
 * already pushed there), as `docker manifest push` puts one: what a multi-platform image is.
 */
export async function putManifestList(
  address: string,
  repositoryPath: string,
  tag: string,
  entries: Array<{ tag: string; platform: { os: string; architecture: string } }>,
): Promise<void> {
  const manifests = [];
  for (const entry of entries) {
    const answer = await fetch(`http://${address}/v2/${repositoryPath}/manifests/${entry.tag}`, {
      headers: { Accept: MANIFEST_V2 },
    });
    const body = await answer.arrayBuffer();
    manifests.push({
      mediaType: MANIFEST_V2,
      size: body.byteLength,
      digest: answer.headers.get('docker-content-digest'),
      platform: entry.platform,
    });
  }
  const put = await fetch(`http://${address}/v2/${repositoryPath}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'Content-Type': MANIFEST_LIST },
    body: JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_LIST, manifests }),
  });
  if (put.status !== 201) throw new Error(`PUT of the manifest list: HTTP ${put.status} ${await put.text()}`);
}
