/**
 * The host's identity for staged rollouts (docs/releasing.md): only ever hashed into a
 * bucket (host-bucket.ts), never shown or sent. In order: the configured `hostId`
 * (RUN_DOCKER_HOST_ID, then the config files: resolve-shim-config.ts), for fleets that
 * number their own hosts and for tests; /etc/machine-id, which systemd and dbus keep per
 * machine; else a random one kept in the state folder, made on first need.
 */
import { linkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../contract/contract';
import { loadCrypto } from '../common/lazy-builtins';
import { makeDirs } from '../common/private-dir';
import { currentUser, readPrivateFile, UnreadableFile } from '../common/read-private-file';
import { rm } from '../common/fs-async';
import { ignoreFailure } from '../common/ignore-failure';
import { writeSyncedFile } from '../common/write-synced-file';

export interface HostId {
  id: string;
  /** For --show-config: `env RUN_DOCKER_HOST_ID`, `file <config>`, `/etc/machine-id`, `generated <path>`. */
  source: string;
}

/** machine-id(5): 32 lower-case hex digits and a newline; "uninitialized" during first boot. */
const MACHINE_ID = /^[0-9a-f]{32}$/;
export const MACHINE_ID_FILE = '/etc/machine-id';

/** The file a generated identity is kept in: `host-id` in the state folder. */
export function generatedHostIdPath(stateDir: string): string {
  return join(stateDir, 'host-id');
}

export async function readHostId(
  configured: HostId | undefined,
  generatedFile: string | undefined,
  log: Logger,
  machineIdFile?: string,
): Promise<HostId>;
/** With `create: false` (--show-config, which writes nothing): undefined when an identity would have to be made. */
export async function readHostId(
  configured: HostId | undefined,
  generatedFile: string | undefined,
  log: Logger,
  machineIdFile: string,
  create: false,
): Promise<HostId | undefined>;
export async function readHostId(
  configured: HostId | undefined,
  generatedFile: string | undefined,
  log: Logger,
  machineIdFile = MACHINE_ID_FILE,
  create = true,
): Promise<HostId | undefined> {
  if (configured) return configured;
  const machineId = await readIdFile(machineIdFile, log, true);
  if (machineId !== undefined) return { id: machineId, source: machineIdFile };
  const kept = generatedFile === undefined ? undefined : await readIdFile(generatedFile, log, false);
  if (kept !== undefined) return { id: kept, source: `generated ${generatedFile}` };
  if (!create) return undefined;
  if (generatedFile === undefined) {
    // No state folder this call (as root, none only root can change): a bucket for this call only.
    log.warn(
      'cannot keep this host\'s identity for staged rollouts: no state folder can be used (see --show-config); its rollout bucket may change from call to call until one can (or set "hostId" in the config file)',
    );
    return { id: loadCrypto().randomBytes(16).toString('hex'), source: 'made for this call only' };
  }
  return { id: await createHostId(generatedFile, log), source: `generated ${generatedFile}` };
}

/** The ID in `file`, or undefined when it is absent, uninitialised or cannot be used (then a debug line). */
async function readIdFile(file: string, log: Logger, followSymlink: boolean): Promise<string | undefined> {
  try {
    // Whoever could write it could choose this host's bucket: the owner rule of the state files.
    const bytes = await readPrivateFile(file, { maxBytes: 256, writableOnlyBy: currentUser(), followSymlink });
    const id = bytes?.toString('utf8').trim();
    if (id !== undefined && MACHINE_ID.test(id)) return id;
    if (id !== undefined) log.debug(`"${file}" holds no machine ID; not used as this host's identity`);
    return undefined;
  } catch (error) {
    const why = error instanceof UnreadableFile ? error.message : (error as NodeJS.ErrnoException).code;
    log.debug(`"${file}" is not used as this host's identity: it ${why}`);
    return undefined;
  }
}

/**
 * A new random identity in `file`, created only if none is there: written whole beside it,
 * then linked to its name, which fails if another call made one first; that one is then used.
 */
async function createHostId(file: string, log: Logger): Promise<string> {
  const id = loadCrypto().randomBytes(16).toString('hex');
  const partial = `${file}.${process.pid}-${id.slice(0, 8)}.tmp`;
  try {
    await makeDirs(dirname(file));
    await writeSyncedFile(partial, `${id}\n`, { mode: 0o600, flag: 'wx' });
    linkSync(partial, file);
    return id;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      const other = await readIdFile(file, log, false);
      if (other !== undefined) return other;
    }
    // A bucket for this call only: a state folder that cannot be written costs no call.
    log.warn(
      `cannot keep this host's identity for staged rollouts in "${file}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); its rollout bucket may change from call to call until it can (or set "hostId" in the config file)`,
    );
    return id;
  } finally {
    await ignoreFailure(rm(partial, { force: true }), 'a temporary file left behind holds no secret and no state', log);
  }
}
