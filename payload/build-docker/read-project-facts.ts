/**
 * The git repository build-docker runs in, read with the git CLI (no shell): one
 * ProjectFacts for the pure plan (build-plan.ts).
 */
import { execFile } from 'node:child_process';
import { RunDockerError } from '../../common/run-docker-error';
import { DEPENDENCIES_DOCKERFILE, type ProjectFacts } from './build-plan';
import { parseProjectName } from './parse-project-name';
import { parseToml } from '../project/parse-toml';
import { selectProjectTable } from '../project/project-table';

interface GitResult {
  code: number;
  stdout: string;
}

/** Runs git in `cwd`; a missing git is one error line, any exit code is returned. */
export function runGit(
  args: string[],
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      (error: Error | null, stdout) => {
        // A number: git ran and exited with it; a string: git could not be run (or its output was too long).
        const code = (error as { code?: number | string } | null)?.code;
        if (code === 'ENOENT')
          reject(
            new RunDockerError(
              'the "git" command is not installed or not on PATH',
              'Install git (Debian: apt-get install git).',
            ),
          );
        else if (error && typeof code !== 'number') reject(error);
        else resolve({ code: typeof code === 'number' ? code : 0, stdout });
      },
    );
  });
}

export async function readProjectFacts(
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<ProjectFacts> {
  const top = await runGit(['rev-parse', '--show-toplevel'], cwd, env);
  if (top.code !== 0) {
    throw new RunDockerError(
      `"${cwd}" is not in a git repository`,
      "Run build-docker in the project's repository: both images are built from its last commit (git archive).",
    );
  }
  const dir = top.stdout.trim();
  const head = await runGit(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], dir, env);
  if (head.code !== 0)
    throw new RunDockerError(
      `the repository "${dir}" has no commit yet`,
      'Commit the project first: both images are built from the last commit.',
    );
  const [branch, status, committed, origin, pyproject, tree] = await Promise.all([
    runGit(['symbolic-ref', '--quiet', '--short', 'HEAD'], dir, env),
    runGit(['status', '--porcelain=v1', '-z', '--untracked-files=normal'], dir, env),
    runGit(['cat-file', '-e', `HEAD:${DEPENDENCIES_DOCKERFILE}`], dir, env),
    runGit(['config', '--get', 'remote.origin.url'], dir, env),
    runGit(['show', 'HEAD:pyproject.toml'], dir, env),
    runGit(['ls-tree', '-r', '-z', '--full-tree', 'HEAD'], dir, env),
  ]);
  const inWorkTree =
    committed.code === 0
      ? true
      : (await runGit(['ls-files', '--others', '--cached', '--', DEPENDENCIES_DOCKERFILE], dir, env)).stdout.trim() !==
        '';
  return {
    dir,
    revision: head.stdout.trim(),
    branch: branch.code === 0 ? branch.stdout.trim() : undefined,
    dirtyFiles: parseStatusFiles(status.stdout),
    source: origin.code === 0 && origin.stdout.trim() !== '' ? selectSourceUrl(origin.stdout.trim()) : undefined,
    projectName: pyproject.code === 0 ? parseProjectName(pyproject.stdout) : undefined,
    ...(pyproject.code === 0 ? readProjectTable(pyproject.stdout, dir) : {}),
    dockerfile: { committed: committed.code === 0, inWorkTree },
    submodules: tree.code === 0 ? parseSubmodulePaths(tree.stdout) : [],
  };
}

/**
 * Paths of the submodules committed in HEAD, from `git ls-tree -r -z`: entries of mode 160000
 * (a commit of another repository), which `git archive` leaves out of the build context.
 */
export function parseSubmodulePaths(output: string): string[] {
  return output.split('\0').flatMap((entry) => {
    const match = /^160000 commit [0-9a-f]+\t(.+)$/s.exec(entry);
    return match?.[1] === undefined ? [] : [match[1]];
  });
}

/** `[tool.run-docker]` of the committed pyproject.toml, checked as run-docker checks it; no TOML parser when the file never says run-docker. */
function readProjectTable(text: string, dir: string): Pick<ProjectFacts, 'image' | 'requiresMini'> {
  if (!text.includes('run-docker')) return {};
  const file = `${dir}/pyproject.toml (as committed)`;
  const table = selectProjectTable(parseToml(Buffer.from(text), file), file);
  return { image: table?.image, requiresMini: table?.requiresMini };
}

/** File names from `git status --porcelain=v1 -z`: `XY name\0`, renames followed by `from\0`. */
export function parseStatusFiles(output: string): string[] {
  const files: string[] = [];
  const fields = output.split('\0');
  for (let i = 0, field = fields[0]; field !== undefined; field = fields[++i]) {
    if (field.length < 4) continue;
    files.push(field.slice(3));
    if (field.startsWith('R') || field.startsWith('C')) i++; // the old name of a rename or copy
  }
  return files;
}

/**
 * A remote URL fit for a label in a pushed image: scheme, host, port and path only. A user and
 * password, a query (`?private_token=…`) and a fragment can all carry secrets.
 */
export function selectSourceUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    // scp-like `git@host:team/app.git`: the user is an account name, not a secret.
    return url;
  }
}
