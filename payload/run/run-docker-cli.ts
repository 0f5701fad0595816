import { constants } from 'node:os';
import type { EngineCli } from '../../contract/contract';
import { INTERRUPTS, interruptedBy, waitForExit } from '../../common/interruption';
import { RunDockerError } from '../../common/run-docker-error';

/** The CLI that starts the container (select-engine-cli.ts). */
export interface CliCommand {
  cli: EngineCli;
  /** An absolute path, or a name looked up on PATH. */
  file: string;
  /** Before the arguments (`--remote --url …` for podman). */
  globalArgs: string[];
  /** Added to the environment (DOCKER_HOST for an engine the shim found itself). */
  env: Record<string, string>;
}

export const DOCKER_CLI: CliCommand = { cli: 'docker', file: 'docker', globalArgs: [], env: {} };

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
 * Runs the CLI (docker, or podman) with inherited stdio and no shell, so every argument
 * survives exactly, and resolves to its exit code (128+n when a signal ended it, as shells
 * say). Signals sent to run-docker are passed on; run-docker exits after the CLI does.
 * Nothing starts once the user has said stop. `afterExit` runs once the CLI has exited
 * (removing a container started without --rm), whatever its code.
 */
export async function runDockerCli(
  args: string[],
  env: Readonly<Record<string, string | undefined>>,
  terminal: TerminalFacts,
  command: CliCommand = DOCKER_CLI,
  afterExit?: () => Promise<void>,
): Promise<number> {
  if (interruptedBy()) return waitForExit();
  // Loaded here, not at the top: a --dry-run or --help never starts a process, and
  // node:child_process costs ~3 ms to load (docs/performance.md).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: a --dry-run or --help never loads node:child_process
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  let stopForwarding = () => {};
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(command.file, [...command.globalArgs, ...args], {
      stdio: 'inherit',
      env: { ...env, ...command.env },
    });
    const forward = (signal: NodeJS.Signals) => {
      if (shouldForwardSignal(signal, terminal)) child.kill(signal);
    };
    for (const signal of INTERRUPTS) process.on(signal, forward);
    stopForwarding = () => {
      for (const signal of INTERRUPTS) process.removeListener(signal, forward);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      stopForwarding();
      reject(
        error.code === 'ENOENT'
          ? new RunDockerError(
              `the "${command.cli}" command is not installed or not on PATH`,
              command.cli === 'podman'
                ? 'Install Podman (Debian: apt-get install podman), or set RUN_DOCKER_CLI=docker.'
                : 'Install the Docker CLI (Debian: apt-get install docker.io).',
            )
          : error,
      );
    });
    // The listeners stay until the clean-up below is done: a signal then (passed to a CLI
    // that has exited, which is harmless) must not end run-docker before the removal.
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
  try {
    await afterExit?.();
  } finally {
    stopForwarding();
  }
  return code;
}
