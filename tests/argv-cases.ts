/**
 * One table of argv cases that both readers of run-docker's flags must pass: the shim's
 * (shim/read-shim-flags.ts, tests/unit/read-shim-flags.test.ts) and the run payload's
 * grammar (payload/run/parse-invocation.ts, tests/unit/parse-invocation.test.ts), so the
 * two cannot drift apart.
 *
 * The rule both follow: run-docker's options are read only before IMAGE; IMAGE and
 * everything after it belong to the container. The payload knows every option and so
 * where IMAGE is; the shim, which carries no option table, reads only the leading
 * arguments that start with `-`. Where the two read differently, the case says so in
 * `shim`, with the reason, and nowhere else.
 */

export interface ArgvFlags {
  local: boolean;
  quiet: boolean;
  showConfig: boolean;
}

export interface ArgvCase {
  argv: readonly string[];
  /** run-docker's flags as the grammar reads them (before IMAGE). */
  flags: ArgvFlags;
  /** The index of IMAGE in argv: the container gets what follows it. Absent for a --show-config request. */
  image?: number;
  /** Where the shim reads differently from the grammar, and why. */
  shim?: { flags: Partial<ArgvFlags>; because: string };
}

const none: ArgvFlags = { local: false, quiet: false, showConfig: false };
const local: ArgvFlags = { ...none, local: true };
const quiet: ArgvFlags = { ...none, quiet: true };
const showConfig: ArgvFlags = { ...none, showConfig: true };

const AFTER_VALUE =
  "it comes after an option's value, and the shim cannot tell a value from IMAGE: the payload alone reads it";

export const ARGV_CASES: readonly ArgvCase[] = [
  { argv: ['img'], flags: none, image: 0 },
  { argv: ['img', 'sh', '-c', 'echo hi'], flags: none, image: 0 },
  { argv: ['--local', 'img', 'python', '-m', 'app'], flags: local, image: 1 },
  { argv: ['-q', 'img'], flags: quiet, image: 1 },
  { argv: ['--quiet', 'img'], flags: quiet, image: 1 },
  { argv: ['--local', '--rm', '-it', '-q', 'img', 'cmd'], flags: { ...local, quiet: true }, image: 4 },
  { argv: ['--local', '-e', 'A=1', '-v', '/a:/b', 'img'], flags: local, image: 5 },
  { argv: ['--sig-proxy=false', '--local', 'img'], flags: local, image: 2 },

  // After IMAGE, everything is the container's: run-docker's words too.
  { argv: ['img', '--local'], flags: none, image: 0 },
  { argv: ['img', '-q'], flags: none, image: 0 },
  { argv: ['img', 'grep', '--quiet', 'x'], flags: none, image: 0 },
  { argv: ['img', 'tool', '--show-config'], flags: none, image: 0 },
  { argv: ['-d', 'img', '--local'], flags: none, image: 1 },
  { argv: ['-e', 'A=1', 'img', '--local', '-q'], flags: none, image: 2 },
  { argv: ['--local', 'img', '--show-config'], flags: local, image: 1 },

  // `--` ends the options; a lone `-` is IMAGE (pflag's reading).
  { argv: ['--', 'img', '--local'], flags: none, image: 1 },
  { argv: ['--root', '--', 'img', '-q'], flags: none, image: 2 },
  { argv: ['-', '--local'], flags: none, image: 0 },

  // --show-config is a request, like --help, wherever run-docker's options are read.
  { argv: ['--show-config'], flags: showConfig },
  { argv: ['--local', '--show-config'], flags: { ...showConfig, local: true } },
  { argv: ['-q', '--show-config', 'img'], flags: { ...showConfig, quiet: true } },
  { argv: ['--show-config', 'img', 'cmd'], flags: showConfig },

  // What only the payload can place.
  {
    argv: ['-e', 'A=1', '--local', 'img'],
    flags: local,
    image: 3,
    shim: { flags: { local: false }, because: AFTER_VALUE },
  },
  {
    argv: ['--name', 'api', '-q', 'img'],
    flags: quiet,
    image: 3,
    shim: { flags: { quiet: false }, because: AFTER_VALUE },
  },
  {
    argv: ['-h', 'web', '--local', 'img'],
    flags: local,
    image: 3,
    shim: { flags: { local: false }, because: AFTER_VALUE },
  },
  {
    argv: ['-e', 'A=1', '--show-config', 'img'],
    flags: showConfig,
    shim: { flags: { showConfig: false }, because: AFTER_VALUE },
  },
  {
    argv: ['-dq', 'img'],
    flags: quiet,
    image: 1,
    shim: {
      flags: { quiet: false },
      because: 'it is in a group of short options, which the shim does not read (`-eq` would be -e with the value "q")',
    },
  },
  {
    argv: ['-e', '--local', 'img'],
    flags: none,
    image: 2,
    shim: {
      flags: { local: true },
      because:
        "it is -e's value (pflag gives the next argument to an option that takes one), which only an option table shows; the shim only stays offline for this call",
    },
  },
];
