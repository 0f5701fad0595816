import { isQuietEnv, selectProgressOutput } from '../../common/select-progress-output';
import { selectShimProgress } from '../../shim/select-shim-progress';
import { readShimFlags } from '../../shim/read-shim-flags';

describe('selectProgressOutput (the project image)', () => {
  it.each([
    ['a terminal', { isTTY: true, env: {}, quiet: false }, { mode: 'tty', color: true }],
    [
      'a terminal with NO_COLOR=1',
      { isTTY: true, env: { NO_COLOR: '1' }, quiet: false },
      { mode: 'tty', color: false },
    ],
    [
      'a terminal with an empty NO_COLOR',
      { isTTY: true, env: { NO_COLOR: '' }, quiet: false },
      { mode: 'tty', color: true },
    ],
    ['a dumb terminal', { isTTY: true, env: { TERM: 'dumb' }, quiet: false }, { mode: 'plain', color: false }],
    ['a pipe or file', { isTTY: false, env: {}, quiet: false }, { mode: 'plain', color: false }],
    ['--quiet on a terminal', { isTTY: true, env: {}, quiet: true }, { mode: 'off', color: false }],
    ['--quiet off a terminal', { isTTY: false, env: {}, quiet: true }, { mode: 'off', color: false }],
  ] as const)('%s', (_name, facts, output) => {
    expect(selectProgressOutput(facts)).toEqual(output);
  });

  it('reads RUN_DOCKER_QUIET=1 as quiet, and nothing else', () => {
    expect(isQuietEnv({ RUN_DOCKER_QUIET: '1' })).toBe(true);
    expect(isQuietEnv({ RUN_DOCKER_QUIET: '' })).toBe(false);
    expect(isQuietEnv({ RUN_DOCKER_QUIET: '0' })).toBe(false);
    expect(isQuietEnv({})).toBe(false);
  });
});

describe('selectShimProgress (tiny and mini)', () => {
  it('shows progress on a terminal, in colour unless NO_COLOR', () => {
    expect(selectShimProgress(readShimFlags(['team/app']), {}, true)).toEqual({ mode: 'tty', color: true });
    expect(selectShimProgress(readShimFlags(['team/app']), { NO_COLOR: 'yes' }, true)).toEqual({
      mode: 'tty',
      color: false,
    });
  });

  it('is silent off a terminal and on a dumb one', () => {
    expect(selectShimProgress(readShimFlags(['team/app']), {}, false)).toEqual({ mode: 'off', color: false });
    expect(selectShimProgress(readShimFlags(['team/app']), { TERM: 'dumb' }, true)).toEqual({
      mode: 'off',
      color: false,
    });
  });

  it.each([
    [['-q', 'team/app']],
    [['--quiet', 'team/app']],
    [['--local', '--rm', '-q', 'team/app', 'cmd']],
    [['-d', '--quiet']],
  ])('is silenced by a leading -q/--quiet: %j', (argv) => {
    expect(selectShimProgress(readShimFlags(argv), {}, true).mode).toBe('off');
  });

  it('is silenced by RUN_DOCKER_QUIET=1', () => {
    expect(selectShimProgress(readShimFlags(['team/app']), { RUN_DOCKER_QUIET: '1' }, true).mode).toBe('off');
  });

  it.each([
    [['team/app', '-q']],
    [['team/app', 'grep', '--quiet', 'x']],
    [['--', '-q']],
    [['-', '-q']],
    [['-qd', 'team/app']],
    [['--quiet=true', 'team/app']],
  ])('never reads past the leading options, nor guesses at grouped or valued forms: %j', (argv) => {
    expect(selectShimProgress(readShimFlags(argv), {}, true).mode).toBe('tty');
  });
});
