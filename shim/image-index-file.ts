/**
 * The image index's file (common/engine/image-index.ts): `<cache root>/engine-images.json`,
 * one index per engine socket. Read and written like the host's records (host-record-file.ts):
 * bounded, never blocking, only a file this user alone could have written; a damaged one is
 * one warning and then empty, and the next list writes it again.
 *
 * What a planted index could do: make a call believe in tags that are not on the engine (the
 * run then fails as for a removed image) or hide some. It cannot make an unverified mini run:
 * the shim checks the exported image's files against the signed manifest, and the
 * anti-rollback record still refuses an older mini (docs/trust.md, "The image index").
 */
import { join } from 'node:path';
import type { Logger } from '../contract/contract';
import {
  formatIndexFile,
  parseIndexFile,
  type EngineImageIndex,
  type EventsVerdict,
} from '../common/engine/image-index';
import type { ImageIndexStore } from '../common/engine/light-engine-client';
import { readHostRecord, writeHostRecord, type HostRecordKind } from './host-record-file';

export const IMAGE_INDEX_FILE = 'engine-images.json';

/** Far above an index of 16 repositories with their labels, far below a read anyone would notice. */
const MAX_INDEX_BYTES = 1024 * 1024;

const INDEX_KIND: HostRecordKind<Record<string, EngineImageIndex>> = {
  name: 'the index of local images',
  lost: 'the engine lists every image this time',
  rewrittenBy: 'the next call writes it again',
  maxBytes: MAX_INDEX_BYTES,
  parse: parseIndexFile,
  empty: () => ({}),
};

export interface ImageIndexFile extends ImageIndexStore {
  /** Waits for the writes queued this call. */
  flush(): Promise<void>;
}

/** The index of `engine` (its socket path) in `cacheRoot`. */
export function openImageIndexFile(cacheRoot: string, engine: string, log: Logger): ImageIndexFile {
  const file = join(cacheRoot, IMAGE_INDEX_FILE);
  let held: Promise<Record<string, EngineImageIndex>> | undefined;
  const readAll = () => (held ??= readHostRecord(file, INDEX_KIND, log));
  let writes: Promise<void> = Promise.resolve();
  const write = (index: EngineImageIndex | undefined) => {
    writes = writes.then(async () => {
      const text = formatIndexFile(await readAll(), engine, index);
      // Too large to read back: not written, and the list answers as it does without an index.
      if (Buffer.byteLength(text) > MAX_INDEX_BYTES) return;
      await writeHostRecord(file, text, log, {
        what: 'the index of local images',
        consequence: 'the next call lists every image again',
      });
    });
  };
  return {
    load: async () => (await readAll())[engine],
    save: (index) => write(index),
    forget: () => write(undefined),
    flush: () => writes,
    judged: (verdict) => log.debug(describeVerdict(verdict)),
  };
}

function describeVerdict(verdict: EventsVerdict | undefined): string {
  if (verdict === undefined) return 'image index: not used (the engine did not answer for its events)';
  if (verdict.kind === 'unchanged')
    return `image index: used (no image changed in ${verdict.eventsAfterMark} events since it was written)`;
  return `image index: not used (${verdict.kind === 'changed' ? `an image changed since: ${verdict.why}` : verdict.why}); the engine lists every image`;
}
