/**
 * The container CLIs on PATH, and what `docker` really is: Debian's podman-docker installs
 * `/usr/bin/docker` as a script that runs `exec /usr/bin/podman "$@"`, and some hosts link
 * `docker` to `podman`. Such a `docker` speaks to Podman's own storage, whatever engine the
 * shim chose (select-engine-cli.ts). A few stat calls and at most one 4 KiB read.
 */
import { closeSync, openSync, readSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { findOnPath } from '../../common/engine/find-podman-endpoint';
import type { HostPlatform } from '../../common/host-platform';
import type { CliOnPath } from './select-engine-cli';

export function findEngineClis(
  env: Readonly<Record<string, string | undefined>>,
  platform: HostPlatform = process.platform,
): CliOnPath {
  const podman = findOnPath('podman', env, platform);
  const dockerPath = findOnPath('docker', env, platform);
  if (dockerPath === undefined) return podman === undefined ? {} : { podman };
  // podman-docker is a Linux package; elsewhere `docker` is Docker's (Docker Desktop).
  const runsPodman = platform === 'linux' ? findPodmanBehind(dockerPath, podman) : undefined;
  return {
    docker: runsPodman === undefined ? { path: dockerPath } : { path: dockerPath, runsPodman },
    ...(podman === undefined ? {} : { podman }),
  };
}

/** The podman that `docker` at `path` runs, if it is one: a link to podman, or a script that execs it. */
function findPodmanBehind(path: string, podmanOnPath: string | undefined): string | undefined {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return undefined;
  }
  if (basename(real) === 'podman') return real;
  return parseWrapperScript(readHead(real), podmanOnPath);
}

/** Pure: the podman a `#!` script execs (`exec /usr/bin/podman "$@"`), else undefined. */
export function parseWrapperScript(head: string, podmanOnPath: string | undefined): string | undefined {
  if (!head.startsWith('#!')) return undefined;
  const exec = /^\s*exec\s+(?:"|')?([^\s"']*\bpodman)(?:"|')?(?:\s|$)/m.exec(head)?.[1];
  if (exec === undefined) return undefined;
  return exec.startsWith('/') ? exec : podmanOnPath;
}

function readHead(path: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buffer = Buffer.alloc(4096);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, length).toString('latin1');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
