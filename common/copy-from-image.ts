/**
 * Copies files out of an image without ever starting a container:
 * create (never start) → GET /containers/{id}/archive → remove, with the removal
 * guaranteed on success, failure and SIGINT/SIGTERM/SIGHUP. A container left by a
 * SIGKILLed shim is swept by the next extraction (its label names the dead process).
 * Engine API: https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Container/operation/ContainerArchive
 */
import { hostname } from 'node:os';
import type { EngineClient } from '../contract/engine-client';
import { ignoreFailure } from './ignore-failure';
import { cleanUpOnInterrupt, interruptedBy, waitForExit } from './interruption';
import { readTarFiles, type TarBounds, type TarFiles } from './read-tar-files';

export const EXTRACTION_LABEL = 'org.run-docker.extraction';

/** What a copy keeps by default: what we copy is a few MB at most; an image may hold anything. */
export const COPY_BOUNDS: TarBounds = { maxArchiveBytes: 64 * 1024 * 1024, maxFileBytes: 32 * 1024 * 1024 };

/** Copies the regular files under `path` (or `path` itself) out of the container, within `bounds`. */
export type CopyFiles = (path: string, bounds?: TarBounds) => Promise<TarFiles>;

/** Regular files under `path` in the image (or `path` itself), by their name in the archive. */
export async function copyFromImage(engine: EngineClient, imageId: string, path: string): Promise<Map<string, Buffer>> {
  return withExtractionContainer(engine, imageId, async (copy) => (await copy(path)).files);
}

/**
 * Runs `use` with one created, never-started container of the image, whose `copy` reads
 * paths out of it (GET /containers/{id}/archive, one request per path; a missing path
 * rejects with statusCode 404); the container is removed afterwards, also on a signal.
 */
export async function withExtractionContainer<T>(
  engine: EngineClient,
  imageId: string,
  use: (copy: CopyFiles) => Promise<T>,
): Promise<T> {
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
  const destroyArchive = () => (archive as unknown as { destroy?: () => void } | undefined)?.destroy?.();
  const release = cleanUpOnInterrupt(async () => {
    // Stop the copy first: the engine may hold the removal until the archive is read.
    destroyArchive();
    await removeContainer();
  });
  try {
    created = engine.createContainer({
      image: imageId,
      // Never started: a placeholder lets images without a command (FROM scratch) be created.
      command: ['/run-docker-never-started'],
      labels: { [EXTRACTION_LABEL]: `${hostname()}:${process.pid}` },
    });
    const id = await created;
    const result = await use(async (path, bounds = COPY_BOUNDS) => {
      archive = await engine.copyFromContainer(id, path);
      if (interruptedBy()) destroyArchive();
      return readTarFiles(archive, bounds, `the archive of "${path}"`);
    });
    // Interrupted, even just as the copy completed: the clean-up exits; nothing goes on.
    if (interruptedBy()) return await waitForExit();
    return result;
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
