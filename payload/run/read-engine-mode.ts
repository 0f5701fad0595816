/**
 * Which engine runs the container, and how its user ids relate to the host's: that decides
 * who the container runs as (build-run-spec.ts) and which CLI starts it (select-engine-cli.ts).
 *
 * - The kind and version come from the headers of an answer the shim's client already had
 *   (EngineClient.identify): no request.
 * - Rootless or not comes from the engine itself: dockerd lists `name=rootless` (and
 *   `name=userns` for userns-remap) in /info's SecurityOptions; Podman says
 *   `host.security.rootless` and its id mappings in its own /info (its Docker-compatible
 *   /info does not). Podman takes ~0.6 s to answer, dockerd 20–60 ms, so the answer is kept
 *   in the payload cache per engine: keyed by the endpoint, the engine's name and version, and
 *   for a local socket its device, inode and change time (a new daemon makes a new socket).
 *   A warm call asks nothing.
 * - Whose files a rootless engine's uid 0 writes: Podman's id mappings say it; a local
 *   socket's owner is the user the engine runs as (only that user can have created it).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineClient, EngineIdentity, Logger } from '../../contract/contract';
import { readEngineEndpoint } from '../../common/engine/read-engine-endpoint';
import { loadDockerConfig } from '../../common/load-docker-config';
import { plainUnixSocketPath } from '../../common/engine/select-engine-endpoint';
import { ignoreFailure } from '../../common/ignore-failure';
import { checkPrivateDir, makeDirs } from '../../common/private-dir';
import { currentUser, readPrivateFile } from '../../common/read-private-file';
import { writeFileAtomically } from '../../common/write-file-atomically';

export const ENGINE_MODE_CACHE_FILE = 'engine-mode.json';
/** An engine behind a local socket keeps its mode while the socket stays; anything else is asked again after this. */
export const ENGINE_MODE_TTL_MS = { socket: 60 * 60_000, remote: 60_000 } as const;
const MAX_ENTRIES = 8;

export interface UserIdFacts {
  /** The engine runs without root privileges: its uid 0 is the user who started it. */
  rootless: boolean;
  /** For a rootless engine, the host uid its uid 0 is, when the engine says (Podman's id mappings). */
  rootUid?: number;
  /** dockerd's userns-remap: every container id lands shifted on the host. */
  remapsIds: boolean;
}

export interface EngineMode extends UserIdFacts {
  identity: EngineIdentity;
  /** The engine's address (`unix:///…`, `tcp://…`). */
  host: string;
  /** For an engine behind a socket on this host: the socket's owner. */
  socketOwner?: number;
  /** Whether the engine shares this host's file system (a local socket): bind mounts name folders here. */
  local: boolean;
}

/** Pure: dockerd's /info (or Podman's Docker-compatible one, which lists neither). */
export function parseDockerUserIds(info: unknown): UserIdFacts {
  const options = (info as { SecurityOptions?: unknown } | null)?.SecurityOptions;
  const names = (Array.isArray(options) ? options : [])
    .filter((option): option is string => typeof option === 'string')
    .map((option) => /(?:^|,)name=([^,]+)/.exec(option)?.[1]);
  return { rootless: names.includes('rootless'), remapsIds: names.includes('userns') };
}

/** Pure: Podman's own /info (`host.security.rootless`, `host.idMappings.uidmap`). */
export function parsePodmanUserIds(info: unknown): UserIdFacts | undefined {
  const host = (info as { host?: { security?: { rootless?: unknown }; idMappings?: { uidmap?: unknown } } } | null)
    ?.host;
  const rootless = host?.security?.rootless;
  if (typeof rootless !== 'boolean') return undefined;
  const uidmap = Array.isArray(host?.idMappings?.uidmap) ? (host.idMappings.uidmap as unknown[]) : [];
  const root = uidmap.find((entry) => (entry as { container_id?: unknown } | null)?.container_id === 0) as
    { host_id?: unknown } | undefined;
  const rootUid = typeof root?.host_id === 'number' ? root.host_id : undefined;
  return { rootless, remapsIds: false, ...(rootless && rootUid !== undefined ? { rootUid } : {}) };
}

interface CacheEntry {
  key: string;
  fetchedAt: number;
  facts: UserIdFacts;
}

/** Pure: the cache key of an engine: where, what, and for a local socket which socket. */
export function engineModeKey(host: string, identity: EngineIdentity, socket: SocketFacts | undefined): string {
  const stamp = socket ? `${socket.dev}:${socket.ino}:${socket.ctimeMs}` : '';
  return `${host}|${identity.kind}/${identity.version}|${stamp}`;
}

export interface SocketFacts {
  dev: number;
  ino: number;
  ctimeMs: number;
  uid: number;
}

export interface ReadEngineModeOptions {
  engine: EngineClient;
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string;
  /** The endpoint the shim used (older shims do not say: then as the docker CLI would choose it). */
  endpointHost?: string;
  cacheDir?: string;
  log?: Logger;
  now?: () => number;
}

