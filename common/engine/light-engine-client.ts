/**
 * The EngineClient (contract/engine-client.ts) over node:http: every call goes straight to
 * the Engine API, pulls too (pull-over-engine-api.ts), so that no run loads dockerode:
 * compiling and evaluating it was the largest part of the shim's start-up
 * (docs/decisions/light-engine-client.md). Errors keep dockerode's shape (`statusCode`,
 * `json`; Node's `code`/`syscall` for connection failures), which engine-error.ts explains.
 * Engine API: https://docs.docker.com/reference/api/engine/version/v1.41/
 */
import type http from 'node:http';
import type {
  BindSourcesAnswer,
  ContainerSummary,
  EngineClient,
  EnginePullOptions,
  ImageDetails,
} from '../../contract/engine-client';
import { loadHttp, loadHttps } from '../lazy-builtins';
import {
  engineTimeOf,
  formatEngineTime,
  indexFromList,
  judgeEventsSinceMark,
  repositoryOfName,
  type EngineImageIndex,
  type EventsVerdict,
} from './image-index';
import { parseEngineIdentity, type AnswerHeaders } from './parse-engine-identity';
import { answerTooLargeError, ENGINE_ANSWER_LIMIT_BYTES, getOverSocket } from './socket-get';

export interface EngineCall {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Resolve with the response stream instead of parsed JSON (exports, archives, a pull's progress). */
  stream?: boolean;
  /** Resolve with the answer's text instead of parsed JSON (the event log: one JSON object per line). */
  text?: boolean;
  /** Added to the request's (a pull's `X-Registry-Auth`). */
  headers?: Record<string, string>;
  /** Aborting it destroys the request, answered or not, and its stream. */
  signal?: AbortSignal;
  /**
   * False: no silence bound. A pull's stream is silent while the engine waits for a registry,
   * and pull-image.ts bounds a pull without progress itself.
   */
  idleTimeout?: false;
}

export type EngineRequest = (call: EngineCall) => Promise<unknown>;

/** An engine that accepts connections and never answers must not hang a call: 15 s is far
 *  above any healthy answer (milliseconds) and still short of a user giving up. */
export const DEFAULT_ENGINE_TIMEOUT_MS = 15_000;

/** Code of the error a call fails with when the engine is silent for `timeoutMs`
 *  (engine-error.ts turns it into one line naming the endpoint). */
export const ENGINE_TIMEOUT_CODE = 'ERR_RUN_DOCKER_ENGINE_TIMEOUT';

/**
 * How to reach an engine (create-engine-client.ts): a unix socket or named pipe; a tcp host
 * and port, with TLS material when `tls`; or `connect`, a stream to it made per connection
 * (ssh: dial-over-ssh.ts).
 */
export interface EngineConnection {
  socketPath?: string;
  host?: string;
  port?: number;
  tls?: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Carries TLS settings node:https takes only from an agent (no verification). */
  agent?: http.Agent;
  connect?: () => import('node:stream').Duplex;
}

/**
 * How to reach the engine (EngineConnection).
 * `timeoutMs` bounds silence on the connection: until the answer's headers, and between
 * any two chunks of its body, also of a stream handed to the caller (an export or archive
 * that stops in the middle). It is idleness, not a total: a 300 MB export that keeps
 * flowing is never cut. An answer read whole (JSON, and the words of a refusal) stops at
 * `maxAnswerBytes` (socket-get.ts); a stream is bounded by its reader (export-image-files.ts).
 * `seen` gets the headers that say which engine answered (parse-engine-identity.ts), from
 * every answer.
 */
export function createEngineRequest(
  options: EngineConnection,
  timeoutMs: number = DEFAULT_ENGINE_TIMEOUT_MS,
  maxAnswerBytes: number = ENGINE_ANSWER_LIMIT_BYTES,
  seen: AnswerHeaders = {},
): EngineRequest {
  const record = (header: (name: string) => string | undefined) => {
    const server = header('server');
    const libpod = header('libpod-api-version');
    if (server !== undefined) seen.server = server;
    if (libpod !== undefined) seen.libpodApiVersion = libpod;
  };
  const secure = options.tls === true;
  // Loaded on the first request that needs them: a warm call's one request, a plain GET over
  // the socket, needs neither (socket-get.ts); node:https (and node:tls) only for TLS engines.
  const loadRequest = () => (secure ? loadHttps() : loadHttp()).request;
  // servername '' on a socket: otherwise Node's agent tests the made-up host "localhost" for
  // an IP address, and compiling its IPv6 expression costs ~5 ms of every run.
  const { connect } = options;
  const target = options.socketPath
    ? { socketPath: options.socketPath, servername: '' }
    : connect
      ? // The made-up host name only fills the Host header; the stream goes where `connect` leads.
        { host: 'localhost', createConnection: () => connect() as unknown as import('node:net').Socket }
      : {
          host: options.host,
          port: options.port,
          ca: options.ca,
          cert: options.cert,
          key: options.key,
          agent: options.agent,
        };
  const { socketPath } = options;
  const getPlain =
    socketPath === undefined
      ? undefined
      : async (path: string, asText: boolean) => {
          const { status, headers, body } = await getOverSocket(
            socketPath,
            path,
            timeoutMs,
            () => engineTimeoutError('GET', path, timeoutMs),
            maxAnswerBytes,
          );
          record((name) => headers.get(name));
          const answer = readAnswer(status, body.toString('utf8'), formatCall('GET', path), asText);
          if ('error' in answer) throw answer.error;
          return answer.json;
        };
  return ({ method, path, body, stream, text, headers: extraHeaders, signal, idleTimeout }) => {
    if (getPlain && method === 'GET' && body === undefined && !stream && !extraHeaders)
      return getPlain(path, text === true);
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const headers: Record<string, string | number> = { Accept: 'application/json', ...extraHeaders };
      if (payload) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': payload.length });
      let response: http.IncomingMessage | undefined;
      const req = loadRequest()({ ...target, method, path, headers }, (res) => {
        response = res;
        record((name) => {
          const value = res.headers[name];
          return Array.isArray(value) ? value[0] : value;
        });
        const status = res.statusCode ?? 0;
        if (stream && status >= 200 && status < 300) {
          resolve(res);
          return;
        }
        // Read whole, so bounded: what answers may send without end (socket-get.ts).
        const chunks: Buffer[] = [];
        let length = 0;
        res.on('data', (chunk: Buffer) => {
          length += chunk.length;
          if (length <= maxAnswerBytes) return void chunks.push(chunk);
          const error = answerTooLargeError(method, path, maxAnswerBytes);
          reject(error);
          req.destroy(error);
        });
        res.on('error', reject);
        res.on('end', () => {
          const answer = readAnswer(
            status,
            Buffer.concat(chunks).toString('utf8'),
            formatCall(method, path),
            text === true,
          );
          if ('error' in answer) reject(answer.error);
          else resolve(answer.json);
        });
      });
      // The socket's idle timer: it runs while connecting, waiting and streaming alike.
      if (idleTimeout !== false) {
        req.setTimeout(timeoutMs, () => {
          const error = engineTimeoutError(method, path, timeoutMs);
          // A stream already handed over fails with this error where it is read; before that, the promise does.
          if (response) response.destroy(error);
          req.destroy(error);
        });
      }
      if (signal) {
        const abort = () => {
          const error = Object.assign(new Error('the request was cancelled'), { code: 'ABORT_ERR' });
          if (response) response.destroy(error);
          req.destroy(error);
        };
        if (signal.aborted) abort();
        else signal.addEventListener('abort', abort, { once: true });
      }
      req.on('error', reject);
      req.end(payload);
    });
  };
}

