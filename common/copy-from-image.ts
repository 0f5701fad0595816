/**
 * Copies files out of an image without ever starting a container:
 * create (never start) → GET /containers/{id}/archive → remove, with the removal
 * guaranteed on success, failure and SIGINT/SIGTERM/SIGHUP. A container left by a
 * SIGKILLed shim is swept by the next extraction (its label names the dead process).
 * Engine API: https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Container/operation/ContainerArchive
 */
import { hostname } from 'node:os';
import type * as TarStream from 'tar-stream';
import type { EngineClient } from '../contract/engine-client';
import { ignoreFailure } from './ignore-failure';
import { cleanUpOnInterrupt, interruptedBy, waitForExit } from './interruption';

export const EXTRACTION_LABEL = 'org.run-docker.extraction';
/** Larger files are drained, not kept: what we copy is a few MB at most; an image may hold anything. */
const MAX_FILE_BYTES = 32 * 1024 * 1024;

/** Regular files under `path` in the image (or `path` itself), by their name in the archive. */
export async function copyFromImage(engine: EngineClient, imageId: string, path: string): Promise<Map<string, Buffer>> {
  await removeOrphanedExtractions(engine);
  // The clean-up goes in before the container is asked for: the engine has created it before
  // its answer arrives, and a signal in between must not leave it behind.
  let created: Promise<string> | undefined;
  let archive: NodeJS.ReadableStream | undefined;
  const removeContainer = async () => {
    // A create that failed left nothing to remove; a removal that fails is retried by the
    // next copy on this host (removeOrphanedExtractions, by label and pid).
    const id = created && (await ignoreFailure(created, 'a failed create leaves no container'));
    if (id !== undefined)
      await ignoreFailure(engine.removeContainer(id), 'the next copy removes an orphaned extraction');
  };
  const release = cleanUpOnInterrupt(async () => {
    // Stop the copy first: the engine may hold the removal until the archive is read.
    (archive as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    await removeContainer();
  });
  try {
    created = engine.createContainer({
      image: imageId,
      // Never started: a placeholder lets images without a command (FROM scratch) be created.
      command: ['/run-docker-never-started'],
      labels: { [EXTRACTION_LABEL]: `${hostname()}:${process.pid}` },
    });
    archive = await engine.copyFromContainer(await created, path);
    if (interruptedBy()) (archive as unknown as { destroy?: () => void }).destroy?.();
    const files = await readTarFiles(archive);
    // Interrupted, even just as the copy completed: the clean-up exits; nothing goes on.
    if (interruptedBy()) return await waitForExit();
    return files;
  } catch (error) {
    if (interruptedBy()) return await waitForExit();
    throw error;
  } finally {
    if (!interruptedBy()) {
      await removeContainer();
      release();
    }
  }
}

/** Regular files of an archive by name (`run-docker/x`, or `passwd` for a single file). */
export function readTarFiles(archive: NodeJS.ReadableStream): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const files = new Map<string, Buffer>();
    // Loaded here, not at start-up: only a cold cache extracts anything.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: keeps tar-stream off the warm path
    const tar = require('tar-stream') as typeof TarStream;
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => {
      const name = header.name;
      const keep = header.type === 'file' && !name.split('/').includes('..') && (header.size ?? 0) <= MAX_FILE_BYTES;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => {
        if (keep) chunks.push(chunk as Buffer);
      });
      stream.on('end', () => {
        if (keep) files.set(name, Buffer.concat(chunks));
        next();
      });
      stream.on('error', reject);
    });
    extract.on('finish', () => resolve(files));
    extract.on('error', reject);
    archive.on('error', reject);
    archive.pipe(extract);
  });
}

/** Removes extraction containers whose shim process on this host is gone. */
async function removeOrphanedExtractions(engine: EngineClient): Promise<void> {
  const containers = await engine.listContainers(EXTRACTION_LABEL);
  const thisHost = hostname();
  await Promise.all(
    containers
      .filter((info) => {
        const [host, pid] = (info.labels[EXTRACTION_LABEL] ?? '').split(':');
        return host === thisHost && !isProcessAlive(Number(pid));
      })
      .map((info) =>
        ignoreFailure(engine.removeContainer(info.id), 'another run may be removing it; the next copy tries again'),
      ),
  );
}

function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
