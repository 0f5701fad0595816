/**
 * Pure: who the container runs as, per engine mode, so that what it writes in the mapped
 * source, data and log folders belongs to the host user (docs/engines.md), and a check,
 * before running, that the chosen identity does map to that user.
 *
 * | engine | container runs as | a file it writes belongs on the host to |
 * | --- | --- | --- |
 * | rootful (Docker, Podman) | the host user's uid:gid | that uid:gid |
 * | rootless Podman, its own CLI | the same, with `--userns=keep-id` | the user who runs Podman, keep-id maps their uid to itself |
 * | rootless Docker, or rootless Podman through the docker CLI | uid 0 | the user who runs the engine |
 */
import type { EngineCli } from '../../contract/contract';
import { engineMapsFileOwnership, type HostPlatform } from '../../common/host-platform';
import type { UserMapping } from './build-run-spec';
import type { EngineMode } from './read-engine-mode';

export function selectUserMapping(mode: Pick<EngineMode, 'rootless' | 'identity'>, cli: EngineCli): UserMapping {
  if (!mode.rootless) return 'shared';
  return mode.identity.kind === 'podman' && cli === 'podman' ? 'keep-id' : 'root-is-user';
}

export interface MappingCheck {
  mapping: UserMapping;
  mode: Pick<EngineMode, 'rootless' | 'rootUid' | 'socketOwner' | 'remapsIds' | 'local' | 'host'>;
  /** The host user's uid; undefined on Windows. */
  hostUid: number | undefined;
  platform: HostPlatform;
  /** --root: the user asked for root in the container, whoever that is on the host. */
  root: boolean;
}

/**
 * The one line to print when files written in mapped folders would not belong to the host
 * user, or when that cannot be known; undefined when they do. A rootless engine's uid 0 is
 * the user it runs as: Podman's id mappings say who, and an engine's socket on this host
 * is owned by the user who runs it (only that user can have created it).
 */
export function checkUserMapping({ mapping, mode, hostUid, platform, root }: MappingCheck): string | undefined {
  if (engineMapsFileOwnership(platform) || hostUid === undefined) return undefined;
  const where = `the engine at "${mode.host}"`;
  if (mode.remapsIds)
    return `${where} remaps user ids (userns-remap): files the container writes in mapped folders belong to a uid of its subordinate range, not to uid ${hostUid}`;
  if (mapping === 'shared' || root) return undefined;
  // Bind mounts of an engine on another host name folders there: whose they are is that host's affair.
  if (!mode.local) return undefined;
  const owner = mode.rootUid ?? mode.socketOwner;
  if (owner === undefined)
    return `cannot tell which user the rootless engine at "${mode.host}" runs as: files the container writes in mapped folders belong to that user`;
  if (owner !== hostUid)
    return `the rootless engine at "${mode.host}" runs as uid ${owner}, not as this user (uid ${hostUid}): files the container writes in mapped folders will belong to uid ${owner}`;
  return undefined;
}
