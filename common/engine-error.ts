import { RunDockerError } from './run-docker-error';

interface SystemErrorLike {
  code?: string;
  syscall?: string;
  address?: string;
  statusCode?: number;
  message?: string;
}

/** Describes where the engine is expected, for messages (never includes credentials). */
export function describeEngineAddress(env: Readonly<Record<string, string | undefined>>): string {
  const host = env.DOCKER_HOST;
  if (!host) return 'unix:///var/run/docker.sock';
  try {
    const url = new URL(host);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return host;
  }
}

/**
 * Turns a failure to reach the engine into one actionable line; returns undefined for
 * anything else so callers rethrow the original.
 */
export function toEngineConnectionError(
  error: unknown,
  env: Readonly<Record<string, string | undefined>>,
): RunDockerError | undefined {
  const e = error as SystemErrorLike;
  const where = describeEngineAddress(env);
  switch (e?.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EHOSTUNREACH':
    case 'ENOTFOUND':
    case 'ETIMEDOUT':
      if (e.syscall && !['connect', 'read', 'getaddrinfo'].includes(e.syscall)) return undefined;
      return new RunDockerError(
        `cannot reach the Docker engine at "${where}" (${e.code})`,
        'Start it (for example "sudo dockerd" or "sudo systemctl start docker") or point DOCKER_HOST at a running engine.',
      );
    case 'EACCES':
    case 'EPERM':
      return new RunDockerError(
        `permission denied on the Docker engine socket "${where}"`,
        'Add your user to the "docker" group (then log in again) or run as a user who may use Docker.',
      );
    default:
      return undefined;
  }
}
