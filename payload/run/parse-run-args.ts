/**
 * The mini payload's grammar for now (the full docker-run option table comes with the
 * run-behaviour issue): `[--local] [--version|--help] IMAGE [COMMAND [ARG...]]`.
 * Everything after IMAGE is passed on untouched. Pure.
 */
import { RunDockerError } from '../../common/run-docker-error';

export type RunInvocation =
  | { kind: 'version' }
  | { kind: 'help' }
  | { kind: 'run'; image: string; command: string[] };

export function parseRunArgs(argv: readonly string[]): RunInvocation {
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--local') continue;
    if (arg === '--version') return { kind: 'version' };
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '--') return requireImage(argv.slice(index + 1));
    if (arg.startsWith('-') && arg !== '-') {
      throw new RunDockerError(`unknown option "${arg}"`, 'See "run-docker --help" for the options.');
    }
    return { kind: 'run', image: arg, command: argv.slice(index + 1) };
  }
  throw new RunDockerError('no image given', 'Say which image to run: run-docker IMAGE [COMMAND [ARG...]].');
}

function requireImage(rest: readonly string[]): RunInvocation {
  if (rest.length === 0) return parseRunArgs([]);
  return { kind: 'run', image: rest[0], command: rest.slice(1) };
}
