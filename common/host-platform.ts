/**
 * What differs between the platforms a host may run run-docker on: Linux (tested here,
 * against a real engine), and macOS and Windows with Docker Desktop (reasoned about only;
 * docs/install.md, "What is tested, and what is reasoned about only"). Pure: the platform
 * is a value, read from `process.platform` at the edges, so each branch has unit tests.
 */
import { posix, win32, type PlatformPath } from 'node:path';

export type HostPlatform = NodeJS.Platform;

/** node:path as it works on `platform`, for host paths (container paths are always POSIX). */
export function hostPathModule(platform: HostPlatform): PlatformPath {
  return platform === 'win32' ? win32 : posix;
}

/**
 * A host path under `base`. On POSIX hosts the parts are joined with `/` and nothing else
 * (no `..` resolution: the result names the same folder the user's HOME names, even through
 * a symlink); on Windows with node:path's win32 rules (`C:\Users\me` + `work` → `C:\Users\me\work`).
 */
export function joinHostPath(platform: HostPlatform, base: string, ...parts: string[]): string {
  if (platform === 'win32') return win32.join(base, ...parts);
  return [base, ...parts].join('/').replace(/\/{2,}/g, '/');
}

/**
 * A host path as a bind mount's `source`. Docker Desktop on Windows takes Windows paths
 * from the Windows docker CLI and maps them into its VM itself (`C:\Users\me\work\data`;
 * a POSIX-looking `/c/Users/...` would name a folder inside the VM instead), so a Windows
 * path is only normalized to one form, backslashes and all. Elsewhere: unchanged.
 */
export function formatBindSource(path: string, platform: HostPlatform): string {
  return platform === 'win32' ? win32.normalize(path) : path;
}

/** Whom file checks compare owners with; `sharedGroup`: the user's primary group is every user's. */
export interface FileOwner {
  uid: number;
  gid: number;
  sharedGroup?: boolean;
}

/**
 * Why owner and mode checks are skipped on Windows: NTFS grants access through ACLs, and
 * Node's stat reports owner 0 and a mode made up from the read-only attribute (0666 or
 * 0444) for every file, so the checks would refuse every file or pass every file.
 */
export const NO_OWNER_CHECKS_REASON = 'on Windows, files are protected by ACLs, which owner and mode bits do not show';

/**
 * The owner files and folders that decide what runs (config, cache, state) must have, or
 * undefined where owner and mode say nothing (Windows: NO_OWNER_CHECKS_REASON). macOS gives
 * every user the primary group `staff`, so group write there is write by every user;
 * Debian and Ubuntu give each user a private group.
 */
export function selectFileOwner(
  platform: HostPlatform,
  ids: { uid: number | undefined; gid: number | undefined },
): FileOwner | undefined {
  if (platform === 'win32') return undefined;
  const owner = { uid: ids.uid ?? 0, gid: ids.gid ?? 0 };
  return platform === 'darwin' ? { ...owner, sharedGroup: true } : owner;
}

/**
 * Whether the engine runs in a VM that maps file ownership of bind mounts itself (Docker
 * Desktop on macOS and Windows): files the container writes show up as the host user's
 * whatever uid wrote them, so the container need not run as the host's uid. On Linux the
 * engine shares the host's kernel and uids, and a bind mount shows numeric owners as they are.
 */
export function engineMapsFileOwnership(platform: HostPlatform): boolean {
  return platform === 'darwin' || platform === 'win32';
}
