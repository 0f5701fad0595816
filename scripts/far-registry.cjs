// @ts-check
// A far-away, token-auth registry made from the local test registry: an HTTP proxy on
// 127.0.0.1 in front of the registry `scripts/registry` starts, which
//   - delays every request by RTT/2 before it forwards it and every response by RTT/2
//     before it answers, so one request/response costs one round trip;
//   - makes every new TCP connection cost `handshakeRtts` round trips (1: TCP's handshake;
//     2 models TCP + TLS 1.3, 3 TCP + TLS 1.2): a connection's requests are handled as if
//     its first byte arrived that much after the connect (the loopback connect itself is
//     instant, so the client's first request simply waits longer for its answer);
//   - requires `Authorization: Bearer <token>` on /v2/* and serves the token service at
//     /token, as GHCR, Docker Hub, GitLab or Harbor do
//     (https://distribution.github.io/distribution/spec/auth/token/);
//   - counts requests by kind and new connections, and logs each request;
//   - with `tls` (a certificate and key, PEM), speaks real TLS (1.3, or at most the version
//     given): a TCP relay in front of an https server then delays every chunk by RTT/2 in
//     each direction instead, so the handshake's own flights cost what they cost on a real
//     network (1 RTT for TLS 1.3, 2 for a full TLS 1.2 handshake, 1 for a resumed one), on
//     top of TCP's handshake (`handshakeRtts`); resumed sessions are counted.
//
// Plain CommonJS on purpose: scripts/benchmark.mjs imports it and TypeScript tests require
// it (types in far-registry.d.cts). It lives in scripts/ beside scripts/registry, which it
// fronts and which the bench and the tests already share.
//
// What it does not model: bandwidth (bodies stream at loopback speed), packet loss, and
// without `tls`, TLS itself (its handshake round trips only, as `handshakeRtts`). The
// 127.0.0.0/8 address keeps the engine on plain HTTP without configuration, as for the
// registry behind it; with `tls`, dockerd (which counts 127.0.0.0/8 as insecure) tries https
// first without checking the certificate, and pulls over it.
'use strict';
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const { randomBytes } = require('node:crypto');

/** @typedef {import('./far-registry.d.cts').FarRegistryOptions} FarRegistryOptions */
/** @typedef {import('./far-registry.d.cts').FarRegistryRequest} FarRegistryRequest */
/** @typedef {import('./far-registry.d.cts').FarRegistryCounts} FarRegistryCounts */
/** @typedef {FarRegistryRequest['kind']} RequestKind */
/** A connection, with what the proxy notes on it. @typedef {import('node:net').Socket & { farId: number, connectedAt: number, readyAt: number }} FarSocket */
/** @typedef {import('node:http').IncomingMessage & { socket: FarSocket, arrivedAt: number }} FarRequest */
/** What the relay knows of a client's connection, by the port it reaches the https server from. @typedef {{ farId: number, connectedAt: number }} RelayedConnection */
/** @typedef {import('node:http').ServerResponse} Response */
/** @typedef {{ ok: boolean, presented?: boolean, scoped?: boolean }} Verdict */

/** The kinds requests are counted by; a /v2/ request answered 401 counts as '401' only.
 *  @type {RequestKind[]} */
const KINDS = ['token', '401', 'tags/list', 'manifests', 'blobs', 'other'];
const DEFAULT_RTT_MS = 50;
const DEFAULT_TOKEN_EXPIRES_IN_S = 300;
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

