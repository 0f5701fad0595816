import { buildCompletionScript, fillTemplate, listCompletionOptions } from '../../payload/run/build-completion-script';
import { DOCKER_RUN_OPTIONS, RUN_DOCKER_OPTIONS } from '../../payload/run/docker-run-options';
import { parseInvocation } from '../../payload/run/parse-invocation';
import { defined } from '../helpers/defined';

describe('listCompletionOptions', () => {
  const options = listCompletionOptions();
  const byLong = new Map(options.map((option) => [option.long, option]));

  /** What the parser takes as IMAGE after the option, or the error it gives. */
  function readAfter(option: string): string {
    try {
      const invocation = parseInvocation([option, 'IMG', 'cmd']);
      return invocation.kind === 'run' ? invocation.image : invocation.kind;
    } catch (error) {
      return (error as Error).message;
    }
  }

  it('lists every long option the parser accepts, once, but not the refused --user', () => {
    const longs = options.map((option) => option.long);
    expect(new Set(longs).size).toBe(longs.length);
    const accepted = [...RUN_DOCKER_OPTIONS, ...DOCKER_RUN_OPTIONS]
      .map((option) => option.long)
      .filter((long) => long !== 'user');
    expect(new Set(longs)).toEqual(new Set(accepted));
    expect(readAfter('--user')).toMatch(/"--user" is not supported/);
  });

  it('agrees with the parser on which options take a value', () => {
    for (const option of options) {
      const names = [`--${option.long}`, ...(option.short ? [`-${option.short}`] : [])];
      for (const name of names) {
        // A value-taking option swallows the next word ("IMG", valid or not; --allow-project's
        // request takes it as the folder); a flag leaves it as IMAGE.
        const expected: unknown = option.value
          ? expect.stringMatching(/^(cmd|allow-project|.*"IMG".*)$/)
          : expect.stringMatching(/^(IMG|help|version|show-config)$/);
        expect({ name, after: readAfter(name) }).toEqual({ name, after: expected });
      }
    }
  });

  it("gives a letter to run-docker's option where both have it (-m, -d, -q); -h stays docker's --hostname", () => {
    expect(byLong.get('memory')?.short).toBe('m');
    expect(byLong.get('help')?.short).toBeUndefined();
    expect(byLong.get('hostname')?.short).toBe('h');
    expect(byLong.get('env')).toMatchObject({ short: 'e', value: { kind: 'files' } });
    expect(byLong.get('hostdatadir')).toMatchObject({ value: { kind: 'dirs', extra: ['no'] } });
    expect(byLong.get('completion')).toMatchObject({ value: { kind: 'words', words: ['bash', 'zsh'] } });
    expect(byLong.get('tty')).toMatchObject({ short: 't', value: undefined });
  });
});

describe('buildCompletionScript', () => {
  const bash = buildCompletionScript('bash', '20261128-101500');
  const zsh = buildCompletionScript('zsh', '20261128-101500');

  it('bash: registers the function with file names as the fallback, and names the mini it came from', () => {
    expect(bash).toMatch(/^complete -o default -F _run_docker run-docker$/m);
    expect(bash).toContain('mini 20261128-101500');
  });

  it('bash: lists all long options, and exactly the value-taking ones as such', () => {
    const longs = defined(
      /^_run_docker_long_options='([^']*)'$/m.exec(bash)?.[1],
      '_run_docker_long_options in the script',
    ).split(' ');
    expect(longs).toEqual(listCompletionOptions().map((option) => `--${option.long}`));
    const valueLongs = defined(
      /^_run_docker_value_longs=' ([^']*) '$/m.exec(bash)?.[1],
      '_run_docker_value_longs in the script',
    ).split(' ');
    expect(valueLongs).toContain('--hostdatadir');
    expect(valueLongs).toContain('--env');
    expect(valueLongs).not.toContain('--local');
    expect(valueLongs).not.toContain('--tty');
    const valueShorts = defined(
      /^_run_docker_value_shorts='([a-zA-Z]*)'$/m.exec(bash)?.[1],
      '_run_docker_value_shorts in the script',
    )
      .split('')
      .sort();
    expect(valueShorts).toEqual(['a', 'c', 'e', 'h', 'l', 'm', 'p', 'v', 'w']);
  });

  it('both list images with the docker CLI at completion time, not through run-docker', () => {
    for (const script of [bash, zsh]) {
      expect(script).toContain(`docker images --format '{{.Repository}} {{.Tag}}'`);
      expect(script).not.toMatch(/^[^#]*\brun-docker (--|[a-z])/m);
    }
  });

  it('zsh: a #compdef file with one _arguments spec per option name', () => {
    expect(zsh.startsWith('#compdef run-docker\n')).toBe(true);
    expect(zsh).toContain("'*--env=[docker run option]:value:_files'");
    expect(zsh).toContain("'*-e+[docker run option]:value:_files'");
    expect(zsh).toContain("'*--local[only images on this host; no network]'");
    expect(zsh).toContain(
      "'*--completion=[print a shell completion script (see the end of this help)]:value:(bash zsh)'",
    );
    expect(zsh).toContain(
      "'*--hostdatadir=[host folder mapped to ~/data (default ~/work/data)]:value:_run-docker_folders no'",
    );
    // Brackets in a description would end it early.
    expect(zsh).toContain('on-failure\\[:N\\]');
    expect(zsh).toContain("'1:image:_run-docker_images'");
    const specs = zsh.split('\n').filter((line) => /^ {4}'\*-/.test(line));
    const names = listCompletionOptions().flatMap((option) => [option.long, ...(option.short ? [option.short] : [])]);
    expect(specs).toHaveLength(names.length);
  });
});

describe('fillTemplate (the shell files are templates: payload/run/completion/)', () => {
  it('fills every placeholder, verbatim', () => {
    expect(fillTemplate("a='@X@' b=@Y_Z@ @X@", { X: '1 2', Y_Z: '$3' })).toBe("a='1 2' b=$3 1 2");
  });

  it('refuses a placeholder without a value and a value without a placeholder', () => {
    expect(() => fillTemplate('@X@ @Y@', { X: '1' })).toThrow('no value for @Y@');
    expect(() => fillTemplate('@X@', { X: '1', Y: '2' })).toThrow('no placeholder for Y');
  });

  it('leaves no placeholder in either script', () => {
    for (const shell of ['bash', 'zsh'] as const) {
      expect(buildCompletionScript(shell, '20261128-101500')).not.toMatch(/@[A-Z_]+@/);
    }
  });
});
