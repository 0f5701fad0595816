/**
 * The head of the installed `run-docker` file (shim/installed-shim.ts has its layout): reads
 * the shim's bundle from its line near the end of this same file and compiles it, with the
 * V8 code cache of an earlier call when the user's private cache holds one (code-cache.ts),
 * and hands the bundle a way to write one and to read its large strings on demand.
 * Compiling the bundle and the functions a call runs cost ~46 M of the ~310 M instructions of
 * a warm `--local --dry-run` without a cache (docs/performance.md). One file still installs as one file.
 *
 * Kept small: this part itself is compiled from source on every call.
 */
import { fstatSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { Script } from 'node:vm';
import { readHomeDir } from '../common/read-home-dir';
import { codeCacheFileName, readCodeCacheSync, type LoadedShimCode } from './code-cache';
import { locateShimParts, readBundleLine, type ShimLayout } from './installed-shim';
import { locateCacheRoot } from './locate-own-folder';

/** sha256 (hex) of the bundle's source below, computed when it was built (scripts/build.mjs):
 *  hashing it on every call would cost more than a millisecond. Anyone who could change the
 *  bundle without changing this line could change this line too: it is the same file. */
declare const SHIM_BUNDLE_SHA256: string;
/** Where the bundle and its strings are, from the end of this file (scripts/build.mjs). */
declare const SHIM_LAYOUT: ShimLayout;

// Kept open: the strings are read from this very file later, even if an upgrade replaces the path meanwhile.
const fd = openSync(__filename, 'r');
const parts = locateShimParts(fstatSync(fd).size, SHIM_LAYOUT);
const source = parts && readBundleLine(readLatin1(parts.bundleAt, SHIM_LAYOUT.bundleBytes + 2));
if (parts === undefined || source === undefined) {
  process.stderr.write(
    `run-docker: error: "${__filename}" is damaged: its bundle is missing\nhint: Install run-docker again (docs/install.md).\n`,
  );
  process.exit(125);
}
const { blobsAt } = parts;
const cache = locateShimCodeCache();
const script = new Script(source, {
  filename: __filename,
  lineOffset: SHIM_LAYOUT.bundleLine,
  columnOffset: 2,
  cachedData: cache?.data,
});
const code: LoadedShimCode = {
  cacheFile: cache?.file,
  accepted: cache?.data !== undefined && !script.cachedDataRejected,
  create: () => script.createCachedData(),
};
/** The bundle's large string number `index` (base64), from its line. */
const blob = (index: number): string => {
  const at = blobsAt[index];
  const bytes = SHIM_LAYOUT.blobBytes[index];
  const line = at === undefined || bytes === undefined ? '' : readLatin1(at, bytes + 2);
  if (!line.startsWith('//'))
    throw new Error(
      `"${__filename}" is damaged: its string ${index} is missing; install run-docker again (docs/install.md)`,
    );
  return line.slice(2);
};
(script.runInThisContext() as (...args: unknown[]) => void)(exports, require, module, __filename, dirname(__filename), {
  code,
  blob,
});

/** `length` bytes of this file at `position`, as latin1 (the file is ASCII: installed-shim.ts). */
function readLatin1(position: number, length: number): string {
  const bytes = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const read = readSync(fd, bytes, filled, length - filled, position + filled);
    if (read === 0) break;
    filled += read;
  }
  return bytes.toString('latin1', 0, filled);
}

/** The shim's cache file and its bytes, if any; undefined where no private cache can be named. */
function locateShimCodeCache(): { file: string; data: Buffer | undefined } | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  try {
    // As root, only a cache only root can change (locate-own-folder.ts): a code cache is code.
    const root = locateCacheRoot(process.env, readHomeDir(process.env)).dir;
    const file = codeCacheFileName('shim', SHIM_BUNDLE_SHA256, process.versions.v8, process.arch);
    return { file, data: root === undefined ? undefined : readCodeCacheSync(root, file, uid) };
  } catch {
    // No home to find the cache in: the bundle reports that itself.
    return undefined;
  }
}
