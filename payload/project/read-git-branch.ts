/**
 * The branch checked out in the git repository around a project folder, for `.prod`. Read
 * from the files (`.git/HEAD`, or the `gitdir:` a worktree's `.git` file names), not by
 * running git: a cloned repository's config can make git run programs of its choosing
 * (core.fsmonitor), and a warm call should not start a process to learn a branch name.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { RunDockerError } from '../../common/run-docker-error';

/** HEAD and a `.git` file are one short line; anything longer is not one. */
const MAX_BYTES = 4096;

/** The branch name (`main`, `feature/login`) of the repository holding `dir`. */
export function readGitBranch(dir: string): string {
  const gitDir = findGitDir(dir);
  if (gitDir === undefined) {
    throw new RunDockerError(
      `"${dir}" is not in a git repository, and ".prod" is the prod image of the current branch`,
      'Name the prod image instead: run-docker IMAGE-BRANCH.',
    );
  }
  const head = readSmallFile(join(gitDir, 'HEAD'));
  const branch = head === undefined ? undefined : parseHead(head);
  if (branch === undefined) {
    throw new RunDockerError(
      `HEAD is detached in "${dir}", and ".prod" is the prod image of the current branch`,
      'Check out a branch, or name the prod image instead: run-docker IMAGE-BRANCH.',
    );
  }
  return branch;
}

/** Pure: the branch of a HEAD file's text, undefined when detached (a commit id). */
export function parseHead(text: string): string | undefined {
  const match = /^ref: refs\/heads\/(.+?)\s*$/.exec(text);
  return match?.[1];
}

/** `.git` as a folder, or the folder a `.git` file (a worktree, a submodule) points to, from `dir` upwards. */
function findGitDir(dir: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    const dotGit = join(current, '.git');
    const kind = kindOf(dotGit);
    if (kind === 'dir') return dotGit;
    if (kind === 'file') {
      const pointer = /^gitdir: (.+?)\s*$/.exec(readSmallFile(dotGit) ?? '')?.[1];
      if (pointer !== undefined) return isAbsolute(pointer) ? pointer : resolve(current, pointer);
    }
    if (dirname(current) === current) return undefined;
  }
}

function kindOf(path: string): 'dir' | 'file' | undefined {
  try {
    const info = statSync(path);
    return info.isDirectory() ? 'dir' : info.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}

/** A regular file of at most MAX_BYTES, read from one handle (never blocking on a FIFO); else undefined. */
function readSmallFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.size > MAX_BYTES) return undefined;
    const buffer = Buffer.alloc(MAX_BYTES);
    const length = readSync(fd, buffer, 0, MAX_BYTES, 0);
    return buffer.subarray(0, length).toString('utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
