/**
 * A small record the run payload keeps in run-docker's state folder
 * ($XDG_STATE_HOME/run-docker/, default ~/.local/state/run-docker/, 0700), as the shim keeps
 * its mini-version record there: `{"<field>": {"<name>": "<value>", …}}`, 0600.
 *
 * Host state, not cache. Read only when it is a bounded regular file that you (or root) alone
 * can change, since what it says decides what runs (an allow-record) or what is warned
 * about; anything else reads as empty. Written whole or not at all (a temp file renamed over
 * it); two calls writing at once may lose one update, which the next call makes again.
 * As root, the state folder is root's own (shim/locate-own-folder.ts, as the shim's record),
 * and every folder on the way to a record is judged from / when it is read or made.
 */
import { dirname, join } from 'node:path';
import { makeDirs } from '../../common/private-dir';
import { currentUser, readPrivateFile } from '../../common/read-private-file';
import { readTrustedFile, resolveTrustedPath } from '../../common/read-trusted-file';
import { writeFileAtomically } from '../../common/write-file-atomically';
import { locateStateDir } from '../../shim/locate-own-folder';
import { selectStateDir } from '../../shim/select-host-folders';

const MAX_RECORD_BYTES = 1024 * 1024;

/** `<state folder>/<name>`. */
export function stateRecordPath(
  name: string,
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
  platform = process.platform,
): string {
  // None usable as root: HOME's, which reading and writing below then refuse.
  return join(locateStateDir(env, homeDir, { platform }).dir ?? selectStateDir(platform, env, homeDir).dir, name);
}

/** The record's entries; a missing, unusable or damaged record is empty. A Map: names are data, never object keys. */
export async function readStateRecord(file: string, field: string): Promise<Map<string, string>> {
  let bytes: Buffer | undefined;
  try {
    const user = currentUser();
    bytes =
      user?.uid === 0
        ? await readTrustedFile(file, { user, maxBytes: MAX_RECORD_BYTES })
        : await readPrivateFile(file, { maxBytes: MAX_RECORD_BYTES, writableOnlyBy: user });
  } catch {
    return new Map();
  }
  if (bytes === undefined) return new Map();
  try {
    const entries = (JSON.parse(bytes.toString('utf8')) as Record<string, unknown> | null)?.[field];
    if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) return new Map();
    return new Map(Object.entries(entries).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    return new Map();
  }
}

/** Replaces the record with `entries`, keeping at most `limit` of them (the last ones set). */
export async function writeStateRecord(
  file: string,
  field: string,
  entries: Map<string, string>,
  limit = 10_000,
): Promise<void> {
  const kept = [...entries].slice(-limit);
  const user = currentUser();
  // As root, made one folder at a time where only root can change it, or refused (UnreadableFile).
  if (user?.uid === 0) resolveTrustedPath(dirname(file), user, { folder: { create: 0o700 } });
  await makeDirs(dirname(file)); // 0700; says EROFS, not ENOENT, on a read-only HOME
  await writeFileAtomically(file, `${JSON.stringify({ [field]: Object.fromEntries(kept) }, null, 2)}\n`);
}
