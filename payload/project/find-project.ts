/**
 * The project `.` stands for: the nearest pyproject.toml with a `[tool.run-docker]` image,
 * from the current folder upwards (docs/project-file.md). A file is read only when it is a
 * bounded regular file that you (or root) alone can change: another user's pyproject.toml
 * in a parent folder (/tmp, a shared checkout) would otherwise pick the image you run.
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { findProjectFile, PROJECT_FILE_NAME } from '../../common/find-project-file';
import type { FileOwner } from '../../common/host-platform';
import { RunDockerError } from '../../common/run-docker-error';
import { parseToml } from './parse-toml';
import { selectProjectTable, TABLE_NAME, type ProjectTable } from './project-table';

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
 * Walks from `startDir` up to the root (common/find-project-file.ts). `user` is the process's
 * (undefined on Windows, where owners say nothing: read-private-file.ts).
 */
export async function findProject(startDir: string, user: FileOwner | undefined): Promise<Project> {
  const start = resolve(startDir);
  const found = await findProjectFile(start, user, (bytes, file) => {
    const table = readProjectTable(bytes, file);
    return table?.image === undefined ? undefined : { ...table, image: table.image };
  });
  if (found) return { file: found.file, dir: found.dir, realDir: realpathSync(found.dir), table: found.selected };
  throw new RunDockerError(
    `no ${PROJECT_FILE_NAME} with a ${TABLE_NAME} image in "${start}" or any folder above it`,
    `Add one to the project (${TABLE_NAME} image = "registry/team/app", docs/project-file.md), or name the image instead of ".".`,
  );
}

/** The table of a project file, when the file mentions run-docker at all. */
export function readProjectTable(bytes: Buffer, file: string): ProjectTable | undefined {
  // Most pyproject.toml files say nothing of run-docker: no TOML parser for them.
  if (!bytes.includes('run-docker')) return undefined;
  return selectProjectTable(parseToml(bytes, file), file);
}
