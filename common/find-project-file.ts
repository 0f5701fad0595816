/**
 * The walk that finds a project's pyproject.toml, from a folder up to the root
 * (docs/project-file.md), shared by the run payload (`run-docker .`, which parses the file) and
 * the shim's --show-config (which only names it). A file is read only when it is a bounded
 * regular file that you (or root) alone can change: another user's pyproject.toml in a parent
 * folder (/tmp, a shared checkout) would otherwise pick the image you run.
 */
import { dirname, join, resolve } from 'node:path';
import type { FileOwner } from './host-platform';
import { readPrivateFile, UnreadableFile } from './read-private-file';
import { RunDockerError } from './run-docker-error';

export const PROJECT_FILE_NAME = 'pyproject.toml';
/** A pyproject.toml is a few kB; a larger file is refused, not read. */
export const MAX_PROJECT_FILE_BYTES = 1024 * 1024;
export interface FoundProjectFile<T> {
  /** The pyproject.toml, absolute. */
  file: string;
  /** Its folder. */
  dir: string;
  /** What `select` made of it. */
  selected: T;
}

/**
 * The nearest pyproject.toml from `startDir` up for which `select` returns a value (a file it
 * passes over, a sub-package's, returns undefined), or undefined when none does. `user` is the
 * process's (undefined on Windows, where owners say nothing: read-private-file.ts). A file that
 * cannot be used (another user could change it, not a regular file, too large) is one
 * RunDockerError: it is never passed over in silence.
 */
export async function findProjectFile<T>(
  startDir: string,
  user: FileOwner | undefined,
  select: (bytes: Buffer, file: string) => T | undefined,
): Promise<FoundProjectFile<T> | undefined> {
  for (let dir = resolve(startDir); ; dir = dirname(dir)) {
    const file = join(dir, PROJECT_FILE_NAME);
    const bytes = await readProjectFileBytes(file, user);
    const selected = bytes === undefined ? undefined : select(bytes, file);
    if (selected !== undefined) return { file, dir, selected };
    if (dirname(dir) === dir) return undefined;
  }
}

/** The bytes of one pyproject.toml, or undefined when there is none (or its folder cannot be read). */
async function readProjectFileBytes(file: string, user: FileOwner | undefined): Promise<Buffer | undefined> {
  try {
    // Never blocks (a FIFO) or reads without end (a link to /dev/zero): read-private-file.ts.
    return await readPrivateFile(file, { maxBytes: MAX_PROJECT_FILE_BYTES, followSymlink: true, writableOnlyBy: user });
  } catch (error) {
    if (error instanceof UnreadableFile) {
      throw new RunDockerError(
        `the project file "${file}" is not used: it ${error.message}`,
        error.reason === 'writable-by-others'
          ? 'run-docker reads only a pyproject.toml that you (or root) alone can change; name the image instead of ".".'
          : `A project file is a regular file of at most ${MAX_PROJECT_FILE_BYTES} bytes; name the image instead of ".".`,
      );
    }
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    // A folder we may not read (EACCES) holds no project of ours; anything else is worth saying.
    if (code === 'EACCES' || code === 'ENOTDIR') return undefined;
    throw new RunDockerError(`cannot read the project file "${file}" (${code})`, 'Check the file and its folder.');
  }
}

/**
 * Pure: whether a pyproject.toml has a `[tool.run-docker]` table header, read as text (the
 * shim's --show-config, which carries no TOML parser; the payload parses the file for real).
 * Quoted and spaced spellings of the header count too.
 */
export function hasProjectTableHeader(bytes: Buffer): boolean {
  return /^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*(?:run-docker|"run-docker"|'run-docker')[ \t]*\][ \t]*(?:#.*)?$/m.test(
    bytes.toString('utf8'),
  );
}
