import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPrivateDir, makeDirs } from '../../common/private-dir';
import { findForeignWriter, readPrivateFile, UnreadableFile } from '../../common/read-private-file';
import { selectHomeDir } from '../../common/read-home-dir';
import { parseCachedUser, isPlainHome } from '../../payload/run/image-user';
import { payloadCacheDir, prepareCache, readCachedFile, writeCachedPayload } from '../../shim/payload-cache';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-docker-host-files-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const quiet = { warn: jest.fn(), debug: jest.fn() };
const uid = process.getuid!();

describe('selectHomeDir', () => {
  it('takes HOME only when absolute, else the user database home, else nothing', () => {
    expect(selectHomeDir('/home/ann', '/home/db')).toBe('/home/ann');
    expect(selectHomeDir('', '/home/db')).toBe('/home/db');
    expect(selectHomeDir('rel', '/home/db')).toBe('/home/db');
    expect(selectHomeDir('./x', '/home/db')).toBe('/home/db');
    expect(selectHomeDir(undefined, '/home/db')).toBe('/home/db');
    expect(selectHomeDir('rel', '')).toBeUndefined();
    expect(selectHomeDir('', 'relative-db')).toBeUndefined();
  });
});

describe('readPrivateFile', () => {
  it('reads a regular file, says undefined for a missing one', async () => {
    await writeFile(join(dir, 'f'), 'hello');
    expect((await readPrivateFile(join(dir, 'f'), { maxBytes: 10 }))?.toString()).toBe('hello');
    expect(await readPrivateFile(join(dir, 'missing'), { maxBytes: 10 })).toBeUndefined();
  });

  it('refuses a FIFO without blocking, a symlink unless followed, a device, and a file over the limit', async () => {
    spawnSync('mkfifo', [join(dir, 'fifo')]);
    await symlink('/dev/zero', join(dir, 'zero'));
    await writeFile(join(dir, 'big'), 'x'.repeat(11));
    await writeFile(join(dir, 'target'), 'ok');
    await symlink(join(dir, 'target'), join(dir, 'link'));
    const reasonOf = (path: string, followSymlink = false) =>
      readPrivateFile(path, { maxBytes: 10, followSymlink }).then(
        () => 'read',
        (error: unknown) => (error instanceof UnreadableFile ? `${error.reason}: ${error.message}` : String(error)),
      );
    expect(await reasonOf(join(dir, 'fifo'))).toBe('not-regular: is not a regular file (a FIFO)');
    expect(await reasonOf(join(dir, 'zero'))).toBe('symlink: is not a regular file (a symlink)');
    expect(await reasonOf(join(dir, 'zero'), true)).toBe('not-regular: is not a regular file (a character device)');
    expect(await reasonOf(join(dir, 'big'))).toBe('too-large: is larger than 10 bytes (11)');
    expect(await reasonOf(join(dir, 'link'))).toBe('symlink: is not a regular file (a symlink)');
    expect(await reasonOf(join(dir, 'link'), true)).toBe('read');
  });
});

describe('readPrivateFile, who may have written it', () => {
  // Every cache file (payloads, verification and refusal records, tokens, image users): one
  // planted by another user in a folder they could write is never taken.
  it('refuses by default a file another user owns, or every user may write; root-owned is fine', async () => {
    const file = join(dir, 'record.json');
    await writeFile(file, '{}');
    expect((await readPrivateFile(file, { maxBytes: 10 }))?.toString()).toBe('{}');
    await chmod(file, 0o666);
    await expect(readPrivateFile(file, { maxBytes: 10 })).rejects.toThrow('can be changed by every user (mode 0666)');
    await chmod(file, 0o600);
    await chown(file, 4321, 4321);
    await expect(readPrivateFile(file, { maxBytes: 10 })).rejects.toThrow('can be changed by uid 4321, its owner');
    // Its owner reads it; only an explicit undefined (Windows: no owners to check) skips the check.
    expect((await readPrivateFile(file, { maxBytes: 10, writableOnlyBy: { uid: 4321, gid: 4321 } }))?.toString()).toBe(
      '{}',
    );
    expect((await readPrivateFile(file, { maxBytes: 10, writableOnlyBy: undefined }))?.toString()).toBe('{}');
  });
});

