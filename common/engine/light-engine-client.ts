/**
 * The Engine API calls run-docker makes outside pulls — inspect and list images, export an
 * image, and the never-started container an extraction reads from — spoken directly over
 * node:http, so that no run but a pull (or an ssh engine) loads dockerode: compiling and
 * evaluating it was the largest part of the shim's start-up. Answers and errors look like
 * dockerode's (`statusCode`, `json`; Node's `code`/`syscall` for connection failures), so
 * callers cannot tell the difference.
 * Engine API: https://docs.docker.com/reference/api/engine/version/v1.41/
 */
import http from 'node:http';
import type Dockerode from 'dockerode';

export interface EngineCall {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Resolve with the response stream instead of parsed JSON (exports, archives). */
  stream?: boolean;
}

export type EngineRequest = (call: EngineCall) => Promise<unknown>;

/** An engine that accepts connections and never answers must not hang a call: 15 s is far
 *  above any healthy answer (milliseconds) and still short of a user giving up. */
export const DEFAULT_ENGINE_TIMEOUT_MS = 15_000;

/** Code of the error a call fails with when the engine is silent for `timeoutMs`
 *  (engine-error.ts turns it into one line naming the endpoint). */
export const ENGINE_TIMEOUT_CODE = 'ERR_RUN_DOCKER_ENGINE_TIMEOUT';

/**
 * Connection settings as in dockerode's options (unix socket, or host/port with TLS material).
 * `timeoutMs` bounds silence on the connection: until the answer's headers, and between
 * any two chunks of its body, also of a stream handed to the caller (an export or archive
 * that stops in the middle). It is idleness, not a total: a 300 MB export that keeps
 * flowing is never cut.
 */
export function createEngineRequest(
  options: Dockerode.DockerOptions & { agent?: http.Agent },
  timeoutMs: number = DEFAULT_ENGINE_TIMEOUT_MS,
): EngineRequest {
  const secure = options.protocol === 'https';
  // node:https (and with it node:tls) loads only for TLS engines.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: node:https only for TLS engines
  const request = secure ? (require('node:https') as typeof import('node:https')).request : http.request;
  // servername '' on a socket: otherwise Node's agent tests the made-up host "localhost" for
  // an IP address, and compiling its IPv6 expression costs ~5 ms of every run.
  const target = options.socketPath
    ? { socketPath: options.socketPath, servername: '' }
    : { host: options.host, port: options.port, ca: options.ca, cert: options.cert, key: options.key, agent: options.agent };
  return ({ method, path, body, stream }) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const headers: Record<string, string | number> = { Accept: 'application/json' };
      if (payload) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': payload.length });
      let response: http.IncomingMessage | undefined;
      const req = request({ ...target, method, path, headers }, (res) => {
        response = res;
        const status = res.statusCode ?? 0;
        if (stream && status >= 200 && status < 300) {
          resolve(res);
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const json = parseJson(text);
          if (status >= 200 && status < 300) resolve(json);
          else reject(engineHttpError(status, json ?? text));
        });
      });
      // The socket's idle timer: it runs while connecting, waiting and streaming alike.
      req.setTimeout(timeoutMs, () => {
        const error = engineTimeoutError(method, path, timeoutMs);
        // A stream already handed over fails with this error where it is read; before that, the promise does.
        if (response) response.destroy(error);
        req.destroy(error);
      });
      req.on('error', reject);
      req.end(payload);
    });
}

function engineTimeoutError(method: string, path: string, timeoutMs: number): Error {
  // The path without its query: filters can be long, and the operation is what helps.
  const call = `${method} ${path.split('?')[0]}`;
  return Object.assign(new Error(`the Docker engine did not answer within ${timeoutMs} ms (${call})`), { code: ENGINE_TIMEOUT_CODE, timeoutMs, call });
}

