/**
 * "Make sure this exact image is on the host": inspect it, else pull it with the credentials
 * `docker login` stored for its registry and with progress. One way for the shim (tiny, a
 * pinned mini, older minis) and the run payload (the user's image).
 */
import type { DockerConfigSnapshot, EngineClient, Logger } from '../contract/contract';
import { readLoginFiles } from './credentials/read-login-files';
import { readRegistryAuth } from './credentials/read-registry-auth';
import { formatImageRef, type ImageRef } from './image-ref';
import { inspectImage, type LocalImage } from './inspect-image';
import { pullImage, readPullStallMs } from './pull-image';
import { RunDockerError } from './run-docker-error';
import { withPullProgress, type ProgressTarget } from './with-pull-progress';

/** What a pull needs besides the engine: the call's docker config (credentials), settings, and where progress goes. */
export interface PullSettings {
  env: Readonly<Record<string, string | undefined>>;
  dockerConfig: DockerConfigSnapshot;
  log: Logger;
  progress: ProgressTarget;
}

/**
 * Pulls exactly `ref`, with the credentials stored for its registry, showing progress. On
 * Podman, `podman login`'s are read first (read-login-files.ts) and sent as docker's are: its
 * service reads its own files only for the user it runs as (root's for rootful Podman).
 */
export async function pullWithAuth(
  engine: EngineClient,
  ref: ImageRef,
  { env, dockerConfig, log, progress }: PullSettings,
): Promise<void> {
  const loginFiles = await readLoginFiles(engine, env, dockerConfig);
  // Podman's key for it: `docker.io/library/python`, `host:5000/team/app`.
  const repository = `${ref.registry}/${ref.path}`;
  const auth = await readRegistryAuth(ref.registry, { env, dockerConfig, loginFiles, repository, log });
  await withPullProgress(progress, (onEvent) =>
    pullImage(engine, ref, { auth, onEvent, stallMs: readPullStallMs(env) }),
  );
}

export interface EnsureImageOptions {
  /** --local: never pull; an absent image is an error. */
  local: boolean;
  /** Pulls exactly `ref` (pullWithAuth, bound to its settings). */
  pull: (ref: ImageRef) => Promise<void>;
  /** Names the image in messages: `tiny image`, `image`. */
  what: string;
  /** The next step when --local finds it absent. */
  localHint: string;
}

/**
 * The image for an exact reference: the one on the host, else pulled (never with --local).
 * Pull failures are the pull's own errors (PullError), for callers that fall back.
 */
export async function ensureImage(
  engine: EngineClient,
  ref: ImageRef,
  { local, pull, what, localHint }: EnsureImageOptions,
): Promise<LocalImage> {
  const present = await inspectImage(engine, ref);
  if (present) return present;
  if (local)
    throw new RunDockerError(
      `the ${what} "${formatImageRef(ref)}" is not on this host, and --local forbids pulling it`,
      localHint,
    );
  await pull(ref);
  const pulled = await inspectImage(engine, ref);
  if (!pulled)
    throw new RunDockerError(
      `the ${what} "${formatImageRef(ref)}" was pulled but the engine cannot find it`,
      'Try again; if it persists, check "docker images".',
    );
  return pulled;
}
