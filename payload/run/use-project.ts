/**
 * `run-docker . …` and `run-docker --allow-project DIR`: the project file's part of a call
 * (docs/project-file.md). Finds the project, checks its `requires-mini`, reads its
 * `run-options` by the command line's grammar, refuses the ones that widen what the
 * container may do unless this host allowed the table, and merges the command line over them.
 */
import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { RunContext } from '../../contract/contract';
import { formatShellCommand } from '../../common/format-shell-command';
import { makePrintable } from '../../common/make-printable';
import { currentUser } from '../../common/read-private-file';
import { RunDockerError } from '../../common/run-docker-error';
import { computeBranchComponent } from '../build-docker/compute-branch-component';
import { allowedProjectsPath, allowProject, hashProjectTable, isProjectAllowed } from '../project/allowed-projects';
import { anchorFileOptions, findWideningOptions, type Widening } from '../project/check-project-options';
import { findProject, type Project } from '../project/find-project';
import { formatProjectImage, type ProjectImageSpec } from '../project/project-image';
import { checkRequiresMini, TABLE_NAME } from '../project/project-table';
import { readGitBranch } from '../project/read-git-branch';
import type { RunOptions } from './invocation';
import { parseInvocation, parseProjectRunOptions } from './parse-invocation';
import { DEFAULT_HOST_DIRS } from './run-defaults';

export interface ProjectRun {
  project: Project;
  /** The image reference `.` stands for, to resolve as any other. */
  image: string;
  /** The file's options with the command line's over them. */
  options: RunOptions;
  command: string[];
  /** The live source of a dev run (the project's folder); undefined for `.prod`. */
  sourceDir: string | undefined;
  /** What --dry-run says before the docker command: the file, and the options that came from it. */
  notes: string[];
}

/** The run `argv` asks for, with IMAGE `.` (as `spec`) made this project's. `homeDir`: the host user's. */
export async function prepareProjectRun(
  ctx: RunContext,
  spec: ProjectImageSpec,
  homeDir: string,
  cwd: string,
): Promise<ProjectRun> {
  const project = await findProject(cwd, currentUser());
  checkRequiresMini(ctx, project.table.requiresMini, project.file);
  const file = readFileOptions(project, homeDir);
  if (file.widening.length > 0) {
    const hash = hashProjectTable(project.table.canonical);
    if (!(await isProjectAllowed(allowedProjectsPath(ctx.env, homeDir), project.realDir, hash)))
      throw refuseWidening(project, file.widening);
  }
  const invocation = parseInvocation(ctx.argv, file.options);
  if (invocation.kind !== 'run') throw new Error('the command line asked for a run before');
  const image = formatProjectImage(
    spec,
    project.table.image,
    spec.kind === 'prod' ? readBranchComponent(project.dir) : undefined,
  );
  const fromFile = project.table.runOptions;
  return {
    project,
    image,
    options: invocation.options,
    command: invocation.command,
    sourceDir: spec.kind === 'dev' ? project.dir : undefined,
    notes: [
      makePrintable(`# project file: ${project.file} (${TABLE_NAME} image ${project.table.image})`),
      fromFile.length === 0
        ? '# from the project file: no run-options'
        : `# from the project file: ${formatShellCommand(fromFile)}`,
    ],
  };
}

/** The current branch as build-docker names the prod image after it (payload/build-docker/compute-branch-component.ts). */
function readBranchComponent(dir: string): string {
  const branch = readGitBranch(dir);
  const component = computeBranchComponent(branch);
  if (component === undefined) {
    throw new RunDockerError(
      `the branch "${branch}" has no letter or digit to name a prod image after`,
      'Name the prod image instead: run-docker IMAGE-BRANCH.',
    );
  }
  return component;
}

/** `--allow-project DIR`: records this table as allowed, and says what it allows. */
export async function allowProjectOptions(ctx: RunContext, dir: string, homeDir: string): Promise<string> {
  const project = await findProject(resolve(dir), currentUser());
  const { widening } = readFileOptions(project, homeDir);
  const record = allowedProjectsPath(ctx.env, homeDir);
  try {
    await allowProject(record, project.realDir, hashProjectTable(project.table.canonical));
  } catch (error) {
    throw new RunDockerError(
      `cannot record the allowance in "${record}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      "Check that run-docker's state folder is yours and writable (XDG_STATE_HOME, docs/configuration.md).",
    );
  }
  const what =
    widening.length === 0
      ? 'nothing in it widens what the container may do today'
      : `it may use ${widening.map((item) => `"${item.option}"`).join(', ')}`;
  return makePrintable(
    `run-docker: allowed on this host: ${project.file} (${what}); a change to its ${TABLE_NAME} table asks again`,
  );
}

/** The file's options, paths anchored at the project's folder, and the ones that widen. */
function readFileOptions(project: Project, homeDir: string): { options: RunOptions; widening: Widening[] } {
  const where = `run-options of ${TABLE_NAME} in "${project.file}"`;
  const parsed = parseProjectRunOptions(project.table.runOptions, where);
  const { options, own } = anchorFileOptions(parsed.options, parsed.own.has('root'), project.dir, homeDir);
  const widening = findWideningOptions(own, options.dockerArgs, {
    projectDir: project.realDir,
    workDir: realPathOf(join(homeDir, DEFAULT_HOST_DIRS.src.split('/')[0]!)),
    realPath: realPathOf,
  });
  return { options, widening };
}

function refuseWidening(project: Project, widening: readonly Widening[]): RunDockerError {
  const [first, ...more] = widening as [Widening, ...Widening[]];
  const others = more.length === 0 ? '' : `; also ${more.map((item) => `"${item.option}"`).join(', ')}`;
  return new RunDockerError(
    `"${first.option}" in run-options of ${TABLE_NAME} in "${project.file}" widens what the container may do (${first.why}${others}), and this host has not allowed that project file`,
    `If you trust this project, allow it on this host: run-docker --allow-project "${project.dir}" (docs/project-file.md says what needs allowing and why).`,
  );
}

/** `path` with every link resolved; for a path that does not exist, its deepest existing folder's, with the rest appended. */
function realPathOf(path: string): string {
  const missing: string[] = [];
  for (let current = resolve(path); ; current = dirname(current)) {
    try {
      return join(realpathSync(current), ...missing);
    } catch {
      if (dirname(current) === current) return resolve(path);
      missing.unshift(basename(current));
    }
  }
}
