/**
 * The JSON records a host keeps in its state folder (the minis it has run, the key rotations
 * and halts it has seen): how they are read and written, and what a bad one costs.
 *
 * Read like the cache: never blocking or endless (a FIFO, /dev/zero), and not a file another
 * user could have written. Missing is empty. Unreadable or damaged is one warning, then empty:
 * a damaged record must not stop a host from running (the next write makes a good one), and
 * whoever can damage it could as well write what they liked into it (docs/trust.md says why).
 * Written atomically (a complete temp file renamed over the old one) in a 0700 folder; a
 * failure to write costs one warning, never the run.
 */
import { dirname } from 'node:path';
import type { Logger } from '../contract/contract';
import { makeDirs } from '../common/private-dir';
import { currentUser, readPrivateFile, UnreadableFile } from '../common/read-private-file';
import { writeFileAtomically } from '../common/write-file-atomically';

export interface HostRecordKind<T> {
  /** As a warning names it: `the record of mini versions this host has run`. */
  name: string;
  /** What a record that cannot be used costs this call: `older minis are not refused this time`. */
  lost: string;
  /** What writes a damaged one again: `the next run writes it again`. */
  rewrittenBy: string;
  maxBytes: number;
  /** The record, or undefined when the text is not one. */
  parse: (text: string) => T | undefined;
  empty: () => T;
}

/** The record in `file`, or the kind's empty one (with one warning unless it is simply missing). */
export async function readHostRecord<T>(file: string, kind: HostRecordKind<T>, log: Logger): Promise<T> {
  let text: string;
  try {
    const bytes = await readPrivateFile(file, { maxBytes: kind.maxBytes, writableOnlyBy: currentUser() });
    if (bytes === undefined) return kind.empty();
    text = bytes.toString('utf8');
  } catch (error) {
    log.warn(`cannot use ${kind.name}, "${file}" (${describeReadFailure(error)}); ${kind.lost}`);
    return kind.empty();
  }
  const parsed = kind.parse(text);
  if (parsed === undefined) {
    log.warn(`${kind.name}, "${file}", is damaged; ${kind.lost}, and ${kind.rewrittenBy}`);
    return kind.empty();
  }
  return parsed;
}

/** Writes `text` to `file` atomically; a failure is one warning, `cannot record WHAT in "FILE" (WHY); CONSEQUENCE`. */
export async function writeHostRecord(
  file: string,
  text: string,
  log: Logger,
  failure: { what: string; consequence: string },
): Promise<void> {
  try {
    await makeDirs(dirname(file)); // 0700; says EROFS, not ENOENT, on a read-only HOME
    await writeFileAtomically(file, text);
  } catch (error) {
    log.warn(
      `cannot record ${failure.what} in "${file}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ${failure.consequence}`,
    );
  }
}

function describeReadFailure(error: unknown): string {
  return error instanceof UnreadableFile
    ? `it ${error.message}`
    : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
}
