import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodeCaches, codeCacheFileName, readCodeCacheSync } from '../../shim/code-cache';
import { locateShimParts, packShimTail, readBundleLine, WRAPPER_HEAD } from '../../shim/installed-shim';
import { compilePayload } from '../../shim/compile-payload';

const uid = process.getuid?.() ?? 0;
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'run-docker-code-cache-'));
  chmodSync(root, 0o700);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const quiet = { debug: () => undefined };

describe('the installed file (shim/installed-shim.ts)', () => {
  const base64 = (length: number, fill: string) => fill.repeat(length);
  const bundle = `"use strict";var a="*/ // \\n",p="${base64(1500, 'QUJD')}",q="short+base64==";function b(){return "x"+a}module.exports={b,c:"${base64(1200, 'eHl6')}=="};\n`;

  it('carries the bundle on one line and its large strings on lines of their own, where the layout says', () => {
    const head = '#!/usr/bin/env node\nloader();\n';
    const { tail, layout, compiled } = packShimTail(bundle, 2);
    const file = Buffer.from(head + tail, 'latin1');
    expect(layout).toEqual({ bundleLine: 3, bundleBytes: compiled.length, blobBytes: [6000, 4802] });
    expect(compiled).toBe(
      `${WRAPPER_HEAD}"use strict";var a="*/ // \\n",p=shimLoader.blob(0),q="short+base64==";function b(){return "x"+a}module.exports={b,c:shimLoader.blob(1)};})`,
    );
    const parts = locateShimParts(file.length, layout)!;
    const read = (at: number, bytes: number) => file.subarray(at, at + bytes + 2).toString('latin1');
    expect(readBundleLine(read(parts.bundleAt, layout.bundleBytes))).toBe(compiled);
    expect(read(parts.blobsAt[0]!, 6000)).toBe(`//${base64(1500, 'QUJD')}`);
    expect(read(parts.blobsAt[1]!, 4802)).toBe(`//${base64(1200, 'eHl6')}==`);
    // Line numbers in stack traces: the bundle's line is the fourth (offset 3).
    expect((head + tail).split('\n')[layout.bundleLine]).toBe(`//${compiled}`);
  });

  it('is JavaScript that does nothing but the loader, and the bundle compiles to what it was', () => {
    const { tail, compiled } = packShimTail('throw new Error("must not run")', 1);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the point is to evaluate it
    expect(() => (new Function(`globalThis.ran = 1;\n${tail}`) as () => void)()).not.toThrow();
    const blobs = ['QUJD'.repeat(300)];
    const { compiled: withBlob } = packShimTail(`module.exports = "${blobs[0]}";`, 1);
    const module = { exports: undefined as unknown };
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the point is to evaluate it
    (new Function(`return ${withBlob}`) as () => (...args: unknown[]) => void)()(
      module.exports,
      undefined,
      module,
      'f',
      'd',
      { blob: (index: number) => blobs[index] },
    );
    expect(module.exports).toBe(blobs[0]);
    expect(compiled.startsWith(WRAPPER_HEAD)).toBe(true);
  });

  it('refuses a bundle of more than one line, or not ASCII', () => {
    expect(() => packShimTail('a\nb', 1)).toThrow(/more than one line/);
    expect(() => packShimTail('a\rb', 1)).toThrow(/more than one line/);
    expect(() => packShimTail('a\u2028b', 1)).toThrow(/more than one line/);
    expect(() => packShimTail('var s = "é";', 1)).toThrow(/not ASCII/);
  });

  it('finds no bundle in a damaged or truncated file', () => {
    const { tail, layout } = packShimTail(bundle, 0);
    expect(locateShimParts(100, layout)).toBeUndefined();
    expect(readBundleLine(`// ${WRAPPER_HEAD}x})`)).toBeUndefined();
    expect(readBundleLine(`//${WRAPPER_HEAD}x}`)).toBeUndefined();
    // A file cut short by 10 bytes: the bundle's line is looked for 10 bytes early, and is not found there.
    const file = `loader();\n${tail}`.slice(0, -10);
    const parts = locateShimParts(file.length, layout)!;
    expect(readBundleLine(file.slice(parts.bundleAt, parts.bundleAt + layout.bundleBytes + 2))).toBeUndefined();
  });
});

describe('cache file names', () => {
  it('carry the source hash, the V8 version and the architecture, file-name safe', () => {
    expect(codeCacheFileName('shim', 'ab'.repeat(32), '11.3.244.8-node.38', 'x64')).toBe(
      `shim-${'ab'.repeat(16)}-11.3.244.8-node.38-x64.v8`,
    );
    expect(codeCacheFileName('mini', 'cd'.repeat(32), '12.4/../x', 'arm64')).toBe(
      `mini-${'cd'.repeat(16)}-12.4_.._x-arm64.v8`,
    );
  });
});

