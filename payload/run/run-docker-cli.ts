import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { RunDockerError } from '../../common/run-docker-error';

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs the docker CLI with inherited stdio and no shell, so every argument survives
 * exactly, and resolves to its exit code (128+n when a signal ended it, as shells say).
 * Signals sent to run-docker are passed on; run-docker exits after docker does.
 */
export function runDockerCli(args: string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: 'inherit', env: env as NodeJS.ProcessEnv });
    const forward = (signal: NodeJS.Signals) => {
      // Ctrl-C on a terminal reaches docker already (same process group); a second SIGINT
      // would make the container see two.
      if (signal === 'SIGINT' && process.stdin.isTTY) return;
      child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const stopForwarding = () => {
      for (const signal of FORWARDED_SIGNALS) process.removeListener(signal, forward);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      stopForwarding();
      reject(
        error.code === 'ENOENT'
          ? new RunDockerError('the "docker" command is not installed or not on PATH', 'Install the Docker CLI (Debian: apt-get install docker.io).')
          : error,
      );
    });
    child.on('exit', (code, signal) => {
      stopForwarding();
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
