/**
 * TLS sessions that outlive the process: a call's new connection to a registry offers the
 * session the last call was given, and the server may resume it. A resumed TLS 1.2 handshake
 * takes one round trip where a full one takes two; TLS 1.3 takes one either way and resuming
 * saves only the client's certificate checks (docs/performance.md, "TLS session resumption").
 *
 * One small JSON file in the payload cache folder (private: 0700, checked by the shim),
 * `tls-sessions.json`, 0600, written whole and renamed. A session holds the keys to resume
 * it, secrets all the same: never printed. It is offered only to the same host:port with the
 * same TLS settings (CAs, client certificate, verification on or off) it was given under,
 * since a resumed session skips the certificate checks: a CA taken out of certs.d must not
 * be bypassed by a session made while it was trusted. The file is written only when a call
 * was given a session and had none for that key, had its saved one refused, or held one older
 * than REFRESH_MS: a warm call that resumes writes nothing.
 */
import { mkdir } from '../../../../common/fs-async';
import { loadCrypto } from '../../../../common/lazy-builtins';
import { dirname, join } from 'node:path';
import type { Logger } from '../../../../contract/contract';
import { readPrivateFile } from '../../../../common/read-private-file';
import { writeFileAtomically } from '../../../../common/write-file-atomically';
import type { TlsOptions } from '../registry-request';

export const TLS_SESSION_FILE = 'tls-sessions.json';
/** Servers accept tickets for hours to days (OpenSSL's default hint: 2 h); an hourly refresh stays inside that. */
export const REFRESH_MS = 60 * 60 * 1000;
const MAX_SESSIONS = 32;
const MAX_FILE_BYTES = 256 * 1024;

export interface TlsSessionStore {
  /** The saved session for `host` (host:port) under `tls`, if any. */
  get(host: string, tls: TlsOptions | undefined): Buffer | undefined;
  /**
   * A session the server gave a connection to `host`; `resumed`: whether that connection
   * resumed the one get() offered. Resolves once it is saved, when it needs saving.
   */
  offer(host: string, tls: TlsOptions | undefined, session: Buffer, resumed: boolean): Promise<void>;
}

interface SessionFile {
  version: 1;
  sessions: Record<string, { session: string; savedAt: number }>;
}

/** Pure: the key of a host and its TLS settings (a hash: CA bundles are long). */
export function sessionKey(host: string, tls: TlsOptions | undefined): string {
  const settings = [host, tls?.ca ?? null, tls?.cert ?? null, tls?.rejectUnauthorized ?? null];
  return loadCrypto().createHash('sha256').update(JSON.stringify(settings)).digest('hex');
}

/** Pure: the file's well-formed entries; anything else counts as empty. */
export function parseSessionFile(text: string): SessionFile {
  const empty: SessionFile = { version: 1, sessions: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return empty;
  }
  const sessions = (raw as { version?: unknown; sessions?: unknown } | null)?.sessions;
  if ((raw as { version?: unknown }).version !== 1 || typeof sessions !== 'object' || sessions === null) return empty;
  const kept: SessionFile['sessions'] = {};
  for (const [key, value] of Object.entries(sessions)) {
    const entry = value as { session?: unknown; savedAt?: unknown };
    if (/^[0-9a-f]{64}$/.test(key) && typeof entry?.session === 'string' && Number.isFinite(entry.savedAt))
      kept[key] = { session: entry.session, savedAt: entry.savedAt as number };
  }
  return { version: 1, sessions: kept };
}

/** Sessions in this process only (no cache folder): each call starts afresh. */
export function createMemoryTlsSessionStore(): TlsSessionStore {
  const sessions = new Map<string, Buffer>();
  return {
    get: (host, tls) => sessions.get(sessionKey(host, tls)),
    offer: (host, tls, session) => {
      sessions.set(sessionKey(host, tls), session);
      return Promise.resolve();
    },
  };
}

/**
 * The store backed by `file`, read once now. A file that cannot be read or written costs
 * only speed: one debug line.
 */
export async function createFileTlsSessionStore(
  file: string,
  log?: Logger,
  now: () => number = Date.now,
): Promise<TlsSessionStore> {
  const loaded = await readSessionFile(file, log);
  const decided = new Set<string>();
  return {
    get: (host, tls) => {
      const saved = loaded.sessions[sessionKey(host, tls)];
      return saved ? Buffer.from(saved.session, 'base64') : undefined;
    },
    offer: async (host, tls, session, resumed) => {
      const key = sessionKey(host, tls);
      // One decision per key and process: parallel connections and TLS 1.3's two tickets.
      if (decided.has(key)) return;
      decided.add(key);
      const saved = loaded.sessions[key];
      if (saved && resumed && now() - saved.savedAt < REFRESH_MS) return;
      try {
        const current = await readSessionFile(file, log);
        current.sessions[key] = { session: session.toString('base64'), savedAt: now() };
        const newest = Object.entries(current.sessions)
          .sort(([, a], [, b]) => b.savedAt - a.savedAt)
          .slice(0, MAX_SESSIONS);
        await mkdir(dirname(file), { recursive: true, mode: 0o700 });
        await writeFileAtomically(file, JSON.stringify({ version: 1, sessions: Object.fromEntries(newest) }));
      } catch (error) {
        log?.debug(`cannot write "${file}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
    },
  };
}

async function readSessionFile(file: string, log?: Logger): Promise<SessionFile> {
  try {
    return parseSessionFile((await readPrivateFile(file, { maxBytes: MAX_FILE_BYTES }))?.toString('utf8') ?? '');
  } catch (error) {
    log?.debug(`ignoring "${file}": ${(error as Error).message}`);
    return parseSessionFile('');
  }
}

const openStores = new Map<string, Promise<TlsSessionStore>>();
const processStore = createMemoryTlsSessionStore();

/** The store for a payload's cache folder (one per file per bundle), else this process's. */
export function openTlsSessionStore(cacheDir: string | undefined, log?: Logger): Promise<TlsSessionStore> {
  if (cacheDir === undefined) return Promise.resolve(processStore);
  const file = join(cacheDir, TLS_SESSION_FILE);
  let store = openStores.get(file);
  if (!store) openStores.set(file, (store = createFileTlsSessionStore(file, log)));
  return store;
}