/** `GET /images/json`: the path without its query (filters can be long; the operation is what helps). */
function formatCall(method: string, path: string): string {
  return `${method} ${path.split('?')[0]}`;
}

function engineTimeoutError(method: string, path: string, timeoutMs: number): Error {
  const call = formatCall(method, path);
  return Object.assign(new Error(`the Docker engine did not answer within ${timeoutMs} ms (${call})`), {
    code: ENGINE_TIMEOUT_CODE,
    timeoutMs,
    call,
  });
}

/** An answer's JSON (its text when `asText`), or for a non-2xx status the error docker-modem would throw. */
function readAnswer(status: number, text: string, call: string, asText = false): { json: unknown } | { error: Error } {
  const ok = status >= 200 && status < 300;
  if (ok && asText) return { json: text };
  const json = parseJson(text);
  return ok ? { json } : { error: engineHttpError(status, json ?? text, call) };
}

/** The same error shape docker-modem builds for a non-2xx answer, and the call it answered (engine-error.ts names it). */
function engineHttpError(statusCode: number, json: unknown, call: string): Error {
  const said = typeof json === 'object' && json !== null && 'message' in json ? String(json.message) : String(json);
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${said} `), {
    statusCode,
    reason: 'unexpected',
    json,
    call,
  });
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A query string as dockerode writes one: objects (filters) as JSON, undefined left out. */
export function formatQuery(query: Record<string, unknown> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    // JSON for objects (filters), and the same text as String() for booleans and numbers.
    params.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** One entry of GET /images/json: enough to answer a tag list and an inspect of a name it carries. */
interface ImageSummary {
  Id?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Labels?: Record<string, string> | null;
  Size?: number;
}

/**
 * Pure: the image this exact name (`repo:tag` or `repo@sha256:…`, as formatLookupReference
 * writes them) stands for in the list, or undefined. The list carries all that ImageDetails
 * holds (ID, the config's labels, size), so an image the list names needs no inspect of its
 * own; any other name (a short ID, a familiar Docker Hub name) is left to GET /images/{name}/json.
 */
export function findListedImage(images: readonly ImageSummary[], name: string): ImageDetails | undefined {
  const byDigest = name.includes('@');
  const image = images.find((candidate) => (byDigest ? candidate.RepoDigests : candidate.RepoTags)?.includes(name));
  return image?.Id
    ? { id: image.Id, labels: image.Labels ?? {}, size: image.Size ?? 0, repoDigests: image.RepoDigests ?? [] }
    : undefined;
}

/**
 * The tags of exactly `repository` in these images' RepoTags, without duplicates. The tag
 * follows the last `:` (a registry port, `127.0.0.1:5000/…`, holds one too); `<none>:<none>`
 * never matches. The engine's own `reference` filter matches the familiar form only
 * (`docker.io/library/python` matches nothing on 20.10), and engines differ in whether its
 * RepoTags then lists only the matching names: so names are matched here, exactly.
 */
export function selectTagsOfRepository(images: readonly ImageSummary[], repository: string): string[] {
  const tags = new Set<string>();
  for (const image of images) {
    for (const repoTag of image.RepoTags ?? []) {
      const colon = repoTag.lastIndexOf(':');
      if (colon <= 0 || colon < repoTag.lastIndexOf('/')) continue;
      if (repoTag.slice(0, colon) === repository) tags.add(repoTag.slice(colon + 1));
    }
  }
  return [...tags];
}

/** GET /images/{name}/json's answer, as ImageDetails. */
export function toImageDetails(info: {
  Id: string;
  Config?: { Labels?: Record<string, string> | null } | null;
  Size?: number;
  RepoDigests?: string[] | null;
}): ImageDetails {
  return {
    id: info.Id,
    labels: info.Config?.Labels ?? {},
    size: info.Size ?? 0,
    repoDigests: Array.isArray(info.RepoDigests) ? info.RepoDigests.filter((entry) => typeof entry === 'string') : [],
  };
}

/** An answer of the engine that says "no such image" rather than "cannot answer". */
export function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number } | null)?.statusCode === 404;
}

/**
 * The create request of EngineClient.checkBindSources: each source bind-mounted read-only at
 * a target of its own, never started, no network, labelled as run-docker's own.
 */
export function bindSourcesProbe(image: string, sources: readonly string[]) {
  return {
    Image: image,
    Cmd: ['true'],
    Labels: { 'org.run-docker.probe': 'bind-sources' },
    NetworkDisabled: true,
    HostConfig: {
      Mounts: sources.map((source, index) => ({
        Type: 'bind' as const,
        Source: source,
        Target: `/run-docker-probe/${index}`,
        ReadOnly: true,
      })),
    },
  };
}

/**
 * The answer of a checkBindSources create: the engine's refusal as it gave it; a container
 * made after all is removed first (`remove`), since nothing may be left behind.
 */
export async function answerBindSources(
  create: () => Promise<string>,
  remove: (id: string) => Promise<void>,
): Promise<BindSourcesAnswer> {
  let id: string;
  try {
    id = await create();
  } catch (error) {
    const { statusCode, json } = error as { statusCode?: unknown; json?: unknown };
    if (typeof statusCode !== 'number') throw error;
    const message = (json as { message?: unknown } | null)?.message;
    return { statusCode, message: typeof message === 'string' ? message : typeof json === 'string' ? json : '' };
  }
  await remove(id);
  return { statusCode: 201, message: '' };
}

/** Every container with `label`, running or not: the query both clients send. */
export function containersWithLabel(label: string): { all: true; filters: { label: string[] } } {
  return { all: true, filters: { label: [label] } };
}

/**
 * Where the image index of this engine is kept (shim/image-index-file.ts). Given only for an
 * engine on this host's clock (a unix socket on Linux), since `until` is this host's time.
 */
export interface ImageIndexStore {
  load(): Promise<EngineImageIndex | undefined>;
  /** Queued; written before the call ends. */
  save(index: EngineImageIndex): void;
  /** Drops the index of this engine (another engine now answers at its socket); queued like save. */
  forget(): void;
  /** What the engine's events said of the held index this call (for the debug log). */
  judged?(verdict: EventsVerdict | undefined): void;
}

/** The index moves its mark on when this many events have passed it, a quarter of dockerd's 256. */
const MARK_ADVANCE_EVENTS = 64;

/**
 * An EngineClient whose calls are answered by `request`, and whose pulls go to `pull`
 * (create-engine-client.ts: pull-over-engine-api.ts, over the same `request`).
 *
 * One run asks for the tags of two repositories (mini's, then the project's), and the engine
 * takes as long to list all its images as to filter them (~12–17 ms here). So the whole
 * list is asked for once, as soon as the client exists, and both questions are answered from
 * it, as are inspects of the images it names by that name. A pull, the only call of
 * run-docker's that changes the images, forgets it.
 *
 * With an `indexStore`, the engine's event log is asked first (image-index.ts): while no image
 * changed since the index was written, the index answers for the repositories it holds, and
 * a host with thousands of images costs a call no list at all.
 */
export function createLightEngineClient(
  request: EngineRequest,
  pull: (repository: string, tag: string, options: EnginePullOptions) => Promise<void>,
  seen: AnswerHeaders = {},
  indexStore?: ImageIndexStore,
): EngineClient {
  let imageList: Promise<ImageSummary[]> | undefined;
  const listAllImages = () =>
    (imageList ??= request({ method: 'GET', path: '/images/json' }) as Promise<ImageSummary[]>);
  const forgetImageList = () => {
    imageList = undefined;
  };
  let pulled = false;
  const index = indexStore ? consultImageIndex(indexStore, request, () => listAllImages()) : undefined;
  // Started now, overlapping the shim's first steps; a failure surfaces where it is awaited.
  if (!index) listAllImages().catch(() => undefined);
  const askedThisCall = new Set<string>();

  /** The index's images of `repository`, when the engine vouched for them this call. */
  const fromIndex = async (repository: string | undefined): Promise<ImageSummary[] | undefined> => {
    if (!index || repository === undefined) return undefined;
    const { held, verdict } = await index;
    return pulled || verdict?.kind !== 'unchanged' ? undefined : held?.repositories[repository];
  };
  /** After a full list answered for `repository`: the index again, from that list, when the engine is dockerd. */
  const remember = (repository: string, images: readonly ImageSummary[]) => {
    if (!index || !indexStore) return;
    askedThisCall.add(repository);
    void index.then(({ held, verdict }) => {
      if (parseEngineIdentity(seen).kind !== 'docker') {
        // Podman now answers where dockerd did: its events are not asked for again.
        if (held) indexStore.forget();
        return;
      }
      // A mark older than the list, so that what changes after the list is seen next time.
      const mark = pulled ? held?.mark : (verdict?.newest ?? held?.mark);
      indexStore.save(indexFromList(images, [...askedThisCall], Object.keys(held?.repositories ?? {}), mark));
    });
  };
  const listAndRemember = async (repository: string | undefined) => {
    const images = await listAllImages();
    if (repository !== undefined) remember(repository, images);
    return images;
  };
  /**
   * The image `name` stands for, from the index when the engine vouched for it, else from the
   * list asked for at the start: a warm call then asks the engine one question instead of four
   * (tiny, mini and project inspects). Undefined: ask the engine itself.
   */
  const findInIndexOrList = async (name: string): Promise<ImageDetails | undefined> => {
    const repository = repositoryOfName(name);
    const indexed = await fromIndex(repository);
    if (indexed) return findListedImage(indexed, name);
    return listAndRemember(repository).then(
      (images) => findListedImage(images, name),
      () => undefined,
    );
  };
  void index?.then(({ held, verdict }) => {
    // A warm call with many events since the mark (a busy engine): move it on before dockerd's buffer does.
    if (held && verdict?.kind === 'unchanged' && verdict.eventsAfterMark >= MARK_ADVANCE_EVENTS)
      indexStore?.save({ ...held, mark: verdict.newest });
  });

  return {
    listImageTags: async (repository) => {
      const indexed = await fromIndex(repository);
      if (indexed) return selectTagsOfRepository(indexed, repository);
      try {
        return selectTagsOfRepository(await listAndRemember(repository), repository);
      } catch (error) {
        forgetImageList(); // the next question asks again
        throw error;
      }
    },
    inspectImage: async (name) => {
      // A pinned digest (the tiny's) is always the engine's own word, never the index's: the
      // engine's record that an image has that digest is what the pin trusts (docs/trust.md).
      const askEngine = index !== undefined && name.includes('@');
      const listed = askEngine ? undefined : await findInIndexOrList(name);
      if (listed) return listed;
      try {
        return toImageDetails(
          (await request({ method: 'GET', path: `/images/${name}/json` })) as Parameters<typeof toImageDetails>[0],
        );
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    exportImage: async (name) =>
      (await request({ method: 'GET', path: `/images/${name}/get`, stream: true })) as NodeJS.ReadableStream,
    createContainer: async ({ image, command, labels }) => {
      const body = { Image: image, Cmd: command, Labels: labels, NetworkDisabled: true };
      return ((await request({ method: 'POST', path: '/containers/create', body })) as { Id: string }).Id;
    },
    copyFromContainer: async (id, path) =>
      (await request({
        method: 'GET',
        path: `/containers/${id}/archive${formatQuery({ path })}`,
        stream: true,
      })) as NodeJS.ReadableStream,
    removeContainer: async (id) => {
      await request({ method: 'DELETE', path: `/containers/${id}${formatQuery({ force: true })}` });
    },
    listContainers: async (label) => {
      const containers = (await request({
        method: 'GET',
        path: `/containers/json${formatQuery(containersWithLabel(label))}`,
      })) as Array<{ Id: string; Labels?: Record<string, string> | null }>;
      return containers.map((container): ContainerSummary => ({ id: container.Id, labels: container.Labels ?? {} }));
    },
    // The registry settings (insecure registries) the locator follows; read-engine-registry-config.ts.
    readInfo: () => request({ method: 'GET', path: '/info' }),
    // From the headers of the image list asked for at once: no request of its own on a warm call.
    identify: async () => {
      const answered = () => seen.server !== undefined || seen.libpodApiVersion !== undefined;
      if (!answered()) await (index ?? listAllImages()).catch(() => undefined);
      if (!answered()) await request({ method: 'GET', path: '/_ping' });
      return parseEngineIdentity(seen);
    },
    readPodmanInfo: () => request({ method: 'GET', path: '/v4.0.0/libpod/info' }),
    checkBindSources: (image, sources) =>
      answerBindSources(
        async () =>
          (
            (await request({
              method: 'POST',
              path: '/containers/create',
              body: bindSourcesProbe(image, sources),
            })) as { Id: string }
          ).Id,
        async (id) => {
          await request({ method: 'DELETE', path: `/containers/${id}${formatQuery({ force: true })}` });
        },
      ),
    pullImage: async (repository, tag, options) => {
      pulled = true; // the index no longer answers this call
      forgetImageList();
      try {
        await pull(repository, tag, options);
      } finally {
        forgetImageList();
      }
    },
  };
}

/**
 * The index held for this engine and what the engine's events since its mark say of it.
 * Without a held index (a new host, or another engine at this socket) nothing is asked of the
 * event log, and the whole list is asked for at once as before: an engine that is not dockerd
 * is never asked for events. A failed or unreadable answer leaves the index unused.
 */
async function consultImageIndex(
  store: ImageIndexStore,
  request: EngineRequest,
  listAllImages: () => Promise<unknown>,
): Promise<{ held: EngineImageIndex | undefined; verdict: EventsVerdict | undefined }> {
  const held = await store.load().catch(() => undefined);
  if (held === undefined) {
    listAllImages().catch(() => undefined);
    return { held, verdict: undefined };
  }
  const since = held.mark ? formatEngineTime(held.mark.timeNano) : FIRST_EVENT_TIME;
  try {
    const text = await request({
      method: 'GET',
      path: `/events?since=${since}&until=${engineTimeOf(Date.now())}`,
      text: true,
    });
    const verdict = judgeEventsSinceMark(String(text), held.mark);
    store.judged?.(verdict);
    return { held, verdict };
  } catch {
    store.judged?.(undefined);
    return { held, verdict: undefined };
  }
}

/** `since` for every event the engine still has (0 would mean "none"). */
const FIRST_EVENT_TIME = '0.000000001';
