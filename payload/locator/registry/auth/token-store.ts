/**
 * Bearer tokens that outlive the process: a warm call answers the registry's first request
 * with the token the last call got, instead of an anonymous request, a 401, a token request
 * and the retry (three round trips to a far registry, per repository, per call).
 *
 * One small JSON file in the payload cache folder (private: 0700, checked by the shim),
 * written whole to a temporary file and renamed, 0600. It holds tokens — short-lived, scoped
 * to one repository's pull, secrets all the same: never printed — and the Bearer challenge
 * each registry origin sent (realm and service), never a password or an identity token.
 * A token is used only before `expiresAt` (from `expires_in`/`issued_at`, less a margin),
 * and only for the same realm, service, scope and credential source it was issued for.
 */
import { mkdir } from '../../../../common/fs-async';
import { dirname, join } from 'node:path';
import type { Logger } from '../../../../contract/contract';
import { readPrivateFile } from '../../../../common/read-private-file';
import { writeFileAtomically } from '../../../../common/write-file-atomically';

export interface CachedToken {
  token: string;
  /** Epoch ms after which the token is not used. */
  expiresAt: number;
}

export interface BearerChallenge {
  realm: string;
  service?: string;
}

/** What a token is for: the realm and service of the challenge, the scope, and the login (read-credential-source.ts). */
export interface TokenFor extends BearerChallenge {
  scope: string;
  account: string;
}

/** realm + service + scope + account: the cache's key. */
export function tokenKey(request: TokenFor): string {
  return JSON.stringify([request.realm, request.service ?? '', request.scope, request.account]);
}

/** Where tokens are kept: the process only, or also a file (createFileTokenCache). */
export interface TokenCache {
  get(key: string): CachedToken | undefined;
  set(key: string, token: CachedToken): Promise<void>;
  /** The Bearer challenge `origin` sent last, to answer its first request with a token. */
  challengeOf(origin: string): BearerChallenge | undefined;
  rememberChallenge(origin: string, challenge: BearerChallenge): Promise<void>;
}

export interface TokenFile {
  version: 1;
  challenges: Record<string, BearerChallenge>;
  tokens: Record<string, CachedToken>;
}

const MAX_FILE_BYTES = 256 * 1024;
/** Enough for every registry and repository a host uses in a token's lifetime. */
const MAX_TOKENS = 200;

export function createMemoryTokenCache(): TokenCache {
  const tokens = new Map<string, CachedToken>();
  const challenges = new Map<string, BearerChallenge>();
  return {
    get: (key) => tokens.get(key),
    set: (key, token) => {
      tokens.set(key, token);
      return Promise.resolve();
    },
    challengeOf: (origin) => challenges.get(origin),
    rememberChallenge: (origin, challenge) => {
      challenges.set(origin, challenge);
      return Promise.resolve();
    },
  };
}

/**
 * A cache backed by `file`, read once now. Writes merge with what other calls wrote
 * meanwhile (read again, then rename), so concurrent calls lose nothing worse than a token.
 * A file that cannot be read or written costs only speed: one debug line, memory only.
 */
export async function createFileTokenCache(
  file: string,
  log?: Logger,
  now: () => number = Date.now,
): Promise<TokenCache> {
  const memory = createMemoryTokenCache();
  const loaded = await readTokenFile(file, log);
  for (const [origin, challenge] of Object.entries(loaded.challenges))
    await memory.rememberChallenge(origin, challenge);
  for (const [key, token] of Object.entries(loaded.tokens)) if (token.expiresAt > now()) await memory.set(key, token);

  const update = async (change: (current: TokenFile) => void) => {
    try {
      const current = await readTokenFile(file, log);
      change(current);
      await writeTokenFile(file, pruneTokens(current, now()));
    } catch (error) {
      log?.debug(
        `cannot write the registry token cache "${file}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); tokens stay in memory`,
      );
    }
  };
  return {
    get: (key) => memory.get(key),
    set: async (key, token) => {
      await memory.set(key, token);
      await update((current) => void (current.tokens[key] = token));
    },
    challengeOf: (origin) => memory.challengeOf(origin),
    rememberChallenge: async (origin, challenge) => {
      const known = memory.challengeOf(origin);
      if (known && known.realm === challenge.realm && known.service === challenge.service) return;
      await memory.rememberChallenge(origin, challenge);
      await update((current) => void (current.challenges[origin] = challenge));
    },
  };
}

/** Pure: the file's content with expired tokens dropped and at most MAX_TOKENS kept (longest-lived). */
export function pruneTokens(content: TokenFile, now: number): TokenFile {
  const live = Object.entries(content.tokens)
    .filter(([, token]) => token.expiresAt > now)
    .sort(([, a], [, b]) => b.expiresAt - a.expiresAt)
    .slice(0, MAX_TOKENS);
  return { version: 1, challenges: content.challenges, tokens: Object.fromEntries(live) };
}

/** Pure: what a file's bytes hold, keeping only well-formed entries; anything else counts as empty. */
export function parseTokenFile(text: string): TokenFile {
  const empty: TokenFile = { version: 1, challenges: {}, tokens: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return empty;
  }
  if (!isRecord(raw) || raw.version !== 1) return empty;
  const challenges: Record<string, BearerChallenge> = {};
  for (const [origin, value] of Object.entries(isRecord(raw.challenges) ? raw.challenges : {})) {
    if (
      isRecord(value) &&
      typeof value.realm === 'string' &&
      (value.service === undefined || typeof value.service === 'string')
    ) {
      challenges[origin] =
        value.service === undefined ? { realm: value.realm } : { realm: value.realm, service: value.service };
    }
  }
  const tokens: Record<string, CachedToken> = {};
  for (const [key, value] of Object.entries(isRecord(raw.tokens) ? raw.tokens : {})) {
    // Printable ASCII only: a token goes into an Authorization header.
    if (
      isRecord(value) &&
      typeof value.token === 'string' &&
      /^[\x21-\x7e]+$/.test(value.token) &&
      Number.isFinite(value.expiresAt)
    ) {
      tokens[key] = { token: value.token, expiresAt: value.expiresAt as number };
    }
  }
  return { version: 1, challenges, tokens };
}

async function readTokenFile(file: string, log?: Logger): Promise<TokenFile> {
  try {
    const bytes = await readPrivateFile(file, { maxBytes: MAX_FILE_BYTES });
    return parseTokenFile(bytes?.toString('utf8') ?? '');
  } catch (error) {
    log?.debug(`ignoring the registry token cache "${file}": ${(error as Error).message}`);
    return parseTokenFile('');
  }
}

async function writeTokenFile(file: string, content: TokenFile): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomically(file, JSON.stringify(content));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const openCaches = new Map<string, Promise<TokenCache>>();

/**
 * The token cache for a payload's context: a file in its cache folder when the shim gives
 * one (`BaseContext.cacheDir`), else this process only (one cache per process for all such
 * callers). One per file per bundle: both lookups of a call (mini's, then the project's)
 * read the same file.
 */
export function openTokenCache(cacheDir: string | undefined, log?: Logger): Promise<TokenCache> {
  if (cacheDir === undefined) return Promise.resolve(processCache);
  const file = join(cacheDir, 'registry-tokens.json');
  let cache = openCaches.get(file);
  if (!cache) openCaches.set(file, (cache = createFileTokenCache(file, log)));
  return cache;
}

const processCache = createMemoryTokenCache();
