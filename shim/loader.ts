/**
 * The head of the installed `run-docker` file. The shim's bundle follows it in the same file
 * as line comments (scripts/build.mjs), which Node skims without compiling; this loader
 * compiles the bundle itself, with the V8 code cache of an earlier call when the user's
 * private cache holds one (code-cache.ts), and hands the bundle a way to write one.
 * Compiling the bundle and the functions a call runs cost ~46 M of the ~310 M instructions of
 * a warm `--local --dry-run` (docs/performance.md). One file still installs as one file.
 *
 * Kept small: this part itself is compiled from source on every call.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Script } from 'node:vm';
import { readHomeDir } from '../common/read-home-dir';
import { codeCacheFileName, extractBundle, readCodeCacheSync, type LoadedShimCode } from './code-cache';
import { cacheRootDir } from './payload-cache';

/** sha256 (hex) of the bundle below, computed when it was built (scripts/build.mjs): hashing
 *  400 kB on every call would cost more than a millisecond. Anyone who could change the
 *  bundle without changing this line could change this line too: it is the same file. */
declare const SHIM_BUNDLE_SHA256: string;

// ASCII only (commentOutBundle checks it), so latin1 reads it as UTF-8 would, without decoding.
const fileText = readFileSync(__filename).toString('latin1');
const extracted = extractBundle(fileText);
if (extracted === undefined) {
  process.stderr.write(`run-docker: error: "${__filename}" is damaged: its bundle is missing\nhint: Install run-docker again (docs/install.md).\n`);
  process.exit(125);
}
const { bundle, lineOffset } = extracted;
const cache = locateShimCodeCache();
const script = new Script(`(function (exports, require, module, __filename, __dirname, shimLoader) {${bundle}\n})`, {
  filename: __filename,
  lineOffset,
  cachedData: cache?.data,
});
const code: LoadedShimCode = {
  cacheFile: cache?.file,
  accepted: cache?.data !== undefined && !script.cachedDataRejected,
  create: () => script.createCachedData(),
};
(script.runInThisContext() as (...args: unknown[]) => void)(exports, require, module, __filename, dirname(__filename), { code });

/** The shim's cache file and its bytes, if any; undefined where no private cache can be named. */
function locateShimCodeCache(): { file: string; data: Buffer | undefined } | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  try {
    const root = cacheRootDir(process.env, readHomeDir(process.env)).dir;
    const file = codeCacheFileName('shim', SHIM_BUNDLE_SHA256, process.versions.v8, process.arch);
    return { file, data: readCodeCacheSync(root, file, uid) };
  } catch {
    // No home to find the cache in: the bundle reports that itself.
    return undefined;
  }
}
