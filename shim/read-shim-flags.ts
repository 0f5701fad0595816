/**
 * The run-docker options the shim acts on itself, pure: `--local` (its own lookup of tiny
 * and mini stays off the network), `-q`/`--quiet` (no progress for those pulls) and
 * `--show-config` (the shim answers, no payload runs).
 *
 * The rule, the same as the run payload's grammar (payload/run/parse-invocation.ts):
 * run-docker's options are read only before IMAGE; IMAGE and everything after it belong to
 * the container. The shim is installed once and never updated, so it carries no docker
 * option table and cannot know whether `-e X` is an option and its value or a flag and
 * IMAGE. It reads only what it can place for certain: the leading arguments that start
 * with `-`. It stops at the first argument that does not (IMAGE, or an option's value: the
 * payload tells them apart), at `--` (after it comes IMAGE) and at a lone `-` (which pflag
 * takes as IMAGE). IMAGE never starts with `-`, so the scan can never reach past it:
 * `run-docker IMG --local` gives `--local` to the container and the shim never sees it.
 *
 * What that costs, on purpose:
 * - A flag after an option's value (`-e A=1 --local IMG`) is read by the payload only. Put
 *   run-docker's options first (`run-docker --local -e A=1 IMG`), or use RUN_DOCKER_LOCAL=1.
 * - Only the exact words count: not a short group (`-dq`), not `--local=true`.
 * - An option's value that is itself exactly one of these words (`-e --local IMG`, where
 *   `-e` takes `--local` as its value) is read as the flag; it can only make the shim more
 *   careful (offline, quiet) or answer `--show-config` instead of running.
 *
 * `--show-config` is a request, like `--help` in the payload: once read, the rest of the
 * arguments does not matter.
 */

export const SHOW_CONFIG = '--show-config';

export interface ShimFlags {
  local: boolean;
  quiet: boolean;
  showConfig: boolean;
  /** Index of the first argument the shim did not read: IMAGE, an option's value, `--`, or argv.length. */
  end: number;
}

export function readShimFlags(argv: readonly string[]): ShimFlags {
  const flags: ShimFlags = { local: false, quiet: false, showConfig: false, end: 0 };
  for (const arg of leadingOptions(argv)) {
    if (arg === '--local') flags.local = true;
    else if (arg === '-q' || arg === '--quiet') flags.quiet = true;
    else if (arg === SHOW_CONFIG) flags.showConfig = true;
    flags.end++;
  }
  return flags;
}

/**
 * Whether the call asks for `--version` (the payload answers it; the shim only adds what it
 * alone knows: a tiny pinned by tag, run-shim.ts), read by the same rule as the flags above.
 */
export function isVersionRequest(argv: readonly string[]): boolean {
  return leadingOptions(argv).includes('--version');
}

/** The leading arguments that start with `-`, up to IMAGE, an option's value, `--` or a lone `-`. */
function leadingOptions(argv: readonly string[]): readonly string[] {
  const end = argv.findIndex((arg) => arg === '--' || arg === '-' || !arg.startsWith('-'));
  return end < 0 ? argv : argv.slice(0, end);
}
