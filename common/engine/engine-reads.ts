/**
 * The two Engine API reads a warm run makes — inspect an image, list images by reference —
 * spoken directly over node:http, so that a run that pulls and extracts nothing never loads
 * dockerode (its evaluation was the largest part of the shim's start-up). Errors look like
 * docker-modem's (`statusCode`, `json`, Node's `code`/`syscall` for connection failures), so
 * callers cannot tell the difference.
 * Engine API: https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Image
 */
import http from 'node:http';
import type Dockerode from 'dockerode';

export type EngineGet = (path: string) => Promise<unknown>;

/** Connection settings as in dockerode's options (unix socket, or host/port with TLS material). */
export function createEngineGet(options: Dockerode.DockerOptions & { agent?: http.Agent }): EngineGet {
  const secure = options.protocol === 'https';
  // node:https (and with it node:tls) loads only for TLS engines.
  const request = secure ? (require('node:https') as typeof import('node:https')).request : http.request;
  // servername '' on a socket: otherwise Node's agent tests a made-up host for an IP address.
  const target = options.socketPath
    ? { socketPath: options.socketPath as string, servername: '' }
    : { host: options.host, port: options.port, ca: options.ca, cert: options.cert, key: options.key, agent: options.agent };
  return (path) =>
    new Promise((resolve, reject) => {
      // An explicit Host: Node would otherwise test the host for IPv6 first, and compiling
      // that regular expression costs ~5 ms of every run.
      const headers = { Accept: 'application/json', Host: options.socketPath ? 'docker' : `${options.host}:${options.port}` };
      const req = request({ ...target, path, method: 'GET', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          const json = parseJson(text);
          if (status >= 200 && status < 300) resolve(json);
          else reject(engineHttpError(status, json ?? text));
        });
      });
      req.on('error', reject);
      req.end();
    });
}

/** The same error shape docker-modem builds for a non-2xx answer. */
function engineHttpError(statusCode: number, json: unknown): Error {
  const said = typeof json === 'object' && json !== null && 'message' in json ? String((json as { message: unknown }).message) : String(json);
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${said} `), { statusCode, reason: 'unexpected', json });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `GET /images/json` query as dockerode writes it: `filters` as JSON. */
export function formatListImagesPath(options: { filters?: unknown; all?: boolean } = {}): string {
  const query = new URLSearchParams();
  if (options.all !== undefined) query.set('all', String(options.all));
  if (options.filters !== undefined) query.set('filters', typeof options.filters === 'string' ? options.filters : JSON.stringify(options.filters));
  const text = query.toString();
  return `/images/json${text ? `?${text}` : ''}`;
}

/**
 * A Dockerode whose `listImages` and `getImage(name).inspect` are answered by `get`, and
 * whose every other member comes from the real client, created on first use by `loadFull`.
 */
export function withLightReads(get: EngineGet, loadFull: () => Dockerode): Dockerode {
  const fromFull = (pick: (full: Dockerode) => object, prop: PropertyKey) => {
    const owner = pick(loadFull()) as Record<PropertyKey, unknown>;
    const value = owner[prop];
    return typeof value === 'function' ? value.bind(owner) : value;
  };
  const light: Record<PropertyKey, unknown> = {
    listImages: (options?: { filters?: unknown; all?: boolean }) => get(formatListImagesPath(options)),
    getImage: (name: string) => {
      const image: Record<PropertyKey, unknown> = { name, inspect: () => get(`/images/${name}/json`) };
      return new Proxy(image, { get: (target, prop) => (prop in target ? target[prop] : fromFull((full) => full.getImage(name), prop)) });
    },
  };
  return new Proxy(light, { get: (target, prop) => (prop in target ? target[prop] : fromFull((full) => full, prop)) }) as unknown as Dockerode;
}
