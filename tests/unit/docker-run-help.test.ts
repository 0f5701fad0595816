/**
 * The option table against the real docker CLI installed here: `docker run --help` is the
 * oracle for every option, its shorthand and whether it takes a value (DESIGN.md).
 *
 * Only the client binary is needed, never an engine. How the CLI decides what its help shows
 * (observed with the docker CLI 28.2.2): it hides an option whose "version" annotation is
 * newer than the API version it talks (negotiated with an engine that answers, else
 * DOCKER_API_VERSION, else its own newest), and one whose "ostype" annotation is not the
 * engine's OS. Against this machine's Engine API 1.41 it shows 98 options, with
 * DOCKER_API_VERSION=1.50 100 (the Windows-only ones still hidden, as the engine says
 * "linux"), and with no engine to ask all 104. So the CLI is pointed at a socket that does
 * not exist, with DOCKER_API_VERSION and any context removed and an empty config folder:
 * every option it declares is listed, whatever engine the machine has. Options hidden for
 * good (`--net`) never show; those in the table's alias list are probed one by one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import {
  DOCKER_RUN_OPTION_ALIASES,
  DOCKER_RUN_OPTIONS,
  DOCKER_RUN_OPTIONS_SOURCE_VERSION,
} from '../../payload/run/docker-run-options';

/**
 * Options `docker run` accepts that the table leaves out on purpose; run-docker refuses them
 * as unknown. Each needs its reason.
 */
const NOT_IN_TABLE: Readonly<Record<string, string>> = {
  // Windows containers only (annotated ostype=windows; the CLI hides them when the engine is
  // Linux). run-docker runs Linux images: an error beats an option the engine ignores.
  'cpu-count': 'Windows only',
  'cpu-percent': 'Windows only',
  'io-maxbandwidth': 'Windows only',
  'io-maxiops': 'Windows only',
};

interface CliOption {
  long: string;
  short?: string;
  takesValue: boolean;
}

const configDir = mkdtempSync(join(tmpdir(), 'run-docker-help-'));
afterAll(() => rmSync(configDir, { recursive: true, force: true }));

/** The docker CLI with no engine to reach and nothing of the user's configuration. */
function docker(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('DOCKER_')) env[name] = value;
  env.DOCKER_HOST = `unix://${join(configDir, 'no-engine.sock')}`;
  env.DOCKER_CONFIG = configDir;
  const result = spawnSync('docker', args, { env, encoding: 'utf8', timeout: 20_000 });
  if (result.error) {
    throw new Error(
      `cannot run "docker ${args.join(' ')}": ${result.error.message}. The test bed needs the docker CLI on PATH.`,
    );
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The options of `docker run --help`: `  -a, --attach list   Attach…` or `      --rm   Automatically…`.
 * A type word after the name (list, string, bytes, …) means it takes a value; pflag shows none
 * for a boolean. Wrapped description lines are indented further and never start with "-".
 */
function parseHelpOptions(help: string): CliOption[] {
  const start = help.indexOf('\nOptions:\n');
  if (start < 0) throw new Error(`no "Options:" section in:\n${help}`);
  const options: CliOption[] = [];
  for (const line of help.slice(start).split('\n')) {
    const [, short, long, value] = /^ {2}(?:-(\S), | {4})--([a-z0-9-]+)(?: ([a-z0-9-]+))?(?: {2,}|$)/.exec(line) ?? [];
    if (long === undefined) continue;
    options.push({ long, ...(short ? { short } : {}), takesValue: value !== undefined });
  }
  return options;
}

const cliVersion = (() => {
  const { stdout } = docker(['--version']);
  const version = /Docker version (\d+\.\d+\.\d+)/.exec(stdout)?.[1];
  if (!version) throw new Error(`unexpected "docker --version": ${stdout}`);
  return version;
})();
const help = docker(['run', '--help']);
const cliOptions = parseHelpOptions(help.stdout);
const table = new Map<string, CliOption>(DOCKER_RUN_OPTIONS.map((option) => [option.long, option]));
const tableRow = (option: { long: string; short?: string; takesValue: boolean }): CliOption => ({
  long: option.long,
  ...(option.short ? { short: option.short } : {}),
  takesValue: option.takesValue,
});

const title = `the option table against "docker run --help" (docker CLI ${cliVersion} here; table from ${DOCKER_RUN_OPTIONS_SOURCE_VERSION})`;
describe(title, () => {
  it('reads the help with no engine and finds the options it always has', () => {
    expect({ status: help.status, stderr: help.stderr }).toEqual({ status: 0, stderr: '' });
    expect(cliOptions).toContainEqual({ long: 'volume', short: 'v', takesValue: true });
    expect(cliOptions).toContainEqual({ long: 'rm', takesValue: false });
    expect(cliOptions.length).toBeGreaterThan(90);
  });

  it('knows every option docker run lists, with its shorthand and value-taking, unless excepted', () => {
    const missing = cliOptions.filter((option) => !table.has(option.long) && !(option.long in NOT_IN_TABLE));
    expect(missing).toEqual([]);
    const differing = cliOptions
      .filter((option) => table.has(option.long))
      .map((option) => ({ cli: option, table: tableRow(table.get(option.long)!) }))
      .filter(({ cli, table: row }) => JSON.stringify(cli) !== JSON.stringify(row));
    expect(differing).toEqual([]);
  });

  it('lists as exceptions only options this CLI has', () => {
    const listed = new Set(cliOptions.map((option) => option.long));
    expect(Object.keys(NOT_IN_TABLE).filter((long) => !listed.has(long) || table.has(long))).toEqual([]);
  });

  // An older CLI (Debian's docker.io 20.10) lacks newer options; the table keeps them, since
  // the docker CLI that runs them reports an option it does not know.
  const sameOrNewer = semver.gte(cliVersion, DOCKER_RUN_OPTIONS_SOURCE_VERSION);
  (sameOrNewer ? it : it.skip)(
    `has no option this CLI lacks (CLI ${DOCKER_RUN_OPTIONS_SOURCE_VERSION} or newer)`,
    () => {
      const listed = new Set(cliOptions.map((option) => option.long));
      expect(DOCKER_RUN_OPTIONS.map((option) => option.long).filter((long) => !listed.has(long))).toEqual([]);
    },
  );

  /**
   * Hidden options are not in the help; ask the parser. With `--help` after it, a flag
   * leaves --help to print the usage (exit 0), a value-taking option swallows it and docker
   * then misses IMAGE (exit 1), and an unknown one is refused (exit 125, "unknown flag").
   */
  function probe(long: string): 'flag' | 'takes a value' | 'unknown' | `exit ${string}` {
    const { status, stderr } = docker(['run', `--${long}`, '--help']);
    if (status === 0) return 'flag';
    if (status === 1 && stderr.includes('requires at least 1 argument')) return 'takes a value';
    if (status === 125 && stderr.includes(`unknown flag: --${long}`)) return 'unknown';
    return `exit ${status}: ${stderr}`;
  }

  it('the probe tells a flag, a value-taking option and an unknown one apart', () => {
    expect([probe('rm'), probe('network'), probe('no-such-option')]).toEqual(['flag', 'takes a value', 'unknown']);
  });

  it.each(Object.entries(DOCKER_RUN_OPTION_ALIASES))(
    'the hidden --%s is accepted like --%s, and hidden',
    (alias, long) => {
      expect(cliOptions.some((option) => option.long === alias)).toBe(false);
      expect(probe(alias)).toBe(table.get(long)?.takesValue ? 'takes a value' : 'flag');
    },
  );
});
