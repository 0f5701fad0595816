/**
 * Reading tar archives that nothing has verified yet (an image's export, a container's
 * archive) with a bound on every byte: the archive read, each file kept, and what a
 * decompression may produce (its caller passes that bound as the archive's). An archive past
 * its bound is not read further: the source is destroyed and the read fails (ArchiveTooLarge).
 * Format: POSIX ustar/pax, as the engine writes it (tar-stream parses it; a long name or pax
 * header is at most 4 MiB there, and counted here like any other byte).
 */
import type * as TarStream from 'tar-stream';

/** Bounds of one archive read. */
export interface TarBounds {
  /** Bytes read from the archive at most (headers, padding and bodies alike). */
  maxArchiveBytes: number;
  /** Larger regular files are skipped, not kept, and named in `oversized`. */
  maxFileBytes: number;
}

/** Regular files of an archive by name, and the names of those too large to keep. */
export interface TarFiles {
  files: Map<string, Buffer>;
  oversized: Set<string>;
}

/** One entry of a walk: its header, and its body read chunk by chunk (undefined at its end). */
export interface TarEntry {
  name: string;
  type: string;
  size: number;
  read(): Promise<Buffer | undefined>;
}

/** An archive (or a decompressed stream) that passed its byte bound; `what` completes "the … is larger than". */
export class ArchiveTooLarge extends Error {
  override readonly name = 'ArchiveTooLarge' as const;
  constructor(
    readonly what: string,
    readonly limitBytes: number,
  ) {
    super(`${what} is larger than ${formatBytes(limitBytes)}`);
  }
}

/** `64 KiB`, `8 MiB`: bounds as the messages and docs write them. */
export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes / 1024} KiB`;
}

/**
 * Each entry of the archive `source`, in order; `visit` may read an entry's body (to its end,
 * or part of it: the rest is skipped) or leave it. More than `maxBytes` read from `source`
 * fails the walk with ArchiveTooLarge(`what`). `source` is destroyed whenever the walk ends
 * before it does. Resolves to the bytes read.
 */
export async function walkTar(
  source: NodeJS.ReadableStream,
  maxBytes: number,
  what: string,
  visit: (entry: TarEntry) => Promise<void> | void,
): Promise<number> {
  // Loaded here, not at start-up: only a cold cache reads an archive.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: keeps tar-stream off the warm path
  const tar = require('tar-stream') as typeof TarStream;
  const extract = tar.extract();
  const destroySource = () => (source as unknown as { destroy?: (error?: Error) => void }).destroy?.();
  let read = 0;
  source.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read <= maxBytes) return;
    extract.destroy(new ArchiveTooLarge(what, maxBytes));
    destroySource();
  });
  source.on('error', (error: Error) => extract.destroy(error));
  source.pipe(extract);
  try {
    for await (const body of extract) {
      // One iterator per body, never returned early: leaving a streamx iterator destroys the whole extract.
      const chunks = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      const next = async () => {
        const step = await chunks.next();
        return step.done ? undefined : step.value;
      };
      const { header } = body as unknown as { header: TarStream.Header };
      await visit({ name: header.name, type: header.type ?? 'file', size: header.size ?? 0, read: next });
      while ((await next()) !== undefined);
    }
  } finally {
    destroySource();
  }
  return read;
}

/**
 * Regular files of an archive by name (`run-docker/x`, or `passwd` for a single file),
 * within `bounds`; names with a `..` part are never kept. `keep` picks which to keep (all by
 * default): the others are skipped unread.
 */
export async function readTarFiles(
  archive: NodeJS.ReadableStream,
  bounds: TarBounds,
  what = 'the archive',
  keep: (name: string) => boolean = () => true,
): Promise<TarFiles> {
  const result: TarFiles = { files: new Map(), oversized: new Set() };
  await walkTar(archive, bounds.maxArchiveBytes, what, async (entry) => {
    if (entry.type !== 'file' || entry.name.split('/').includes('..') || !keep(entry.name)) return;
    if (entry.size > bounds.maxFileBytes) {
      result.oversized.add(entry.name);
      result.files.delete(entry.name);
      return;
    }
    result.files.set(entry.name, await readBody(entry));
    result.oversized.delete(entry.name);
  });
  return result;
}

/** An entry's whole body; its header said how long, and that was checked against a bound. */
export async function readBody(entry: TarEntry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let chunk = await entry.read(); chunk !== undefined; chunk = await entry.read()) chunks.push(chunk);
  return Buffer.concat(chunks);
}
