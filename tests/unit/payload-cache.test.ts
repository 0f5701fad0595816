import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { COPY_BOUNDS } from '../../common/copy-from-image';
import { readTarFiles } from '../../common/read-tar-files';
import { payloadCacheDir, readCachedFile, writeCachedPayload } from '../../shim/payload-cache';

let cacheRoot: string;
beforeEach(async () => {
  cacheRoot = await mkdtemp(join(tmpdir(), 'run-docker-cache-'));
});
afterEach(() => rm(cacheRoot, { recursive: true, force: true }));

const imageId = `sha256:${'c'.repeat(64)}`;
const files = (text: string) =>
  new Map([
    ['manifest.json', Buffer.from(`{"v":"${text}"}`)],
    ['run.js', Buffer.from(text)],
  ]);

describe('payload cache', () => {
  it('keys entries by image ID and leaves no staging folders behind', async () => {
    const dir = payloadCacheDir(cacheRoot, imageId);
    expect(dir).toBe(join(cacheRoot, 'payloads', 'c'.repeat(64)));
    await writeCachedPayload(cacheRoot, dir, files('one'));
    expect((await readCachedFile(dir, 'run.js'))?.toString()).toBe('one');
    expect(await readCachedFile(dir, 'missing.js')).toBeUndefined();
    expect(await readdir(join(cacheRoot, 'staging'))).toEqual([]);
  });

  it('replaces a tampered entry whole', async () => {
    const dir = payloadCacheDir(cacheRoot, imageId);
    await writeCachedPayload(cacheRoot, dir, files('one'));
    await writeFile(join(dir, 'run.js'), 'tampered');
    await writeFile(join(dir, 'extra.js'), 'left by someone');
    await writeCachedPayload(cacheRoot, dir, files('two'));
    expect((await readdir(dir)).sort()).toEqual(['manifest.json', 'run.js']);
    expect(await readFile(join(dir, 'run.js'), 'utf8')).toBe('two');
  });

  it('ends with one complete entry when many writers race', async () => {
    const dir = payloadCacheDir(cacheRoot, imageId);
    await Promise.all(Array.from({ length: 20 }, () => writeCachedPayload(cacheRoot, dir, files('same'))));
    expect(await readFile(join(dir, 'run.js'), 'utf8')).toBe('same');
    expect(await readFile(join(dir, 'manifest.json'), 'utf8')).toBe('{"v":"same"}');
    expect(await readdir(join(cacheRoot, 'staging'))).toEqual([]);
  });
});

describe('readTarFiles', () => {
  it('returns regular files by their archive name and skips the rest', async () => {
    const pack = tar.pack();
    pack.entry({ name: 'run-docker', type: 'directory' });
    pack.entry({ name: 'run-docker/manifest.json' }, '{}');
    pack.entry({ name: 'run-docker/run.js' }, 'code');
    pack.entry({ name: 'run-docker/link', type: 'symlink', linkname: '/etc/passwd' });
    pack.entry({ name: 'run-docker/../escape.js' }, 'bad');
    pack.finalize();
    const result = (await readTarFiles(Readable.from(pack), COPY_BOUNDS)).files;
    expect([...result.keys()].sort()).toEqual(['run-docker/manifest.json', 'run-docker/run.js']);
    expect(result.get('run-docker/run.js')?.toString()).toBe('code');
  });
});
