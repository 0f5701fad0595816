/**
 * The engine's CLI for build-docker's steps, with no shell: the one the run payload would start
 * containers with (select-engine-cli.ts, chosen once in main.ts), so that the image is built in
 * the engine that runs it; `docker` by name until then. Builds and pushes show the CLI's own
 * progress on stderr (stdout is kept for the digests, printed last); inspections are captured.
 * The step running now can be stopped, so a Ctrl-C leaves nothing half done (run-build.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { EngineCli } from '../../contract/contract';
import { RunDockerError } from '../../common/run-docker-error';

type Env = Readonly<Record<string, string | undefined>>;

/** What runs a step: the CLI, its file, the arguments before the step's (podman's --remote --url), its environment. */
export interface BuildCli {
  cli: EngineCli;
  file: string;
  globalArgs: readonly string[];
  env: Readonly<Record<string, string>>;
}

let engineCli: BuildCli = { cli: 'docker', file: 'docker', globalArgs: [], env: {} };

/** Every later step runs with `cli` (main.ts chooses it once per call). */
export function useBuildCli(cli: BuildCli): void {
  engineCli = cli;
}

/** The CLI steps run with, as chosen. */
export function buildCli(): BuildCli {
  return engineCli;
}

let current: { child: ChildProcess; exited: Promise<void> } | undefined;

/** Stops the step running now, if any, and resolves when it has exited. */
export async function stopCurrentStep(): Promise<void> {
  const step = current;
  if (!step) return;
  step.child.kill('SIGINT');
  await step.exited;
}

function start(
  args: string[],
  env: Env,
  capture: boolean,
): { child: ChildProcess; done: Promise<{ code: number; stdout: string; stderr: string }> } {
  // Progress: the CLI's stdout and stderr both go to ours (fd 2), which keeps its own
  // terminal detection (progress bars on a terminal, plain lines in a log).
  const { cli, file, globalArgs } = engineCli;
  const child = spawn(file, [...globalArgs, ...args], {
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 2, 2],
    env: { ...env, ...engineCli.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new RunDockerError(
              `the "${cli}" command is not installed or not on PATH`,
              cli === 'docker'
                ? 'Install the Docker CLI (Debian: apt-get install docker.io).'
                : 'Install Podman (Debian: apt-get install podman).',
            )
          : error,
      ),
    );
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
  const step = {
    child,
    exited: done.then(
      () => undefined,
      () => undefined,
    ),
  };
  current = step;
  void step.exited.then(() => {
    if (current === step) current = undefined;
  });
  return { child, done };
}

/** A long step (build, push) with docker's progress on stderr; resolves to docker's exit code. */
export async function runDockerWithProgress(args: string[], env: Env): Promise<number> {
  return (await start(args, env, false).done).code;
}

/** A short step whose output is read; resolves to stdout, or rejects with docker's last error line. */
export async function runDockerCaptured(args: string[], env: Env): Promise<string> {
  const { code, stdout, stderr } = await start(args, env, true).done;
  if (code !== 0) {
    const detail = stderr.trim().split('\n').pop() ?? '';
    const { cli } = engineCli;
    throw new RunDockerError(
      `"${cli} ${args.slice(0, 2).join(' ')}" failed (exit ${code}${detail ? `: ${detail}` : ''})`,
      `Check the engine ("${cli} info").`,
    );
  }
  return stdout;
}

/** Like runDockerCaptured, but resolves to undefined instead of failing (a clean-up, a lookup of what may be missing). */
export async function tryDocker(args: string[], env: Env): Promise<string | undefined> {
  const { code, stdout } = await start(args, env, true).done.catch(() => ({ code: 1, stdout: '' }));
  return code === 0 ? stdout : undefined;
}
