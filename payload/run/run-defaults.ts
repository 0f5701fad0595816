/**
 * Every default of a run, in one place: the option table's help lines, the parser, the run
 * specification and the tests all read them from here.
 */
import type { RunOptions } from './invocation';

/** Port for `notebook`, on the host (127.0.0.1) and in the container. */
export const DEFAULT_NB_PORT = 8888;

/** `/dev/shm`: docker's 64 MB is too small for PyTorch data loaders and Jupyter kernels. */
export const DEFAULT_SHM_SIZE = '1g';

/** The host folders mapped by default, relative to the host user's home; `src` holds one folder per project. */
export const DEFAULT_HOST_DIRS = { data: 'work/data', log: 'work/log', src: 'work/src' } as const;

/** The options of a plain `run-docker IMAGE`; a new object each time, as the parser fills it in. */
export function defaultRunOptions(): RunOptions {
  return {
    local: false,
    root: false,
    nbPort: DEFAULT_NB_PORT,
    hostDataDir: { kind: 'default' },
    hostLogDir: { kind: 'default' },
    hostSrcDir: undefined,
    memory: undefined,
    shmSize: DEFAULT_SHM_SIZE,
    name: undefined,
    restart: undefined,
    detach: false,
    dryRun: false,
    quiet: false,
    dockerArgs: [],
  };
}
