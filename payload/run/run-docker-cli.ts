import { constants } from 'node:os';
import { INTERRUPTS, interruptedBy, waitForExit } from '../../common/interruption';
import { RunDockerError } from '../../common/run-docker-error';

export interface TerminalFacts {
  /** run-docker's stdin is a terminal. */
  stdinIsTerminal: boolean;
  /** `docker run` gets a TTY (-t), so the docker CLI puts that terminal in raw mode. */
  ttyAllocated: boolean;
}

/**
 * Whether a signal run-docker received must be passed on to the docker CLI. Every one is,
 * except a SIGINT that the terminal itself sent to its whole foreground group, docker
 * included: passing that on too would make the container see two. That is the case only
 * when stdin is a terminal that is not in raw mode; with a TTY (-t) the docker CLI puts
 * the terminal in raw mode, Ctrl-C becomes a byte for the container, and a SIGINT that
 * reaches run-docker was sent to it alone (`kill -INT`), so it is passed on.
 */
export function shouldForwardSignal(signal: NodeJS.Signals, terminal: TerminalFacts): boolean {
  return !(signal === 'SIGINT' && terminal.stdinIsTerminal && !terminal.ttyAllocated);
}

/**
 * Runs the docker CLI with inherited stdio and no shell, so every argument survives
 * exactly, and resolves to its exit code (128+n when a signal ended it, as shells say).
 * Signals sent to run-docker are passed on; run-docker exits after docker does. Nothing
 * starts once the user has said stop.
 */
export async function runDockerCli(
  args: string[],
  env: Readonly<Record<string, string | undefined>>,
  terminal: TerminalFacts,
): Promise<number> {
  if (interruptedBy()) return waitForExit();
  // Loaded here, not at the top: a --dry-run or --help never starts a process, and
  // node:child_process costs ~3 ms to load (docs/performance.md).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: a --dry-run or --help never loads node:child_process
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => {
      if (shouldForwardSignal(signal, terminal)) child.kill(signal);
    };
    for (const signal of INTERRUPTS) process.on(signal, forward);
    const stopForwarding = () => {
      for (const signal of INTERRUPTS) process.removeListener(signal, forward);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      stopForwarding();
      reject(
        error.code === 'ENOENT'
          ? new RunDockerError(
              'the "docker" command is not installed or not on PATH',
              'Install the Docker CLI (Debian: apt-get install docker.io).',
            )
          : error,
      );
    });
    child.on('exit', (code, signal) => {
      stopForwarding();
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
