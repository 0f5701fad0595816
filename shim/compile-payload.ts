import { dirname } from 'node:path';
import { Script } from 'node:vm';
import type { CodeCaches } from './code-cache';

/** What compilePayload compiled: the module's exports, and its code cache for next time. */
export interface CompiledPayload {
  exports: unknown;
  /** Whether V8 took the code cache it was given (nothing was compiled from source). */
  cacheAccepted: boolean;
  /** A code cache of the payload as compiled so far, the functions this call ran included. */
  createCache: () => Buffer;
}

/**
 * Runs a verified CommonJS bundle from the very bytes that were hashed (not re-read
 * from disk, where it could change between check and use) and returns its exports.
 * `cachedData` is a V8 code cache of the same source (shim/code-cache.ts); V8 refuses one
 * that does not fit, and then compiles from source.
 */
export function compilePayload(source: string, filename: string, cachedData?: Buffer): CompiledPayload {
  const module = { exports: {} as unknown };
  // Node's own CommonJS wrapper, on the same line, so line numbers in stack traces hold.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename,
    cachedData,
  });
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  // The shim's own require: a payload is one bundle and requires Node's built-ins only, and
  // createRequire would load node:module and Node's ES module loader on every call.
  wrapper(module.exports, require, module, filename, dirname(filename));
  return {
    exports: module.exports,
    cacheAccepted: cachedData !== undefined && !script.cachedDataRejected,
    createCache: () => script.createCachedData(),
  };
}

/** compilePayload with the call's code caches: read by `sha256` of the source, and kept for writing when V8 had none. */
export function compilePayloadCached(
  source: string,
  filename: string,
  cache: { name: string; sha256: string; caches: CodeCaches },
): unknown {
  const found = cache.caches.read(cache.name, cache.sha256);
  const compiled = compilePayload(source, filename, found?.data);
  if (found && !compiled.cacheAccepted) cache.caches.keep(found.file, compiled.createCache);
  return compiled.exports;
}
