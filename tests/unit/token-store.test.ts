/**
 * The token cache (auth/token-store.ts): what its file keeps and drops, how concurrent calls
 * merge, and that a process has one cache per file and one without a file. How a call uses
 * it (one request instead of three) is in create-registry-client.test.ts.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  createFileTokenCache,
  openTokenCache,
  parseTokenFile,
  pruneTokens,
  tokenKey,
  type TokenFile,
} from '../../payload/locator/registry/auth/token-store';
import { useTempDir } from '../helpers/temp-dir';

const temp = useTempDir('run-docker-token-store-', { each: true });

const NOW = 1_800_000_000_000;
const key = (scope: string) => tokenKey({ realm: 'https://auth/token', service: 'svc', scope, account: 'anonymous' });

describe('the token file', () => {
  it('merges what two calls wrote meanwhile, keeps only live tokens, and is written 0600', async () => {
    const file = path.join(temp.path, 'cache', 'registry-tokens.json');
    const first = await createFileTokenCache(file, undefined, () => NOW);
    const second = await createFileTokenCache(file, undefined, () => NOW);
    await first.set(key('a'), { token: 'ta', expiresAt: NOW + 60_000 });
    await second.set(key('b'), { token: 'tb', expiresAt: NOW + 60_000 });
    await second.rememberChallenge('https://registry', { realm: 'https://auth/token', service: 'svc' });
    const written = JSON.parse(await readFile(file, 'utf8')) as TokenFile;
    expect(written).toEqual({
      version: 1,
      challenges: { 'https://registry': { realm: 'https://auth/token', service: 'svc' } },
      tokens: {
        [key('a')]: { token: 'ta', expiresAt: NOW + 60_000 },
        [key('b')]: { token: 'tb', expiresAt: NOW + 60_000 },
      },
    });
    expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
    // A later call reads both, and never an expired one.
    const later = await createFileTokenCache(file, undefined, () => NOW + 120_000);
    expect([later.get(key('a')), later.challengeOf('https://registry')?.service]).toEqual([undefined, 'svc']);
  });

  it('a file it cannot write costs only speed: the tokens stay in memory', async () => {
    const debug: string[] = [];
    await writeFile(path.join(temp.path, 'not-a-folder'), '');
    const cache = await createFileTokenCache(path.join(temp.path, 'not-a-folder', 'registry-tokens.json'), {
      warn: () => undefined,
      debug: (line) => debug.push(line),
    });
    await cache.set(key('a'), { token: 'ta', expiresAt: Date.now() + 60_000 });
    expect(cache.get(key('a'))?.token).toBe('ta');
    expect(debug.join('\n')).toMatch(/cannot write the registry token cache .* tokens stay in memory/);
  });

  it('keeps the longest-lived 200 tokens', () => {
    const tokens = Object.fromEntries(
      Array.from({ length: 250 }, (_, i) => [key(String(i)), { token: `t${i}`, expiresAt: NOW + i }]),
    );
    const pruned = pruneTokens({ version: 1, challenges: {}, tokens }, NOW);
    expect(Object.keys(pruned.tokens)).toHaveLength(200);
    expect(pruned.tokens[key('1')]).toBeUndefined();
    expect(pruned.tokens[key('249')]?.token).toBe('t249');
  });

  it('reads only well-formed entries: no token that would break a header, no challenge without a realm', () => {
    expect(
      parseTokenFile(
        JSON.stringify({
          version: 1,
          challenges: { a: { realm: 'r' }, b: { service: 's' }, c: { realm: 'r', service: 5 } },
          tokens: { x: { token: 'ok', expiresAt: 1 }, y: { token: 'bad\nheader', expiresAt: 1 }, z: { token: 'n' } },
        }),
      ),
    ).toEqual({ version: 1, challenges: { a: { realm: 'r' } }, tokens: { x: { token: 'ok', expiresAt: 1 } } });
    expect(parseTokenFile('{"version": 2}')).toEqual({ version: 1, challenges: {}, tokens: {} });
  });
});

describe('openTokenCache', () => {
  it('one cache per file in a process, and one cache for every caller without a cache folder', async () => {
    expect(await openTokenCache(temp.path)).toBe(await openTokenCache(temp.path));
    expect(await openTokenCache(undefined)).toBe(await openTokenCache(undefined));
    expect(await openTokenCache(undefined)).not.toBe(await openTokenCache(temp.path));
  });
});
