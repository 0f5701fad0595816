/**
 * Which project tables this host allowed to widen what their containers may do, as direnv
 * remembers `direnv allow`: by the project's folder (links resolved) and the hash of its
 * `[tool.run-docker]` table, so a changed table asks again (docs/project-file.md).
 *
 *   $XDG_STATE_HOME/run-docker/allowed-projects.json
 *   {"projects": {"/home/me/work/src/hello": "<sha256 of the table's canonical text>", …}}
 */
import { loadCrypto } from '../../common/lazy-builtins';
import { readStateRecord, stateRecordPath, writeStateRecord } from '../run/state-record';

const FILE_NAME = 'allowed-projects.json';
const FIELD = 'projects';

export function allowedProjectsPath(env: Readonly<Record<string, string | undefined>>, homeDir: string): string {
  return stateRecordPath(FILE_NAME, env, homeDir);
}

/** sha256 of the table's canonical text (project-table.ts). */
export function hashProjectTable(canonical: string): string {
  return loadCrypto().createHash('sha256').update(canonical).digest('hex');
}

/** Whether this host allowed exactly this table for the project in `realDir`. */
export async function isProjectAllowed(file: string, realDir: string, tableHash: string): Promise<boolean> {
  return (await readStateRecord(file, FIELD)).get(realDir) === tableHash;
}

/** Allows this table for the project in `realDir`, replacing what was allowed for it before. */
export async function allowProject(file: string, realDir: string, tableHash: string): Promise<void> {
  const record = await readStateRecord(file, FIELD);
  record.delete(realDir);
  record.set(realDir, tableHash);
  await writeStateRecord(file, FIELD, record);
}
