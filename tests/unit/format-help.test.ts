import { formatHelp, HELP_EXAMPLES } from '../../payload/run/format-help';
import { parseInvocation } from '../../payload/run/parse-invocation';

/** The example command lines exactly as the help prints them, split at blanks (they hold no quotes). */
function exampleLines(help: string): string[][] {
  return help
    .split('\n')
    .filter((line) => line.startsWith('    run-docker '))
    .map((line) => line.trim().split(/ +/).slice(1));
}

describe('formatHelp: EXAMPLES', () => {
  const help = formatHelp('20261128-101500');

  it('prints every example as a command line under its purpose', () => {
    expect(exampleLines(help)).toEqual(HELP_EXAMPLES.map((example) => [...example.args]));
    for (const example of HELP_EXAMPLES)
      expect(help).toContain(`  ${example.purpose}:\n    run-docker ${example.args.join(' ')}\n`);
    expect(help).toContain('This behaviour comes from mini 20261128-101500.');
  });

  it('has no example a shell would split differently from the help', () => {
    for (const args of exampleLines(help)) for (const arg of args) expect(arg).toMatch(/^[A-Za-z0-9_./:=@-]+$/);
  });

  it.each(HELP_EXAMPLES.map((example) => [example.args.join(' '), example.args] as const))(
    'run-docker %s parses as a run',
    (_, args) => {
      const invocation = parseInvocation(args);
      expect(invocation.kind).toBe('run');
    },
  );

  it('shows the workflows: dev shell, tests, notebook, prod, rollback, offline, dry run', () => {
    const parsed = HELP_EXAMPLES.map((example) => {
      const invocation = parseInvocation(example.args);
      if (invocation.kind !== 'run') throw new Error('not a run');
      return invocation;
    });
    const find = (predicate: (run: (typeof parsed)[number]) => boolean) => parsed.filter(predicate);
    expect(find((run) => run.image === 'myproj' && run.command.join(' ') === 'bash')).not.toHaveLength(0);
    expect(find((run) => run.command[0] === 'py.test')).not.toHaveLength(0);
    expect(find((run) => run.command.join(' ') === 'notebook')).not.toHaveLength(0);
    // The job's own --date stays the container's, not an option of run-docker.
    expect(
      find((run) => run.image === 'registry.example.com/team/myproj' && run.command.includes('--date')),
    ).not.toHaveLength(0);
    expect(find((run) => /:\d{8}-\d{6}$/.test(run.image))).not.toHaveLength(0);
    expect(find((run) => run.options.local && run.image === 'myproj')).not.toHaveLength(0);
    expect(find((run) => run.options.dryRun && run.options.dockerArgs.join(' ') === '--env DEBUG=1')).not.toHaveLength(
      0,
    );
  });

  it('tells how to install completion', () => {
    expect(help).toContain('run-docker --completion bash > ~/.local/share/bash-completion/completions/run-docker');
    expect(help).toContain('run-docker --completion zsh > ~/.zfunc/_run-docker');
  });

  it("lists --show-config among run-docker's options, and says where the shim reads its flags", () => {
    expect(help).toMatch(/^ {6}--show-config +the shim's settings and where each comes from/m);
    expect(help).toContain(
      "put --local, -q and --show-config before any\noption's value, where the shim reads them too",
    );
  });
});
