/**
 * V8 code caches for the scripts a call compiles: the shim's own bundle (read by
 * shim/loader.ts) and the tiny and mini payloads (shim/run-shim.ts). Without them every
 * call parses and compiles the same ~600 kB of JavaScript again, and the functions it runs:
 * measured under valgrind, a warm `--local --dry-run` executes 310 M instructions (Node's
 * bare start: 84 M), and the caches take 71 M of them away (docs/performance.md).
 *
 * Where they live: `<cache root>/code/<name>-<V8 version>-<arch>.v8`, beside the payload
 * cache and trusted like it — only in a cache folder that nobody else can write
 * (prepareCache), read with the same bounded, no-symlink, owner-checked reads. A code cache
 * is executable: V8 checks only that it was made by the same V8 with the same flags for a
 * source of the same length, so whoever can write it can run code as the user. That is
 * exactly who can already replace the cached payloads and the config file; docs/trust.md
 * ("Code caches") has the argument. The name carries a sha256 of the source, so a new
 * shim or a new mini never meets an old cache. V8 rejects a cache it cannot use
 * (`cachedDataRejected`), and the call then compiles from source and writes a new one.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs } from '../common/private-dir';
import { writeFileAtomically } from '../common/write-file-atomically';

/** Folder under the cache root. */
export const CODE_CACHE_FOLDER = 'code';

/** A code cache is a few hundred kB; far larger is not one of ours. */
export const CODE_CACHE_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * Pure: the cache file's name for a source with this sha256 (hex), under this V8. The V8
 * version and the architecture are in the name so that a Node upgrade starts a new file
 * rather than having V8 reject the old one on every call.
 */
export function codeCacheFileName(name: string, sourceSha256: string, v8Version: string, arch: string): string {
  const runtime = `${v8Version}-${arch}`.replace(/[^A-Za-z0-9._-]/g, '_');
  return `${name}-${sourceSha256.slice(0, 32)}-${runtime}.v8`;
}

/**
 * The cache file's bytes when `dir` and the file are the user's alone, else undefined.
 * Synchronous, for the loader, which runs before anything else; never follows a symlink,
 * never blocks on a FIFO, never reads more than CODE_CACHE_LIMIT_BYTES. `cacheRoot` and
 * its `code` folder must be folders owned by `uid` that group and others cannot write
 * (prepareCache makes them so; until it has, the loader simply compiles from source).
 */
export function readCodeCacheSync(cacheRoot: string, file: string, uid: number): Buffer | undefined {
  for (const dir of [cacheRoot, join(cacheRoot, CODE_CACHE_FOLDER)]) {
    const info = lstatSync(dir, { throwIfNoEntry: false });
    if (!info?.isDirectory() || info.uid !== uid || (info.mode & 0o022) !== 0) return undefined;
  }
  let fd: number;
  try {
    fd = openSync(
      join(cacheRoot, CODE_CACHE_FOLDER, file),
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
    );
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.uid !== uid || (info.mode & 0o022) !== 0 || info.size > CODE_CACHE_LIMIT_BYTES)
      return undefined;
    const data = Buffer.alloc(info.size);
    let filled = 0;
    while (filled < data.length) {
      const read = readSync(fd, data, filled, data.length - filled, filled);
      if (read === 0) break;
      filled += read;
    }
    return filled === data.length ? data : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** What the loader hands the bundle about the shim's own code cache. */
export interface LoadedShimCode {
  /** The cache file's name under `<cache root>/code`; undefined when the loader could not name it. */
  cacheFile: string | undefined;
  /** Whether V8 used a code cache for the bundle. */
  accepted: boolean;
  /** A code cache of the bundle as compiled so far (the functions this call ran included). */
  create: () => Buffer;
}

/**
 * The code caches of one call: the shim's (from the loader) and each payload's. Reads
 * happen only once the shim has judged the cache root (useRoot); what V8 could not take
 * from a cache is written back at the end of the call (flush), so the next call finds it.
 * Without a uid (Windows) there is no owner to check, and no code cache.
 */
export class CodeCaches {
  private root: string | undefined;
  private readonly pending = new Map<string, () => Buffer>();

  constructor(
    private readonly uid: number | undefined,
    private readonly shim: LoadedShimCode | undefined,
  ) {}

  /** The cache root prepareCache judged usable, or undefined: then nothing is read or written. */
  useRoot(cacheRoot: string | undefined): void {
    this.root = this.uid === undefined ? undefined : cacheRoot;
    if (this.root !== undefined && this.shim?.cacheFile !== undefined && !this.shim.accepted)
      this.pending.set(this.shim.cacheFile, this.shim.create);
  }

  /** A payload's cache bytes by the verified sha256 of its source, or undefined. */
  read(name: string, sourceSha256: string): { file: string; data: Buffer | undefined } | undefined {
    if (this.root === undefined || this.uid === undefined) return undefined;
    const file = codeCacheFileName(name, sourceSha256, process.versions.v8, process.arch);
    return { file, data: readCodeCacheSync(this.root, file, this.uid) };
  }

  /** Remembers a cache to write at the end of the call. */
  keep(file: string, create: () => Buffer): void {
    if (this.root !== undefined) this.pending.set(file, create);
  }

  /** Writes what this call compiled from source; a failure only costs the next call time. */
  async flush(log: { debug(line: string): void }): Promise<void> {
    if (this.root === undefined || this.pending.size === 0) return;
    const dir = join(this.root, CODE_CACHE_FOLDER);
    try {
      await makeDirs(dir);
      for (const [file, create] of this.pending) await writeFileAtomically(join(dir, file), create());
    } catch (error) {
      log.debug(`could not write a code cache in "${dir}": ${(error as Error).message}`);
    }
    this.pending.clear();
  }
}
