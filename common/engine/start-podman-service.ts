/**
 * Podman needs no daemon: with no socket to talk to (podman.socket not enabled, the common
 * case for a rootless user), run-docker starts Podman's API service itself for the one call,
 * on a socket in a private folder, and stops it when the call ends
 * (https://docs.podman.io/en/v4.3/markdown/podman-system-service.1.html). It is the same
 * engine the user's `podman` uses: the service runs as this user, on this user's storage.
 * About 0.3 s here; enabling podman.socket makes it free.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { loadChildProcess } from '../lazy-builtins';
import { RunDockerError } from '../run-docker-error';
import type { FoundEndpoint } from './find-podman-endpoint';
import { getOverSocket } from './socket-get';

/**
 * Seconds without a connection before the service stops by itself: the call stops it
 * explicitly, so this only bounds what a killed run-docker leaves running. A container
 * attached to keeps its connection open, so a long run never counts as idle.
 */
export const PODMAN_SERVICE_IDLE_SECONDS = 60;

export interface PodmanService {
  endpoint: FoundEndpoint;
  /** Stops the service, waits until it is gone (SIGKILL after PODMAN_SERVICE_STOP_MS), removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

/** Podman's service shuts down gracefully on SIGTERM, in well under a second here. */
export const PODMAN_SERVICE_STOP_MS = 5_000;

export async function startPodmanService(
  podmanPath: string,
  why: string,
  env: Readonly<Record<string, string | undefined>>,
  readyWithinMs: number,
): Promise<PodmanService> {
  const runtimeDir = env.XDG_RUNTIME_DIR && isAbsolute(env.XDG_RUNTIME_DIR) ? env.XDG_RUNTIME_DIR : tmpdir();
  const dir = mkdtempSync(join(runtimeDir, 'run-docker-podman-'));
  const socket = join(dir, 'podman.sock');
  let stderr = '';
  // Its own process group: a Ctrl-C on the terminal is for the container, and the service
  // must outlive it long enough for the podman CLI to collect the exit code.
  const child: ChildProcess = loadChildProcess().spawn(
    podmanPath,
    ['system', 'service', '--time', String(PODMAN_SERVICE_IDLE_SECONDS), `unix://${socket}`],
    { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString('utf8');
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Whatever else ends the call (process.exit included) still stops it, without waiting; a
  // SIGKILL of run-docker leaves it to its idle limit.
  const stopNow = () => {
    if (running()) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stopNow);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.removeListener('exit', stopNow);
      if (running()) {
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            if (running()) child.kill('SIGKILL');
            resolve();
          }, PODMAN_SERVICE_STOP_MS);
        });
        await Promise.race([exited, late]);
        clearTimeout(timer);
        // After a SIGKILL: its exit.
        if (running()) await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    })());
  try {
    await waitUntilAnswering(socket, child, readyWithinMs, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  child.unref();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  return {
    endpoint: {
      host: `unix://${socket}`,
      source: `podman system service started for this call (${why}, no Podman socket)`,
      found: 'podman-service',
    },
    stop,
  };
}

async function waitUntilAnswering(
  socket: string,
  child: ChildProcess,
  withinMs: number,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  const spawnFailure = new Promise<never>((_resolve, reject) => child.once('error', reject));
  spawnFailure.catch(() => undefined);
  for (;;) {
    const answered = await Promise.race([
      getOverSocket(socket, '/_ping', 1000, () => new Error('no answer')).then(
        (answer) => answer.status === 200,
        () => false,
      ),
      spawnFailure,
    ]);
    if (answered) return;
    if (exited || Date.now() > deadline) {
      const said = stderr().trim().split('\n').pop()?.trim();
      throw new RunDockerError(
        `"podman system service" did not start${said ? ` (${said})` : exited ? '' : ` within ${withinMs / 1000} s`}`,
        'Check that "podman info" works for this user, or enable its socket ("systemctl --user enable --now podman.socket") or set DOCKER_HOST.',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
