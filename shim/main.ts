/**
 * The installed `run-docker` command: reads the process once, runs the shim, exits.
 * Build-time constants come from scripts/build.mjs.
 */
import { homedir } from 'node:os';
import Dockerode from 'dockerode';
import { createLogger } from './create-logger';
import { describeFailure } from './report-failure';
import { runShim } from './run-shim';
import { selectShimProgress } from './select-shim-progress';

declare const SHIM_VERSION: string;
declare const DEFAULT_TINY: string;
declare const DEFAULT_MINI: string;

async function main(): Promise<number> {
  const env = { ...process.env };
  const log = createLogger(env, (line) => process.stderr.write(`${line}\n`));
  const argv = process.argv.slice(2);
  try {
    return await runShim({
      argv,
      env,
      homeDir: env.HOME || homedir(),
      shimVersion: SHIM_VERSION,
      defaults: { tiny: DEFAULT_TINY, mini: DEFAULT_MINI },
      docker: new Dockerode(),
      log,
      // Progress goes to stderr: stdout belongs to the container.
      progress: { stream: process.stderr, ...selectShimProgress(argv, env, process.stderr.isTTY === true) },
    });
  } catch (error) {
    const failure = describeFailure(error, env);
    for (const line of failure.lines) process.stderr.write(`${line}\n`);
    return failure.exitCode;
  }
}

// Exit explicitly: a payload may leave idle handles (keep-alive sockets) open.
void main().then((code) => process.exit(code));
