/**
 * The project `.` stands for: the nearest pyproject.toml with a `[tool.run-docker]` image,
 * from the current folder upwards (docs/project-file.md). A file is read only when it is a
 * bounded regular file that you (or root) alone can change: another user's pyproject.toml
 * in a parent folder (/tmp, a shared checkout) would otherwise pick the image you run.
 */
import { realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { FileOwner } from '../../common/host-platform';
import { readPrivateFile, UnreadableFile } from '../../common/read-private-file';
import { RunDockerError } from '../../common/run-docker-error';
import { parseToml } from './parse-toml';
import { selectProjectTable, TABLE_NAME, type ProjectTable } from './project-table';

export const PROJECT_FILE_NAME = 'pyproject.toml';

/** A pyproject.toml is a few kB; a larger file is refused, not read. */
export const MAX_PROJECT_FILE_BYTES = 1024 * 1024;

export interface Project {
  /** The pyproject.toml, absolute. */
  file: string;
  /** Its folder: the live source of a dev run. */
  dir: string;
  /** That folder with every link resolved: what an allow-record is kept under. */
  realDir: string;
  table: ProjectTable & { image: string };
}

/**
 * Walks from `startDir` up to the root. `user` is the process's (undefined on Windows,
 * where owners say nothing: read-private-file.ts).
 */
export async function findProject(startDir: string, user: FileOwner | undefined): Promise<Project> {
  const start = resolve(startDir);
  for (let dir = start; ; dir = dirname(dir)) {
    const found = await readProjectFile(dir, user);
    if (found?.table?.image !== undefined) {
      return { file: found.file, dir, realDir: realpathSync(dir), table: { ...found.table, image: found.table.image } };
    }
    if (dirname(dir) === dir) break;
  }
  throw new RunDockerError(
    `no ${PROJECT_FILE_NAME} with a ${TABLE_NAME} image in "${start}" or any folder above it`,
    `Add one to the project (${TABLE_NAME} image = "registry/team/app", docs/project-file.md), or name the image instead of ".".`,
  );
}

/** The project file of `dir`, if it has one; its table when the file mentions run-docker at all. */
export async function readProjectFile(
  dir: string,
  user: FileOwner | undefined,
): Promise<{ file: string; table: ProjectTable | undefined } | undefined> {
  const file = join(dir, PROJECT_FILE_NAME);
  let bytes: Buffer | undefined;
  try {
    // Never blocks (a FIFO) or reads without end (a link to /dev/zero): read-private-file.ts.
    bytes = await readPrivateFile(file, {
      maxBytes: MAX_PROJECT_FILE_BYTES,
      followSymlink: true,
      writableOnlyBy: user,
    });
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
  if (bytes === undefined) return undefined;
  // Most pyproject.toml files say nothing of run-docker: no TOML parser for them.
  if (!bytes.includes('run-docker')) return { file, table: undefined };
  return { file, table: selectProjectTable(parseToml(bytes, file), file) };
}
