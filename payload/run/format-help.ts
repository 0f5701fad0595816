import { formatOptionsHelp } from './docker-run-options';

/** One example in the help: what it is for, and the command line as a user types it. */
export interface HelpExample {
  purpose: string;
  /** Words after `run-docker`, without shell quoting: the help shows them joined by spaces. */
  args: readonly string[];
}

/**
 * Real workflows for a project "myproj" with its source in ~/work/src/myproj. Kept as data
 * so a unit test can check that every one of them parses (tests/unit/format-help.test.ts).
 */
export const HELP_EXAMPLES: readonly HelpExample[] = [
  { purpose: 'A dev shell: ~/work/src/myproj is mapped to ~/src and on PYTHONPATH', args: ['myproj', 'bash'] },
  { purpose: 'Run the tests against the live source, no rebuild', args: ['myproj', 'py.test'] },
  { purpose: 'Jupyter on http://127.0.0.1:8888 (the URL with its token is printed)', args: ['myproj', 'notebook'] },
  {
    purpose: 'On a production host (no ~/work/src/myproj there): the newest published version runs a job',
    args: ['registry.example.com/team/myproj', 'python', '-m', 'myproj.job', '--date', '2026-11-28'],
  },
  {
    purpose: 'Roll back: run exactly that version instead of the newest',
    args: ['registry.example.com/team/myproj:20261101-120000', 'python', '-m', 'myproj.job', '--date', '2026-11-28'],
  },
  {
    purpose:
      'In a project whose pyproject.toml names its image ([tool.run-docker] image = "REPO"): "." is its dev image',
    args: ['.', 'py.test', 'tests'],
  },
  {
    purpose: 'And ".prod" the prod image of the current branch (REPO-BRANCH)',
    args: ['.prod', 'python', '-m', 'myproj'],
  },
  { purpose: 'Offline: only images already on this host, no network at all', args: ['--local', 'myproj', 'py.test'] },
  {
    purpose: 'Print the exact docker command instead of running it',
    args: ['--dry-run', '-e', 'DEBUG=1', 'myproj', 'bash'],
  },
  {
    purpose: 'Any docker run option goes before IMAGE; after IMAGE everything is the command',
    args: ['-v', '/scratch:/scratch', '--memory', '8g', 'myproj', 'python', '-m', 'myproj.train'],
  },
];

export function formatHelp(miniVersion: string): string {
  const examples = HELP_EXAMPLES.map(
    (example) => `  ${example.purpose}:\n    run-docker ${example.args.join(' ')}`,
  ).join('\n');
  return `Usage: run-docker [--local] [OPTIONS] IMAGE[:TAG|@DIGEST] [COMMAND [ARG...]]

Runs the newest tag of IMAGE (local images and its registry), or exactly the tag or
digest given. With ~/work/src/<name> on this host it is a dev run: that folder is
mapped to ~/src in the container and on PYTHONPATH. ~/work/data and ~/work/log are
mapped in both modes. The container runs as docker-user (files it writes belong to
you) unless --root. COMMAND and its arguments are passed on untouched.

run-docker options (before IMAGE; put --local, -q and --show-config before any
option's value, where the shim reads them too):
${formatOptionsHelp()}

Any other docker run option (-e, -v, -p, -w, --network, --gpus, ...) is passed on.

IMAGE "." is this project: the nearest pyproject.toml with a [tool.run-docker]
image, from here upwards; its folder is the live source and its run-options come
before yours. ".prod" is its prod image, ".:TAG" and ".prod:TAG" a version. Options
in the file that widen what the container may do (--privileged, --network host,
mounts outside the project, ...) need "run-docker --allow-project ." first.

Examples:
${examples}

Also:
  run-docker --completion bash > ~/.local/share/bash-completion/completions/run-docker
  run-docker --completion zsh > ~/.zfunc/_run-docker    (with fpath=(~/.zfunc $fpath) before compinit)

This behaviour comes from mini ${miniVersion}.
`;
}