describe('checkPrivateDir', () => {
  it('accepts our 0700 folder, repairs one others can write, refuses a symlink, a file, another owner', async () => {
    const mine = join(dir, 'mine');
    await mkdir(mine, { mode: 0o700 });
    expect(await checkPrivateDir(mine, uid)).toEqual({ state: 'private' });
    await chmod(mine, 0o777);
    expect(await checkPrivateDir(mine, uid)).toEqual({ state: 'repaired', mode: 0o777 });
    expect(await checkPrivateDir(mine, uid)).toEqual({ state: 'private' });
    await symlink(mine, join(dir, 'link'));
    expect(await checkPrivateDir(join(dir, 'link'), uid)).toEqual({ state: 'unusable', why: 'is a symlink' });
    await writeFile(join(dir, 'file'), '');
    expect(await checkPrivateDir(join(dir, 'file'), uid)).toEqual({ state: 'unusable', why: 'is not a folder' });
    expect(await checkPrivateDir(mine, uid + 1)).toEqual({
      state: 'unusable',
      why: `belongs to uid ${uid}, not to you`,
    });
    expect(await checkPrivateDir(join(dir, 'absent'), uid)).toEqual({ state: 'missing' });
  });

  it('makeDirs creates folders 0700 and names the real error instead of ENOENT', async () => {
    await makeDirs(join(dir, 'a', 'b'));
    expect(await readdir(join(dir, 'a'))).toEqual(['b']);
    await writeFile(join(dir, 'file'), '');
    await expect(makeDirs(join(dir, 'file', 'x', 'y'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('parseCachedUser', () => {
  const entry = (user: unknown) => JSON.stringify({ user });
  const good = { name: 'docker-user', uid: 1000, gid: 1000, home: '/home/docker-user' };
  it('takes an unprivileged docker-user with a plain home', () => {
    expect(parseCachedUser(entry(good))).toEqual({ user: good });
    expect(parseCachedUser(entry(null))).toEqual({ user: null });
  });
  it('never takes uid or gid 0, another name, or a home that is not plain', () => {
    for (const bad of [
      { ...good, uid: 0 },
      { ...good, gid: 0 },
      { ...good, uid: -1 },
      { ...good, uid: 1.5 },
      { ...good, name: 'root' },
      { ...good, home: '/home/docker-user/../../etc' },
      { ...good, home: 'home' },
      { ...good, home: '/' },
      { ...good, home: '/home/x\n' },
    ]) {
      expect(parseCachedUser(entry(bad))).toBeUndefined();
    }
    expect(parseCachedUser('{ truncated')).toBeUndefined();
  });
  it('isPlainHome', () => {
    expect(isPlainHome('/home/a b')).toBe(true);
    expect(isPlainHome('/home/a/')).toBe(false);
    expect(isPlainHome('/home//a')).toBe(false);
  });
});

describe('payload cache', () => {
  const imageId = `sha256:${'d'.repeat(64)}`;
  const files = new Map([
    ['manifest.json', Buffer.from('{}')],
    ['run.js', Buffer.from('code')],
  ]);

  it('keeps an identical entry in place, so a reader never sees its files vanish', async () => {
    const entry = payloadCacheDir(dir, imageId);
    await writeCachedPayload(dir, entry, files);
    // A replacement would be another folder (the old one moved aside): another inode.
    const before = (await stat(entry)).ino;
    await writeCachedPayload(dir, entry, files);
    expect((await stat(entry)).ino).toBe(before);
    expect(await readFile(join(entry, 'run.js'), 'utf8')).toBe('code');
  });

  it('never lets a reader see an entry vanish while writers of the same payload race', async () => {
    const entry = payloadCacheDir(dir, imageId);
    await writeCachedPayload(dir, entry, files);
    let writing = true;
    const missing: string[] = [];
    const reader = (async () => {
      while (writing) {
        for (const name of ['manifest.json', 'run.js'])
          if ((await readCachedFile(entry, name)) === undefined) missing.push(name);
        // Reads are synchronous inside (read-private-file.ts): let the writers' file system calls run between them.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for (let round = 0; round < 5; round++)
      await Promise.all(Array.from({ length: 20 }, () => writeCachedPayload(dir, entry, files)));
    writing = false;
    await reader;
    expect(missing).toEqual([]);
  });

  it('sweeps staging folders of processes that are gone and keeps those of running ones', async () => {
    const staging = join(dir, 'staging');
    const deadPid = spawnSync('true').pid;
    for (const name of [`new-${deadPid}-abc123`, `old-${deadPid}-abc123`, `new-${process.pid}-abc123`])
      await mkdir(join(staging, name), { recursive: true });
    expect(await prepareCache(dir, uid, quiet)).toBe(dir);
    expect(await readdir(staging)).toEqual([`new-${process.pid}-abc123`]);
  });

  it('is not used when a folder in it is not ours', async () => {
    await mkdir(join(dir, 'payloads'));
    const warnings: string[] = [];
    expect(
      await prepareCache(dir, uid + 1, { warn: (line) => warnings.push(line), debug: () => undefined }),
    ).toBeUndefined();
    expect(warnings).toEqual([
      `the cache folder "${dir}" belongs to uid ${uid}, not to you; running without the cache`,
    ]);
  });
});

describe('findForeignWriter', () => {
  const user = { uid: 1000, gid: 1000 };
  it('names who besides the user (or root) could write', () => {
    expect(findForeignWriter({ uid: 1000, gid: 1000, mode: 0o100644 }, user)).toBeUndefined();
    expect(findForeignWriter({ uid: 0, gid: 0, mode: 0o100644 }, user)).toBeUndefined();
    expect(findForeignWriter({ uid: 1000, gid: 1000, mode: 0o100664 }, user)).toBeUndefined(); // the user's own group
    expect(findForeignWriter({ uid: 1000, gid: 100, mode: 0o100664 }, user)).toBe('group 100 (mode 0664)');
    expect(findForeignWriter({ uid: 1000, gid: 1000, mode: 0o100666 }, user)).toBe('every user (mode 0666)');
    expect(findForeignWriter({ uid: 4321, gid: 1000, mode: 0o100600 }, user)).toBe('uid 4321, its owner');
  });
});