export async function readEngineMode(options: ReadEngineModeOptions): Promise<EngineMode> {
  const { engine, log } = options;
  const now = options.now ?? Date.now;
  const host =
    options.endpointHost ??
    (await loadDockerConfig(options.env, options.homeDir)
      .then((dockerConfig) => readEngineEndpoint(options.env, dockerConfig))
      .then(
        (endpoint) => endpoint.host,
        () => '',
      ));
  // Shims before identify() speak only to the engines they knew: Docker's.
  const identity: EngineIdentity = (await engine.identify?.()) ?? { kind: 'other', version: '' };
  const socketPath = plainUnixSocketPath(host);
  const socket = socketPath === undefined ? undefined : readSocketFacts(socketPath);
  const base = {
    identity,
    host,
    local: socket !== undefined,
    ...(socket ? { socketOwner: socket.uid } : {}),
  };
  const key = engineModeKey(host, identity, socket);
  const ttl = socket ? ENGINE_MODE_TTL_MS.socket : ENGINE_MODE_TTL_MS.remote;
  // What is cached decides who the container runs as: only a folder nobody else can write
  // (image-user.ts checks and reports the same folder).
  const usable =
    options.cacheDir !== undefined &&
    (await checkPrivateDir(options.cacheDir, currentUser()?.uid)).state !== 'unusable';
  const file = usable && options.cacheDir ? join(options.cacheDir, ENGINE_MODE_CACHE_FILE) : undefined;
  const entries = file ? await readEntries(file) : [];
  const cached = entries.find((entry) => entry.key === key);
  const age = cached ? now() - cached.fetchedAt : -1;
  if (cached && age >= 0 && age < ttl) {
    log?.debug(`engine ${describeIdentity(identity)} at ${host}: ${describeIds(cached.facts)} (cached ${age} ms ago)`);
    return { ...base, ...cached.facts };
  }
  const facts = await askEngine(engine, identity);
  log?.debug(`engine ${describeIdentity(identity)} at ${host}: ${describeIds(facts)}`);
  if (file && options.cacheDir)
    await ignoreFailure(
      makeDirs(options.cacheDir).then(() =>
        writeFileAtomically(
          file,
          JSON.stringify(
            [{ key, fetchedAt: now(), facts }, ...entries.filter((entry) => entry.key !== key)].slice(0, MAX_ENTRIES),
          ),
        ),
      ),
      'the cache only saves asking the engine again',
      log,
    );
  return { ...base, ...facts };
}

/** `podman 4.3.1`, `docker 20.10.24+dfsg1`, `an engine that does not say what it is`. */
export function describeIdentity(identity: EngineIdentity): string {
  if (identity.kind === 'other') return 'that does not say what it is';
  return `${identity.kind === 'podman' ? 'Podman' : 'Docker'} ${identity.version}`.trim();
}

function describeIds(facts: UserIdFacts): string {
  if (facts.rootless)
    return `rootless${facts.rootUid === undefined ? '' : ` (its uid 0 is host uid ${facts.rootUid})`}`;
  return facts.remapsIds ? 'rootful, remapping user ids (userns-remap)' : 'rootful';
}

async function askEngine(engine: EngineClient, identity: EngineIdentity): Promise<UserIdFacts> {
  if (identity.kind === 'podman' && engine.readPodmanInfo) {
    const facts = parsePodmanUserIds(await engine.readPodmanInfo());
    if (facts) return facts;
  }
  return parseDockerUserIds(await engine.readInfo());
}

function readSocketFacts(path: string): SocketFacts | undefined {
  try {
    const { dev, ino, ctimeMs, uid } = statSync(path);
    return { dev, ino, ctimeMs, uid };
  } catch {
    return undefined;
  }
}

async function readEntries(file: string): Promise<CacheEntry[]> {
  try {
    const bytes = await readPrivateFile(file, { maxBytes: 64 * 1024 });
    const value = bytes ? (JSON.parse(bytes.toString('utf8')) as unknown) : [];
    // Rebuilt field by field: nothing else in the file reaches a decision.
    return (Array.isArray(value) ? value.filter(isEntry) : []).map(({ key, fetchedAt, facts }) => ({
      key,
      fetchedAt,
      facts: {
        rootless: facts.rootless,
        remapsIds: facts.remapsIds,
        ...(facts.rootUid === undefined ? {} : { rootUid: facts.rootUid }),
      },
    }));
  } catch {
    // A broken cache is asked again, never trusted.
    return [];
  }
}

function isEntry(value: unknown): value is CacheEntry {
  const entry = value as Partial<CacheEntry> | null;
  const facts = entry?.facts as Partial<UserIdFacts> | undefined;
  return (
    typeof entry?.key === 'string' &&
    typeof entry.fetchedAt === 'number' &&
    typeof facts?.rootless === 'boolean' &&
    typeof facts.remapsIds === 'boolean' &&
    (facts.rootUid === undefined || Number.isInteger(facts.rootUid))
  );
}