/** The same error shape docker-modem builds for a non-2xx answer. */
function engineHttpError(statusCode: number, json: unknown): Error {
  const said = typeof json === 'object' && json !== null && 'message' in json ? String(json.message) : String(json);
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${said} `), { statusCode, reason: 'unexpected', json });
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

type Members = Record<PropertyKey, unknown>;

/** `light`'s own members, and every other member from what `full` returns, bound to it. */
function withFallback<T extends Members>(light: T, full: () => object, onFallback: () => void = () => {}): T {
  return new Proxy(light, {
    get: (target, prop) => {
      if (prop in target) return target[prop];
      // Not a thenable (awaiting a container must not load dockerode), and no symbol
      // lookups (util.inspect, Symbol.toPrimitive) reach the real client.
      if (prop === 'then' || typeof prop === 'symbol') return undefined;
      onFallback();
      const owner = full() as Members;
      const value = owner[prop];
      return typeof value === 'function' ? (value.bind(owner) as unknown) : value;
    },
  });
}

interface ImageSummary {
  RepoTags?: string[] | null;
}

/** `[names]` when `options` asks only for images by exact repository names (no pattern), else undefined. */
export function exactReferenceFilter(options: { filters?: unknown; all?: boolean } | undefined): string[] | undefined {
  if (!options || options.all !== undefined || typeof options.filters !== 'object' || options.filters === null) return undefined;
  const filters = options.filters as Record<string, unknown>;
  const names = filters.reference;
  if (Object.keys(filters).length !== 1 || !Array.isArray(names) || names.length === 0) return undefined;
  if (!names.every((name) => typeof name === 'string' && !/[*?[\]]/.test(name) && !name.includes('@'))) return undefined;
  return names as string[];
}

/** The images with a tag in one of `repositories`, as the engine's `reference` filter answers for plain names. */
export function selectImagesOfRepositories<T extends ImageSummary>(images: readonly T[], repositories: readonly string[]): T[] {
  const wanted = new Set(repositories);
  const repositoryOf = (repoTag: string) => {
    const colon = repoTag.lastIndexOf(':');
    return colon > repoTag.lastIndexOf('/') ? repoTag.slice(0, colon) : repoTag;
  };
  return images.filter((image) => (image.RepoTags ?? []).some((repoTag) => wanted.has(repositoryOf(repoTag)) || wanted.has(repoTag)));
}

/**
 * A Dockerode whose image reads, exports and extraction containers are answered by
 * `request`, and whose every other member comes from the real client, created on first use
 * by `loadFull` (memoized by the caller).
 *
 * One run asks for the tags of two repositories (mini's, then the project's), and the engine
 * takes as long to list all its images as to filter them (~12–17 ms here). So the whole
 * list is asked for once, as soon as the client exists, and both questions are answered from
 * it. Anything that could change the images (every call that needs the real client: pulls
 * above all) forgets it.
 */
export function withLightCalls(request: EngineRequest, loadFull: () => Dockerode): Dockerode {
  let imageList: Promise<ImageSummary[]> | undefined;
  const listAllImages = () => (imageList ??= request({ method: 'GET', path: '/images/json' }) as Promise<ImageSummary[]>);
  const forgetImageList = () => {
    imageList = undefined;
  };
  // Started now, overlapping the shim's first steps; a failure surfaces where it is awaited.
  listAllImages().catch(() => undefined);
  const container = (id: string) =>
    withFallback(
      {
        id,
        getArchive: (options: { path: string }) => request({ method: 'GET', path: `/containers/${id}/archive${formatQuery(options)}`, stream: true }),
        remove: (options: { force?: boolean; v?: boolean } = {}) => request({ method: 'DELETE', path: `/containers/${id}${formatQuery(options)}` }),
      },
      () => loadFull().getContainer(id),
      forgetImageList,
    );
  const image = (name: string) =>
    withFallback(
      {
        name,
        inspect: () => request({ method: 'GET', path: `/images/${name}/json` }),
        get: () => request({ method: 'GET', path: `/images/${name}/get`, stream: true }),
      },
      () => loadFull().getImage(name),
      forgetImageList,
    );
  const light: Members = {
    listImages: async (options?: { filters?: unknown; all?: boolean }) => {
      const repositories = exactReferenceFilter(options);
      if (!repositories) return request({ method: 'GET', path: `/images/json${formatQuery(options)}` });
      try {
        return selectImagesOfRepositories(await listAllImages(), repositories);
      } catch (error) {
        forgetImageList(); // the next question asks again
        throw error;
      }
    },
    listContainers: (options?: { filters?: unknown; all?: boolean }) => request({ method: 'GET', path: `/containers/json${formatQuery(options)}` }),
    // The registry settings (insecure registries) the locator follows; read-engine-registry-config.ts.
    info: () => request({ method: 'GET', path: '/info' }),
    getImage: image,
    getContainer: container,
    createContainer: async ({ name, ...body }: { name?: string } & Record<string, unknown>) => {
      const created = (await request({ method: 'POST', path: `/containers/create${formatQuery({ name })}`, body })) as { Id: string };
      return container(created.Id);
    },
  };
  return withFallback(light, loadFull, forgetImageList) as unknown as Dockerode;
}