describe('reading a code cache', () => {
  const file = 'shim-1-x.v8';
  const place = (mode = 0o600) => {
    mkdirSync(join(root, 'code'), { mode: 0o700 });
    writeFileSync(join(root, 'code', file), 'bytes', { mode });
  };

  it('reads a private file in private folders', () => {
    place();
    expect(readCodeCacheSync(root, file, uid)?.toString()).toBe('bytes');
  });

  it('reads nothing when a folder or the file is open to others, or owned by someone else', () => {
    place();
    chmodSync(join(root, 'code'), 0o777);
    expect(readCodeCacheSync(root, file, uid)).toBeUndefined();
    chmodSync(join(root, 'code'), 0o700);
    chmodSync(root, 0o757);
    expect(readCodeCacheSync(root, file, uid)).toBeUndefined();
    chmodSync(root, 0o700);
    chmodSync(join(root, 'code', file), 0o666);
    expect(readCodeCacheSync(root, file, uid)).toBeUndefined();
    chmodSync(join(root, 'code', file), 0o600);
    expect(readCodeCacheSync(root, file, uid + 1)).toBeUndefined();
  });

  it('never follows a symlink and never blocks on a FIFO', () => {
    mkdirSync(join(root, 'code'), { mode: 0o700 });
    writeFileSync(join(root, 'elsewhere'), 'planted', { mode: 0o600 });
    symlinkSync(join(root, 'elsewhere'), join(root, 'code', file));
    expect(readCodeCacheSync(root, file, uid)).toBeUndefined();
    execFileSync('mkfifo', [join(root, 'code', 'fifo.v8')]);
    expect(readCodeCacheSync(root, 'fifo.v8', uid)).toBeUndefined();
  });

  it('is nothing when there is no cache yet', () => {
    expect(readCodeCacheSync(root, file, uid)).toBeUndefined();
    expect(readCodeCacheSync(join(root, 'missing'), file, uid)).toBeUndefined();
  });
});

describe('a payload compiled with its code cache', () => {
  const source = 'exports.add = (a, b) => a + b; exports.twice = (x) => exports.add(x, x);';

  it('runs the same, and V8 takes the cache it made', () => {
    const first = compilePayload(source, join(root, 'run.js'));
    expect(first.cacheAccepted).toBe(false);
    expect((first.exports as { twice(x: number): number }).twice(21)).toBe(42);
    const second = compilePayload(source, join(root, 'run.js'), first.createCache());
    expect(second.cacheAccepted).toBe(true);
    expect((second.exports as { twice(x: number): number }).twice(4)).toBe(8);
  });

  it('compiles from source when the cache is garbage or made for another source', () => {
    const garbage = compilePayload(source, join(root, 'run.js'), Buffer.from('not a code cache'));
    expect(garbage.cacheAccepted).toBe(false);
    expect((garbage.exports as { add(a: number, b: number): number }).add(1, 2)).toBe(3);
    // A source this process has not compiled yet: V8 answers a repeated one from its
    // in-memory cache without looking at the code cache at all.
    const other = compilePayload('exports.x = 1;', join(root, 'x.js')).createCache();
    const fresh = compilePayload(`${source} exports.fresh = true;`, join(root, 'run.js'), other);
    expect(fresh.cacheAccepted).toBe(false);
    expect((fresh.exports as { fresh: boolean }).fresh).toBe(true);
  });
});

describe('the code caches of one call', () => {
  const shimCode = (accepted: boolean) => ({
    cacheFile: 'shim-s.v8',
    accepted,
    create: () => Buffer.from('shim cache'),
  });

  it('writes what V8 had no cache for, 0600 in a 0700 folder, and nothing else', async () => {
    const caches = new CodeCaches(uid, shimCode(false));
    caches.useRoot(root);
    caches.keep('mini-m.v8', () => Buffer.from('mini cache'));
    await caches.flush(quiet);
    expect(readdirSync(join(root, 'code')).sort()).toEqual(['mini-m.v8', 'shim-s.v8']);
    expect(readCodeCacheSync(root, 'mini-m.v8', uid)?.toString()).toBe('mini cache');
    expect(readCodeCacheSync(root, 'shim-s.v8', uid)?.toString()).toBe('shim cache');
  });

  it('does not rewrite a cache V8 took', async () => {
    const caches = new CodeCaches(uid, shimCode(true));
    caches.useRoot(root);
    await caches.flush(quiet);
    expect(readdirSync(root)).toEqual([]);
  });

  it('reads and writes nothing without a trusted cache root, or without a uid to check (Windows)', async () => {
    const untrustedRoot = new CodeCaches(uid, shimCode(false));
    untrustedRoot.useRoot(undefined);
    const noUid = new CodeCaches(undefined, shimCode(false));
    noUid.useRoot(root);
    for (const caches of [untrustedRoot, noUid]) {
      caches.keep('mini-m.v8', () => Buffer.from('x'));
      expect(caches.read('mini', 'ab'.repeat(32))).toBeUndefined();
      await caches.flush(quiet);
    }
    expect(readdirSync(root)).toEqual([]);
  });
});
