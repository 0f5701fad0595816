/**
 * TLS sessions kept between calls (payload/locator/registry/transport/tls-session-store.ts):
 * offered only under the TLS settings they were made with, and written only when the next
 * call needs something new. The resumption itself, over real TLS, is in
 * tests/integration/registry-round-trips.test.ts.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createFileTlsSessionStore,
  parseSessionFile,
  REFRESH_MS,
  sessionKey,
  TLS_SESSION_FILE,
} from '../../payload/locator/registry/transport/tls-session-store';
import { useTempDir } from '../helpers/temp-dir';

const temp = useTempDir('run-docker-tls-sessions-', { each: true });
const HOST = 'registry.test:443';
const CA = { ca: ['-----BEGIN CERTIFICATE-----\nCA one\n-----END CERTIFICATE-----\n'] };

describe('sessionKey', () => {
  it('differs with the host, the CAs, the client certificate and whether certificates are checked', () => {
    const base = sessionKey(HOST, CA);
    expect(sessionKey(HOST, { ca: [...CA.ca] })).toBe(base);
    expect(sessionKey('registry.test:5000', CA)).not.toBe(base);
    expect(sessionKey(HOST, { ca: ['another CA'] })).not.toBe(base);
    expect(sessionKey(HOST, undefined)).not.toBe(base);
    expect(sessionKey(HOST, { ...CA, cert: 'client' })).not.toBe(base);
    expect(sessionKey(HOST, { rejectUnauthorized: false })).not.toBe(sessionKey(HOST, undefined));
  });
});

describe('parseSessionFile', () => {
  it('keeps well-formed entries only, and reads anything else as empty', () => {
    const key = sessionKey(HOST, CA);
    expect(parseSessionFile('nonsense')).toEqual({ version: 1, sessions: {} });
    expect(
      parseSessionFile(
        JSON.stringify({
          version: 1,
          sessions: { [key]: { session: 'AAAA', savedAt: 1 }, 'not-a-key': { session: 'AAAA', savedAt: 1 } },
        }),
      ),
    ).toEqual({ version: 1, sessions: { [key]: { session: 'AAAA', savedAt: 1 } } });
  });
});

describe('the file', () => {
  const file = () => join(temp.path, TLS_SESSION_FILE);
  const session = (text: string) => Buffer.from(text);

  it('gives the next call the session this one was given, under the same settings only; 0600', async () => {
    await (await createFileTlsSessionStore(file())).offer(HOST, CA, session('one'), false);
    expect(((await stat(file())).mode & 0o777).toString(8)).toBe('600');
    const next = await createFileTlsSessionStore(file());
    expect(next.get(HOST, CA)?.toString()).toBe('one');
    expect(next.get(HOST, { ca: ['another CA'] })).toBeUndefined();
    expect(next.get(HOST, undefined)).toBeUndefined();
  });

  it('is not written again by a call that resumed a fresh session, and is when it was refused or is old', async () => {
    let now = 1_000_000;
    const clock = () => now;
    await (await createFileTlsSessionStore(file(), undefined, clock)).offer(HOST, CA, session('one'), false);
    const written = (await stat(file())).ino;

    await (await createFileTlsSessionStore(file(), undefined, clock)).offer(HOST, CA, session('two'), true);
    expect((await stat(file())).ino).toBe(written);

    await (await createFileTlsSessionStore(file(), undefined, clock)).offer(HOST, CA, session('three'), false);
    expect((await createFileTlsSessionStore(file())).get(HOST, CA)?.toString()).toBe('three');

    now += REFRESH_MS;
    await (await createFileTlsSessionStore(file(), undefined, clock)).offer(HOST, CA, session('four'), true);
    expect((await createFileTlsSessionStore(file())).get(HOST, CA)?.toString()).toBe('four');
  });

  it('decides once per key and call: a second connection, or TLS 1.3 second ticket, writes nothing more', async () => {
    const store = await createFileTlsSessionStore(file());
    await store.offer(HOST, CA, session('one'), false);
    await store.offer(HOST, CA, session('two'), false);
    expect((await createFileTlsSessionStore(file())).get(HOST, CA)?.toString()).toBe('one');
  });

  it('that cannot be read counts as empty', async () => {
    await writeFile(file(), '{"version": 1, "sessions": 5}');
    expect((await createFileTlsSessionStore(file())).get(HOST, CA)).toBeUndefined();
    expect(await readFile(file(), 'utf8')).toBe('{"version": 1, "sessions": 5}');
  });
});
