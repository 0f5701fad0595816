/**
 * The image index's file (common/engine/image-index.ts): `<cache root>/engine-images.json`,
 * one index per engine socket. It is a cache of what the engine says, nothing more, so it
 * follows the code caches' rules (code-cache.ts): it lives in the cache folder runShim judged
 * (none when that folder could not be used: then it is neither read nor written), it is read
 * only when nobody but this user could have written it, bounded and never blocking, and a
 * file that cannot be used, or written, costs a debug line and a full list, never a warning.
 * It is written once, at the end of the call, whole and renamed.
 *
 * What a planted index could do is in docs/trust.md ("the index of local images").
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
import { currentUser, readPrivateFile } from '../common/read-private-file';
import { writeFileAtomically } from '../common/write-file-atomically';

export const IMAGE_INDEX_FILE = 'engine-images.json';

/** Far above an index of 16 repositories with their labels, far below a read anyone would notice. */
const MAX_INDEX_BYTES = 1024 * 1024;

export class ImageIndexFile implements ImageIndexStore {
  private readonly root: Promise<string | undefined>;
  private settleRoot: (root: string | undefined) => void = () => undefined;
  private held: Promise<Record<string, EngineImageIndex>> | undefined;
  /** What flush writes: an index, `null` to drop this engine's, undefined for nothing. */
  private pending: EngineImageIndex | null | undefined;

  /** `engine`: the socket path the index is kept under. */
  constructor(
    private readonly engine: string,
    private readonly log: Logger,
  ) {
    this.root = new Promise((resolve) => (this.settleRoot = resolve));
  }

  /** The cache root runShim judged usable, or undefined for none (run-shim.ts, as for the code caches). */
  useRoot(root: string | undefined): void {
    this.settleRoot(root);
  }

  async load(): Promise<EngineImageIndex | undefined> {
    return (await this.readAll())[this.engine];
  }

  save(index: EngineImageIndex): void {
    this.pending = index;
  }

  forget(): void {
    this.pending = null;
  }

  judged(verdict: EventsVerdict | undefined): void {
    this.log.debug(describeVerdict(verdict));
  }

  /** Writes what this call learned, if anything, into the cache root it was given. */
  async flush(): Promise<void> {
    const { pending } = this;
    this.pending = undefined;
    if (pending === undefined) return;
    const root = await this.root;
    if (root === undefined) return;
    const file = join(root, IMAGE_INDEX_FILE);
    const text = formatIndexFile(await this.readAll(), this.engine, pending ?? undefined);
    // Too large to read back: not written, and the list answers as it does without an index.
    if (Buffer.byteLength(text) > MAX_INDEX_BYTES) return;
    try {
      await writeFileAtomically(file, text);
    } catch (error) {
      this.log.debug(`could not write the image index "${file}": ${(error as Error).message}`);
    }
  }

  private readAll(): Promise<Record<string, EngineImageIndex>> {
    return (this.held ??= this.root.then((root) =>
      root === undefined ? {} : this.read(join(root, IMAGE_INDEX_FILE)),
    ));
  }

  private async read(file: string): Promise<Record<string, EngineImageIndex>> {
    try {
      const bytes = await readPrivateFile(file, { maxBytes: MAX_INDEX_BYTES, writableOnlyBy: currentUser() });
      if (bytes === undefined) return {};
      const parsed = parseIndexFile(bytes.toString('utf8'));
      if (parsed === undefined) this.log.debug(`the image index "${file}" is damaged; the engine lists every image`);
      return parsed ?? {};
    } catch (error) {
      this.log.debug(
        `the image index "${file}" is not used (${(error as Error).message}); the engine lists every image`,
      );
      return {};
    }
  }
}

function describeVerdict(verdict: EventsVerdict | undefined): string {
  if (verdict === undefined) return 'image index: not used (the engine did not answer for its events)';
  if (verdict.kind === 'unchanged')
    return `image index: used (no image changed in ${verdict.eventsAfterMark} events since it was written)`;
  return `image index: not used (${verdict.kind === 'changed' ? `an image changed since: ${verdict.why}` : verdict.why}); the engine lists every image`;
}