/** @param {number} ms @returns {Promise<void>} */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * `/v2/<name>/(tags/list|manifests/<ref>|blobs/…)` → { name, kind }; the base `/v2/` and
 * anything else under /v2 (e.g. `_catalog`) → kind 'other' without a name.
 * Names may contain slashes (https://distribution.github.io/distribution/spec/api/#overview).
 * @param {string} pathname @returns {{ name: string | undefined, kind: RequestKind }}
 */
function parseRegistryPath(pathname) {
  let match = /^\/v2\/(.+)\/tags\/list$/.exec(pathname);
  if (match) return { name: match[1], kind: 'tags/list' };
  match = /^\/v2\/(.+)\/manifests\/[^/]+$/.exec(pathname);
  if (match) return { name: match[1], kind: 'manifests' };
  match = /^\/v2\/(.+)\/blobs\/(?:uploads\/.*|uploads|[^/]+)$/.exec(pathname);
  if (match) return { name: match[1], kind: 'blobs' };
  return { name: undefined, kind: 'other' };
}

/** `repository:team/app:pull,push` (repeated, or space-separated in an OAuth2 form) → grants. */
/** @param {string[]} values */
function parseScopes(values) {
  /** @type {Set<string>} */
  const grants = new Set();
  for (const value of values) {
    for (const scope of value.split(' ').filter(Boolean)) {
      const at = scope.lastIndexOf(':');
      const resource = scope.slice(0, at);
      for (const action of scope.slice(at + 1).split(',')) grants.add(`${resource}:${action}`);
    }
  }
  return grants;
}

/** @returns {FarRegistryCounts} */
function zeroCounts() {
  return /** @type {FarRegistryCounts} */ (
    Object.fromEntries([...KINDS, 'connections', 'resumed'].map((kind) => [kind, 0]))
  );
}

/**
 * Copies `from` to `to`, each chunk delivered at `deliverAt(now)` (never before an earlier
 * chunk: one timer drains the queue in order), and the end after the last chunk.
 * @param {import('node:net').Socket} from @param {import('node:net').Socket} to
 * @param {(now: number) => number} deliverAt
 */
function delayedPipe(from, to, deliverAt) {
  /** @type {{ at: number, chunk: Buffer | null }[]} */
  const queue = [];
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  let last = 0;
  const drain = () => {
    timer = undefined;
    while (queue.length > 0 && /** @type {{ at: number }} */ (queue[0]).at <= Date.now()) {
      const { chunk } = /** @type {{ at: number, chunk: Buffer | null }} */ (queue.shift());
      if (chunk === null) to.end();
      else if (!to.destroyed) to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(drain, /** @type {{ at: number }} */ (queue[0]).at - Date.now());
  };
  /** @param {Buffer | null} chunk */
  const push = (chunk) => {
    last = Math.max(last, deliverAt(Date.now()));
    queue.push({ at: last, chunk });
    if (timer === undefined) timer = setTimeout(drain, last - Date.now());
  };
  from.on('data', (/** @type {Buffer} */ chunk) => push(chunk));
  from.on('end', () => push(null));
  from.on('close', () => {
    if (timer !== undefined && queue.length === 0) clearTimeout(timer);
  });
}

/**
 * Starts the proxy. `upstream` is the registry's `127.0.0.1:PORT`.
 * Options: rttMs (default 50), handshakeRtts (default 1), port (a free one by default),
 * service (the challenge's service, default "far-registry"),
 * tokenExpiresInS (default 300), credentials ({username, password}: the token service then
 * wants them as Basic auth, or as a password grant in a POST; anonymous tokens otherwise),
 * tls ({cert, key, maxVersion}: real TLS behind a relay that delays each flight).
 * @param {FarRegistryOptions} options @returns {Promise<import('./far-registry.d.cts').FarRegistry>}
 */
async function startFarRegistry(options) {
  const [upstreamHost, upstreamPort] = options.upstream.split(':');
  const handshakeRtts = options.handshakeRtts ?? 1;
  const service = options.service ?? 'far-registry';
  // With TLS the relay delays the bytes (handshake flights included); the HTTP side then adds nothing.
  const relayed = options.tls !== undefined;
  const scheme = relayed ? 'https' : 'http';
  const expiresIn = options.tokenExpiresInS ?? DEFAULT_TOKEN_EXPIRES_IN_S;
  const agent = new http.Agent({ keepAlive: true });
  /** token → { grants, expiresAt } @type {Map<string, { grants: Set<string>, expiresAt: number }>} */
  const tokens = new Map();
  /** @type {{ rttMs: number, counts: FarRegistryCounts, requests: FarRegistryRequest[] }} */
  const state = { rttMs: options.rttMs ?? DEFAULT_RTT_MS, counts: zeroCounts(), requests: [] };
  let connectionCount = 0;
  let address = '';

  /** @type {import('node:http').RequestListener} */
  const listener = (req, res) => {
    handle(/** @type {FarRequest} */ (req), res).catch((/** @type {Error} */ error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`far-registry: ${error.message}\n`);
    });
  };
  /** A client's new connection: counted and numbered; `socket` is the one its requests arrive on. @param {FarSocket} socket @param {number} connectedAt */
  const noteConnection = (socket, connectedAt) => {
    connectionCount++;
    state.counts.connections++;
    socket.farId = connectionCount;
    socket.connectedAt = connectedAt;
    socket.readyAt = connectedAt + handshakeRtts * state.rttMs;
  };
  const server = relayed
    ? https.createServer(
        { keepAlive: true, ...options.tls, maxVersion: options.tls?.maxVersion ?? 'TLSv1.3', minVersion: 'TLSv1.2' },
        listener,
      )
    : http.createServer({ keepAlive: true }, listener);
  server.keepAliveTimeout = 30_000;
  /** Where the https server listens, behind the relay. */
  let innerPort = 0;
  /** The relay's connections to the https server, by their local port: who the client was and when it connected. */
  /** @type {Map<number, RelayedConnection>} */
  const relayedConnections = new Map();
  /** @type {import('node:net').Server | undefined} */
  let relay;
  /** @type {Set<import('node:net').Socket>} */
  const relaySockets = new Set();
  if (relayed) {
    server.on('secureConnection', (/** @type {import('node:tls').TLSSocket} */ socket) => {
      const known = relayedConnections.get(socket.remotePort ?? -1);
      if (known) Object.assign(socket, { farId: known.farId, connectedAt: known.connectedAt, readyAt: 0 });
      if (socket.isSessionReused()) state.counts.resumed++;
    });
    relay = net.createServer((client) => {
      const connectedAt = Date.now();
      /** @type {FarSocket} */
      const counted = Object.assign(client, { farId: 0, connectedAt: 0, readyAt: 0 });
      noteConnection(counted, connectedAt);
      const upstream = net.connect(innerPort, '127.0.0.1');
      relaySockets.add(client).add(upstream);
      upstream.on('connect', () =>
        relayedConnections.set(upstream.localPort ?? -1, { farId: counted.farId, connectedAt }),
      );
      // TCP's handshake first (readyAt), then half a round trip each way for every flight.
      delayedPipe(client, upstream, (now) => Math.max(now, counted.readyAt) + state.rttMs / 2);
      delayedPipe(upstream, client, (now) => now + state.rttMs / 2);
      // An end travels like data (delayedPipe); only a failure cuts both sides at once.
      const cut = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', cut).on('close', () => relaySockets.delete(client));
      upstream.on('error', cut).on('close', () => relaySockets.delete(upstream));
    });
  } else {
    server.on('connection', (/** @type {FarSocket} */ socket) => noteConnection(socket, Date.now()));
  }

  /** @param {FarRequest} req @param {Response} res @param {RequestKind} kind @param {number} status */
  function record(req, res, kind, status) {
    state.counts[kind]++;
    /** @type {FarRegistryRequest} */
    const entry = {
      connection: req.socket.farId,
      method: req.method ?? '',
      path: req.url ?? '',
      kind,
      status,
      connectedAt: req.socket.connectedAt,
      resumed: relayed
        ? /** @type {import('node:tls').TLSSocket} */ (/** @type {unknown} */ (req.socket)).isSessionReused()
        : false,
      // Relayed: the request left the client half a round trip before it got here, and the
      // answer reaches it half a round trip after it leaves.
      arrivedAt: req.arrivedAt - (relayed ? state.rttMs / 2 : 0),
      finishedAt: undefined,
    };
    res.on('finish', () => (entry.finishedAt = Date.now() + (relayed ? state.rttMs / 2 : 0)));
    state.requests.push(entry);
  }

  /** Waits for the request's half of the round trip (and the connection's handshake). */
  /** @param {FarRequest} req */
  async function requestLeg(req) {
    if (relayed) return;
    const arrived = Math.max(Date.now(), req.socket.readyAt);
    await sleep(arrived + state.rttMs / 2 - Date.now());
  }

  const responseLeg = () => (relayed ? Promise.resolve() : sleep(state.rttMs / 2));

  /** @param {FarRequest} req @param {string | undefined} name @returns {Verdict} */
  function isAuthorized(req, name) {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const grant = match?.[1] === undefined ? undefined : tokens.get(match[1]);
    if (!grant || grant.expiresAt <= Date.now()) return { ok: false, presented: Boolean(match) };
    if (name === undefined) return { ok: true };
    const action = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push';
    return { ok: grant.grants.has(`repository:${name}:${action}`), presented: true, scoped: true };
  }

  /** @param {FarRequest} req @param {string | undefined} name @param {Verdict} verdict */
  function challenge(req, name, verdict) {
    const action = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'pull,push';
    let value = `Bearer realm="${scheme}://${address}/token",service="${service}"`;
    if (name !== undefined) value += `,scope="repository:${name}:${action}"`;
    if (verdict.presented) value += `,error="${verdict.scoped ? 'insufficient_scope' : 'invalid_token'}"`;
    return value;
  }

  /** @param {FarRequest} req */
  async function readBody(req) {
    /** @type {Buffer[]} */
    const chunks = [];
    for await (const chunk of req) chunks.push(/** @type {Buffer} */ (chunk));
    return Buffer.concat(chunks).toString('utf8');
  }

  /** @param {FarRequest} req @param {Response} res @param {URL} url */
  async function serveToken(req, res, url) {
    let scopes = url.searchParams.getAll('scope');
    let authorized = !options.credentials;
    if (req.method === 'POST') {
      // OAuth2 (https://distribution.github.io/distribution/spec/auth/oauth/): a form.
      const form = new URLSearchParams(await readBody(req));
      scopes = form.getAll('scope');
      if (options.credentials && form.get('grant_type') === 'password') {
        authorized =
          form.get('username') === options.credentials.username &&
          form.get('password') === options.credentials.password;
      }
    } else if (options.credentials) {
      const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      const expected = Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString(
        'base64',
      );
      authorized = basic?.[1] === expected;
    }
    record(req, res, 'token', authorized ? 200 : 401);
    await responseLeg();
    if (!authorized) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"invalid credentials"}]}\n');
      return;
    }
    const token = randomBytes(24).toString('base64url');
    const issuedAt = new Date();
    tokens.set(token, { grants: parseScopes(scopes), expiresAt: issuedAt.getTime() + expiresIn * 1000 });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: expiresIn, issued_at: issuedAt.toISOString() }));
  }

  /** @param {FarRequest} req @param {Response} res */
  async function handle(req, res) {
    req.arrivedAt = Date.now();
    await requestLeg(req);
    const url = new URL(req.url ?? '/', `${scheme}://${address}`);
    if (url.pathname === '/token') return serveToken(req, res, url);
    if (url.pathname !== '/v2' && !url.pathname.startsWith('/v2/')) {
      record(req, res, 'other', 404);
      await responseLeg();
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    const { name, kind } = parseRegistryPath(url.pathname);
    const verdict = isAuthorized(req, name);
    if (!verdict.ok) {
      req.resume();
      record(req, res, '401', 401);
      await responseLeg();
      res.writeHead(401, {
        'content-type': 'application/json',
        'docker-distribution-api-version': 'registry/2.0',
        'www-authenticate': challenge(req, name, verdict),
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}\n');
      return;
    }
    const headers = { ...req.headers };
    for (const header of [...HOP_BY_HOP, 'authorization']) delete headers[header];
    // The Host header goes through as the client sent it: the registry builds its Location
    // URLs (blob uploads) from it, and they must point back at this proxy.
    /** @type {import('node:http').IncomingMessage} */
    const upstream = await new Promise((resolve, reject) => {
      const forward = http.request(
        { host: upstreamHost, port: Number(upstreamPort), method: req.method, path: req.url, headers, agent },
        resolve,
      );
      forward.on('error', reject);
      req.pipe(forward);
    });
    const status = upstream.statusCode ?? 502;
    record(req, res, kind, status);
    await responseLeg();
    const answer = { ...upstream.headers };
    for (const header of HOP_BY_HOP) delete answer[header];
    res.writeHead(status, answer);
    upstream.pipe(res);
  }

  /** @param {import('node:net').Server} listening @param {number} port @returns {Promise<number>} */
  const listen = (listening, port) =>
    new Promise((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', () =>
        resolve(/** @type {import('node:net').AddressInfo} */ (listening.address()).port),
      );
    });
  if (relay) {
    innerPort = await listen(server, 0);
    address = `127.0.0.1:${await listen(relay, options.port ?? 0)}`;
  } else {
    address = `127.0.0.1:${await listen(server, options.port ?? 0)}`;
  }

  return {
    address,
    get rttMs() {
      return state.rttMs;
    },
    /** Changes the round trip for what comes next (connections already open keep theirs). */
    /** @param {number} ms */
    setRtt(ms) {
      state.rttMs = ms;
    },
    /** Requests by kind and new connections since the start or the last reset. */
    counts: () => ({ ...state.counts }),
    /** `http` or, with `tls`, `https`: the scheme of its URLs. */
    scheme,
    /**
     * Every request since the start or the last reset: { connection, method, path, kind,
     * status, connectedAt, arrivedAt, finishedAt } (times in epoch ms; finishedAt once the
     * answer has been sent, before the response delay's end it is undefined).
     */
    requests: () => state.requests.map((entry) => ({ ...entry })),
    reset() {
      state.counts = zeroCounts();
      state.requests = [];
    },
    /** Forgets every token issued (as if they had all expired). */
    revokeTokens() {
      tokens.clear();
    },
    close() {
      agent.destroy();
      for (const socket of relaySockets) socket.destroy();
      const closing = [server, ...(relay ? [relay] : [])].map(
        (listening) =>
          new Promise((/** @type {(value?: undefined) => void} */ resolve) => {
            listening.close(() => resolve());
            if ('closeAllConnections' in listening) listening.closeAllConnections();
          }),
      );
      return Promise.all(closing).then(() => undefined);
    },
  };
}

