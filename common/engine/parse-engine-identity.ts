/**
 * Pure: which engine answered, from what it sends anyway. dockerd's answers carry
 * `Server: Docker/20.10.24+dfsg1 (linux)` (moby api/server/middleware/version.go); Podman's
 * Docker-compatible service sends `Server: Libpod/4.3.1 (linux)` and `Libpod-Api-Version`
 * on every answer (podman pkg/api/server/handler_api.go). Reading them costs no request:
 * the shim's client keeps the headers of the answers it gets anyway.
 */
import type { EngineIdentity } from '../../contract/engine-client';

export interface AnswerHeaders {
  server?: string;
  libpodApiVersion?: string;
}

export function parseEngineIdentity({ server, libpodApiVersion }: AnswerHeaders): EngineIdentity {
  const match = /^(Docker|Libpod)\/(\S+)/i.exec(server?.trim() ?? '');
  const name = match?.[1]?.toLowerCase();
  if (name === 'libpod' || libpodApiVersion) return { kind: 'podman', version: (match?.[2] ?? libpodApiVersion) || '' };
  if (name === 'docker') return { kind: 'docker', version: match?.[2] ?? '' };
  return { kind: 'other', version: '' };
}

/**
 * Pure: the same from GET /version, for clients that see no headers (dockerode's, in tests):
 * Podman lists a component named "Podman Engine" there; dockerd "Engine".
 */
export function parseVersionIdentity(version: unknown): EngineIdentity {
  const answer = (typeof version === 'object' && version !== null ? version : {}) as {
    Version?: unknown;
    Components?: unknown;
  };
  const components = Array.isArray(answer.Components) ? (answer.Components as Array<{ Name?: unknown }>) : [];
  const podman = components.find((component) => component?.Name === 'Podman Engine') as
    { Version?: unknown } | undefined;
  if (podman) return { kind: 'podman', version: typeof podman.Version === 'string' ? podman.Version : '' };
  if (typeof answer.Version === 'string') return { kind: 'docker', version: answer.Version };
  return { kind: 'other', version: '' };
}
