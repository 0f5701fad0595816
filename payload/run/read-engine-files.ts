/**
 * Asks the engine whether it sees this host's files, and whether the folders a run names on
 * the engine's host are there (common/engine/engine-files.ts says what the answers mean).
 * Both questions are one create request that makes no container: dockerd checks bind sources
 * on its own host before it looks for the image, and the image named never exists.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { EngineClient, Logger } from '../../contract/contract';
import {
  describeFileSharing,
  ENGINE_FILES_RECORD,
  findFreshEntry,
  findMissingBindSource,
  formatRecord,
  isHostSocket,
  readEngineFilesRecord,
  readProbeAnswer,
  type FileSharing,
} from '../../common/engine/engine-files';
import type { EngineSettings } from '../../common/engine/select-engine-settings';
import { mkdtemp, rm } from '../../common/fs-async';
import { ignoreFailure } from '../../common/ignore-failure';
import { loadCrypto } from '../../common/lazy-builtins';
import { makeDirs } from '../../common/private-dir';
import { writeFileAtomically } from '../../common/write-file-atomically';

/** A name no engine has an image of: the create stops at the bind sources, or at this name. */
export const PROBE_IMAGE = 'run-docker-probe.invalid/no-such-image:never';

export interface ReadEngineFilesOptions {
  engine: EngineClient;
  /** The engine's address (BaseContext.docker.engineHost). */
  host: string;
  settings: EngineSettings | undefined;
  /** The payload's private cache folder: the probe folder is made there, the answer kept there. */
  cacheDir: string | undefined;
  log: Logger;
  now?: () => number;
}

export async function readEngineFiles(options: ReadEngineFilesOptions): Promise<FileSharing> {
  const { engine, host, settings, cacheDir, log } = options;
  const now = options.now ?? Date.now;
  if (settings?.sharesFiles !== undefined)
    return { shares: settings.sharesFiles, why: `sharesFiles in ${settings.source}` };
  if (isHostSocket(host)) return { shares: true, why: 'a socket on this host' };
  const record = cacheDir === undefined ? [] : await readEngineFilesRecord(cacheDir);
  const fresh = findFreshEntry(record, host, now());
  if (fresh)
    return {
      shares: fresh.shares,
      why: `it ${fresh.shares ? 'saw' : 'did not see'} a folder made here, ${Math.round((now() - fresh.checkedAt) / 1000)} s ago`,
    };
  if (!engine.checkBindSources)
    return { shares: false, why: 'this shim cannot ask an engine; set "sharesFiles" for it if it does' };
  const verdict = await probe(engine, cacheDir);
  if (verdict === 'unknown') {
    log.debug(`the engine at ${host} did not say whether it sees this host's files: taken as another host's`);
    return { shares: false, why: 'it did not say whether it sees them; set "sharesFiles" for it if it does' };
  }
  const sharing = {
    shares: verdict === 'shares',
    why: `it ${verdict === 'shares' ? 'saw' : 'did not see'} a folder made here`,
  };
  log.debug(`the engine at ${host} ${describeFileSharing(sharing)}`);
  if (cacheDir !== undefined)
    await ignoreFailure(
      makeDirs(cacheDir).then(() =>
        writeFileAtomically(
          join(cacheDir, ENGINE_FILES_RECORD),
          formatRecord(record, { host, shares: sharing.shares, checkedAt: now() }),
        ),
      ),
      'the record only saves asking the engine again',
      log,
    );
  return sharing;
}

/** A folder made here under a random name, offered to the engine with one that exists nowhere. */
async function probe(engine: EngineClient, cacheDir: string | undefined): Promise<'shares' | 'separate' | 'unknown'> {
  // The private cache when it can be had; else the temporary folder (the name is random either way).
  const base =
    cacheDir !== undefined &&
    (await makeDirs(cacheDir).then(
      () => true,
      () => false,
    ))
      ? cacheDir
      : tmpdir();
  const folder = await mkdtemp(join(base, 'engine-probe-'));
  const control = join(folder, 'absent');
  try {
    return readProbeAnswer(await engine.checkBindSources!(PROBE_IMAGE, [folder, control]), folder, control);
  } finally {
    await ignoreFailure(rm(folder, { recursive: true, force: true }), 'an empty folder in the cache harms nothing');
  }
}

/**
 * Which of `paths` (absolute, on the engine's host) the engine does not see, the first one;
 * `known: false` when its answer does not say (then docker run will).
 */
export async function findMissingEngineFolder(
  engine: EngineClient,
  paths: readonly string[],
): Promise<{ known: false } | { known: true; missing: string | undefined }> {
  if (paths.length === 0) return { known: true, missing: undefined };
  if (!engine.checkBindSources) return { known: false };
  const control = `/run-docker-absent-${loadCrypto().randomBytes(8).toString('hex')}`;
  const sources = [...paths, control];
  const missing = findMissingBindSource(await engine.checkBindSources(PROBE_IMAGE, sources), sources);
  if (missing === undefined) return { known: false };
  return { known: true, missing: missing === control ? undefined : missing };
}