/**
 * How long one call talked to the registry, from the proxy's clock (both delays are served
 * here, so its moments are the client's): REQUESTS are the call's, SINCE (epoch ms) its
 * start, to tell connections it opened from older ones. `waitedMs` sums each request's wait
 * (from its connect for the first request on a new connection): the time the client was
 * blocked on the registry when requests go one after the other. `spanMs` runs from the
 * first connect or request to the last answer, the client's own work in between included.
 * @param {FarRegistryRequest[]} requests @param {number} since
 */
function measureConversation(requests, since) {
  if (requests.length === 0) return { waitedMs: 0, spanMs: 0 };
  /** @type {Set<number>} */
  const seen = new Set();
  let waitedMs = 0;
  let begin = Infinity;
  let end = -Infinity;
  for (const r of requests) {
    const opened = !seen.has(r.connection) && r.connectedAt >= since;
    seen.add(r.connection);
    const start = opened ? r.connectedAt : r.arrivedAt;
    const finish = r.finishedAt ?? r.arrivedAt;
    waitedMs += finish - start;
    begin = Math.min(begin, start);
    end = Math.max(end, finish);
  }
  return { waitedMs, spanMs: end - begin };
}

/** Counts b − a, kind by kind (counts taken before and after one call).
 *  @param {FarRegistryCounts} after @param {FarRegistryCounts} before @returns {FarRegistryCounts} */
function diffCounts(after, before) {
  const kinds = /** @type {(keyof FarRegistryCounts)[]} */ (Object.keys(after));
  return /** @type {FarRegistryCounts} */ (
    Object.fromEntries(kinds.map((kind) => [kind, after[kind] - (before[kind] ?? 0)]))
  );
}

module.exports = { startFarRegistry, diffCounts, measureConversation, KINDS, DEFAULT_RTT_MS };
