/**
 * A date-time tag names one build forever (build-docker tags each build with its UTC time):
 * when the digest it stands for differs from the one this host last ran under that tag, the
 * tag was pushed again, and one warning says so (docs/project-file.md, "Digests in sight").
 *
 *   $XDG_STATE_HOME/run-docker/tag-digests.json
 *   {"tags": {"127.0.0.1:5000/team/hello:20261101-120000": "sha256:…", …}}
 *
 * Read on a run of a date-time tag whose digest is known; written only when it learns a new
 * tag or a changed digest, so a warm call of a known version reads one small file.
 */
import type { Logger } from '../../contract/contract';
import { readStateRecord, stateRecordPath, writeStateRecord } from './state-record';

const FILE_NAME = 'tag-digests.json';
const FIELD = 'tags';
const DATE_TIME_TAG = /^\d{8}-\d{6}$/;
/** The tags a host keeps, the last ones run: a re-push is noticed on recent versions, and a warm call parses ~40 kB at most. */
const MAX_TAGS = 256;

export function tagDigestRecordPath(env: Readonly<Record<string, string | undefined>>, homeDir: string): string {
  return stateRecordPath(FILE_NAME, env, homeDir);
}

export interface TaggedDigest {
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

/**
 * Warns when `image`'s date-time tag now names another digest than last time; records the
 * digest when `record` (a real run, not --dry-run). A record that cannot be written costs a
 * debug line, never the run.
 */
export async function checkTagDigest(file: string, image: TaggedDigest, record: boolean, log: Logger): Promise<void> {
  const { repository, tag, digest } = image;
  if (tag === undefined || digest === undefined || !DATE_TIME_TAG.test(tag)) return;
  const key = `${repository}:${tag}`;
  const tags = await readStateRecord(file, FIELD);
  const last = tags.get(key);
  if (last === digest) return;
  if (last !== undefined) {
    log.warn(
      `the tag "${key}" now stands for ${digest}, not ${last} as when this host last ran it: it was pushed again`,
    );
  }
  if (!record) return;
  tags.delete(key);
  tags.set(key, digest);
  try {
    await writeStateRecord(file, FIELD, tags, MAX_TAGS);
  } catch (error) {
    log.debug(`cannot record the digest of "${key}" in "${file}": ${(error as Error).message}`);
  }
}
