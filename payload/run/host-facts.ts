import { readFileSync, readlinkSync } from 'node:fs';
import { isTerminal } from '../../common/stdio';
import { hostname, machine, release, type, userInfo, version } from 'node:os';
import type { HostPlatform } from '../../common/host-platform';
import { readHomeDir } from '../../common/read-home-dir';

/** What the run specification needs to know about the host; read once, then passed down. */
export interface HostFacts {
  /** `process.platform`: decides path rules and who the container runs as (common/host-platform.ts). */
  platform: HostPlatform;
  /** A path of this platform (`C:\Users\me` on Windows). */
  home: string;
  /** Undefined on Windows, which has no uids. */
  uid: number | undefined;
  gid: number | undefined;
  /** The host user's name (`whoami`). */
  user: string;
  /** As `uname -a` prints it. */
  uname: string;
  /** IANA zone such as `Europe/Berlin`; undefined when the host does not say. */
  timezone: string | undefined;
  stdinIsTerminal: boolean;
  stdoutIsTerminal: boolean;
  now: Date;
  /** Makes default container names unique even for two calls in the same second. */
  uniqueSuffix: string;
}

export function readHostFacts(
  env: Readonly<Record<string, string | undefined>>,
  platform: HostPlatform = process.platform,
): HostFacts {
  const uid = process.getuid?.();
  // A uid with no passwd entry (common in containers and CI) has no name: userInfo() throws.
  const user = tryUserName() ?? env.USER ?? env.USERNAME ?? String(uid ?? 'user');
  return {
    platform,
    // Never the current folder, whatever shim started this payload: an empty or relative HOME means the user database's home.
    home: readHomeDir(env),
    uid,
    gid: process.getgid?.(),
    user,
    uname: [type(), hostname(), release(), version(), machine()].join(' '),
    // Windows has neither file; its zone comes from ICU, which maps Windows zones to IANA names.
    timezone: env.TZ || (platform === 'win32' ? Intl.DateTimeFormat().resolvedOptions().timeZone : readHostTimezone()),
    stdinIsTerminal: isTerminal(0),
    stdoutIsTerminal: isTerminal(1),
    now: new Date(),
    // Only keeps two runs in one second apart: no secret, so no node:crypto on every run.
    uniqueSuffix: Math.floor(Math.random() * 0x10000)
      .toString(16)
      .padStart(4, '0'),
  };
}

function tryUserName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

/** `read()`, or `fallback` when it throws. */
function attempt<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** Debian's /etc/timezone, else the zone /etc/localtime links to. */
function readHostTimezone(): string | undefined {
  // Synchronous: two small local files; a thread-pool round trip each cost more.
  const fromFile = attempt(() => readFileSync('/etc/timezone', 'utf8').trim(), '');
  if (fromFile) return fromFile;
  // Not a link (or absent): no zone to pass on.
  const link = attempt(() => readlinkSync('/etc/localtime'), '');
  const match = /zoneinfo\/(.+)$/.exec(link);
  return match?.[1];
}
