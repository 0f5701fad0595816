/**
 * The grammar of `run-docker`, pure:
 *
 *   run-docker [--local] [OPTIONS] IMAGE[:TAG|@DIGEST] [COMMAND [ARG...]]
 *
 * Options are read as docker run reads them (spf13/pflag with interspersed arguments off):
 * `--name value`, `--name=value`, `-n value`, `-nvalue`, `-n=value`, and groups of short
 * flags (`-it`, `-ite A=1`: a value-taking letter takes the rest of the group, or else the
 * next argument, whatever it looks like). `--` ends the options. IMAGE is the first argument
 * that is neither an option nor an option's value; it and everything after it are passed on
 * untouched. run-docker's own options are handled here; every other `docker run` option
 * (docker-run-options.ts) is passed on in `dockerArgs`, normalised to its long name.
 *
 * Options that clash with what run-docker decides itself:
 * - `--rm`: accepted and dropped, as run-docker removes the container anyway (unless it is
 *   detached with a restart policy, which docker refuses to combine with --rm).
 *   `--rm=false` is refused: keeping the container is what `-d --restart` is for.
 * - `--init`: accepted and dropped (always on); `--init=false` is refused.
 * - `-u/--user`: refused, with a hint to use `--root`: run-docker runs the container as the
 *   host user so files written to mapped folders stay theirs.
 * - `-i/--interactive`, `-t/--tty`: passed on. run-docker already keeps stdin open unless
 *   detached and adds a TTY when stdin and stdout are terminals; an explicit `-it` repeats
 *   that harmlessly, `-dit` keeps a detached shell alive, and `--tty=false` (placed after
 *   run-docker's own options) turns the TTY off.
 */
import { RunDockerError } from '../../common/run-docker-error';
import {
  DOCKER_RUN_OPTION_ALIASES,
  DOCKER_RUN_OPTIONS,
  RESTART_POLICIES,
  RUN_DOCKER_OPTIONS,
  type DockerRunOptionName,
  type RunDockerOptionName,
} from './docker-run-options';
import {
  COMPLETION_SHELLS,
  type CompletionShell,
  type HostDirSetting,
  type Invocation,
  type RunOptions,
} from './invocation';
import { DEFAULT_NB_PORT, defaultRunOptions } from './run-defaults';

const HELP_HINT = 'See "run-docker --help" for the options.';

/** An option of either table, by who handles it. */
type OptionSpec = OwnOptionSpec | DockerOptionSpec;
interface OwnOptionSpec {
  owner: 'run-docker';
  long: RunDockerOptionName;
  takesValue: boolean;
}
interface DockerOptionSpec {
  owner: 'docker';
  /** The long name without dashes, as passed on to docker. */
  long: DockerRunOptionName;
  takesValue: boolean;
}

/** One option as found in argv. */
interface OptionUse {
  spec: OptionSpec;
  /** How the user wrote it, for messages: `--env`, `-e`. */
  given: string;
  /** The value: `--x=v`, `-xv`, `-x=v` or the next argument; undefined for a bare flag. */
  value: string | undefined;
}

const { byLong: LONG_OPTIONS, byShort: SHORT_OPTIONS } = indexOptions();

function indexOptions(): { byLong: Map<string, OptionSpec>; byShort: Map<string, OptionSpec> } {
  const byLong = new Map<string, OptionSpec>();
  const byShort = new Map<string, OptionSpec>();
  for (const option of DOCKER_RUN_OPTIONS) {
    const spec: OptionSpec = { owner: 'docker', long: option.long, takesValue: option.takesValue };
    byLong.set(option.long, spec);
    if (option.short) byShort.set(option.short, spec);
  }
  for (const [alias, long] of Object.entries(DOCKER_RUN_OPTION_ALIASES)) {
    const spec = byLong.get(long);
    if (spec) byLong.set(alias, spec);
  }
  // run-docker's own options win over docker's of the same name or letter (-m, -d, -q, --name, …).
  for (const option of RUN_DOCKER_OPTIONS) {
    const spec: OptionSpec = { owner: 'run-docker', long: option.long, takesValue: option.value !== undefined };
    byLong.set(option.long, spec);
    if (option.short) byShort.set(option.short, spec);
  }
  return { byLong, byShort };
}

/**
 * `initial`: the options a project file gave (parseProjectRunOptions), which the command
 * line's override; docker options from the file come first, so where docker takes the last
 * value the command line's wins.
 */
export function parseInvocation(argv: readonly string[], initial: RunOptions = defaultRunOptions()): Invocation {
  // `-h` is docker's --hostname and needs a value; alone, it can only mean "help".
  if (argv.length === 1 && argv[0] === '-h') return { kind: 'help' };
  const options: RunOptions = { ...initial, dockerArgs: [...initial.dockerArgs] };
  // Invalid values are reported only once the options are read, so that --help or
  // --version anywhere before IMAGE still wins.
  const invalid: RunDockerError[] = [];
  const cursor = { index: 0 };
  for (const { spec, given, value } of readOptions(argv, cursor)) {
    if (spec.owner === 'docker') {
      passOn(spec, given, value, options.dockerArgs, invalid);
      continue;
    }
    const request = applyOwnOption(spec, given, value, options, invalid);
    if (request) return request;
  }
  const [firstInvalid] = invalid;
  if (firstInvalid) throw firstInvalid;
  // docker refuses --restart with the --rm run-docker adds to every foreground run
  // ("Conflicting options"); say what to do instead of passing its words on.
  if (options.restart !== undefined && options.restart !== 'no' && !options.detach) {
    throw new RunDockerError(
      `"--restart ${options.restart}" needs -d: a restart policy keeps a detached container, and a foreground run is removed when it ends`,
      `Add -d (run-docker -d --restart ${options.restart} IMAGE …), or leave --restart out.`,
    );
  }
  const image = argv[cursor.index];
  if (image === undefined || image === '') {
    throw new RunDockerError(
      'no image given',
      'Say which image to run: run-docker [OPTIONS] IMAGE [COMMAND [ARG...]].',
    );
  }
  return { kind: 'run', options, image, command: argv.slice(cursor.index + 1) };
}

/** run-docker's own options a project file may set: the ones that describe how the project runs, not one call. */
const PROJECT_FILE_OWN_OPTIONS: ReadonlySet<RunDockerOptionName> = new Set([
  'root',
  'nb-port',
  'hostdatadir',
  'hostlogdir',
  'hostsrcdir',
  'memory',
  'shm-size',
  'name',
  'restart',
  'detach',
] satisfies RunDockerOptionName[]);

/** The options a project file's `run-options` set, and which of run-docker's own it set. */
export interface ProjectRunOptions {
  options: RunOptions;
  own: ReadonlySet<RunDockerOptionName>;
}

/**
 * `run-options` of a project file, read by the same grammar as the command line (no shell):
 * options only, no IMAGE, and of run-docker's own only those in PROJECT_FILE_OWN_OPTIONS.
 * Every error names `where` (the key and the file).
 */
export function parseProjectRunOptions(args: readonly string[], where: string): ProjectRunOptions {
  const options = defaultRunOptions();
  const own = new Set<RunDockerOptionName>();
  const invalid: RunDockerError[] = [];
  const cursor = { index: 0 };
  try {
    for (const { spec, given, value } of readOptions(args, cursor)) {
      if (spec.owner === 'docker') {
        passOn(spec, given, value, options.dockerArgs, invalid);
        continue;
      }
      if (!PROJECT_FILE_OWN_OPTIONS.has(spec.long)) {
        throw new RunDockerError(
          `"${given}" cannot be set in ${where}: it is about one call, not the project`,
          'Give it on the command line instead.',
        );
      }
      own.add(spec.long);
      applyOwnOption(spec, given, value, options, invalid);
    }
    const [firstInvalid] = invalid;
    if (firstInvalid) throw firstInvalid;
  } catch (error) {
    if (!(error instanceof RunDockerError) || error.message.includes(where)) throw error;
    throw new RunDockerError(`${error.message} in ${where}`, error.hint);
  }
  const rest = args[cursor.index];
  if (rest !== undefined) {
    throw new RunDockerError(
      `"${rest}" in ${where} is not an option: it holds docker run options only`,
      'Write options and their values, e.g. ["-p", "127.0.0.1:8000:8000"]; the image and command go on the command line.',
    );
  }
  return { options, own };
}

/**
 * The options before IMAGE, one use at a time (so a --help is acted on before a later
 * error). Leaves `cursor.index` on IMAGE. Follows pflag's FlagSet.Parse: a value-taking
 * option takes the next argument even when it starts with `-`.
 */
function* readOptions(argv: readonly string[], cursor: { index: number }): Generator<OptionUse> {
  const takeNext = (given: string): string => {
    const value = argv[cursor.index];
    if (value === undefined) {
      throw new RunDockerError(
        `the option "${given}" needs a value`,
        `Put its value after it: "${given} VALUE". ${HELP_HINT}`,
      );
    }
    cursor.index++;
    return value;
  };
  for (let arg = argv[cursor.index]; arg !== undefined; arg = argv[cursor.index]) {
    if (arg === '--') {
      cursor.index++;
      return;
    }
    if (!arg.startsWith('-') || arg === '-') return;
    cursor.index++;
    if (arg.startsWith('--')) {
      yield readLongOption(arg, takeNext);
    } else {
      yield* readShortGroup(arg, takeNext);
    }
  }
}

/** `--name`, `--name=value`, `--name value`. */
function readLongOption(arg: string, takeNext: (given: string) => string): OptionUse {
  const body = arg.slice(2);
  const equals = body.indexOf('=');
  const name = equals < 0 ? body : body.slice(0, equals);
  const given = `--${name}`;
  const spec = name === '' || name.startsWith('-') ? undefined : LONG_OPTIONS.get(name);
  if (!spec) throw new RunDockerError(`unknown option "${name === '' ? arg : given}"`, HELP_HINT);
  const inline = equals < 0 ? undefined : body.slice(equals + 1);
  const value = spec.takesValue && inline === undefined ? takeNext(given) : inline;
  return { spec, given, value };
}

/** `-x`, `-xvalue`, `-x=value`, `-x value`, `-abc`, `-abx value` (pflag's parseSingleShortArg). */
function* readShortGroup(arg: string, takeNext: (given: string) => string): Generator<OptionUse> {
  let rest = arg.slice(1);
  while (rest.length > 0) {
    const letter = rest.charAt(0);
    rest = rest.slice(1);
    const given = `-${letter}`;
    const spec = SHORT_OPTIONS.get(letter);
    if (!spec) throw unknownShortOption(letter, arg);
    let value: string | undefined;
    if (rest.length > 1 && rest[0] === '=') {
      value = rest.slice(1);
      rest = '';
    } else if (spec.takesValue) {
      value = rest.length > 0 ? rest : takeNext(given);
      rest = '';
    }
    yield { spec, given, value };
  }
}

function unknownShortOption(letter: string, arg: string): RunDockerError {
  const inGroup = arg.length > 2 ? ` in "${arg}"` : '';
  // `-rm`, `-privileged`: a long option written with one dash.
  const name = arg.slice(1).replace(/=.*/s, '');
  const didYouMean = arg.length > 2 && LONG_OPTIONS.has(name) ? `Did you mean "--${name}"? ` : '';
  return new RunDockerError(`unknown option "-${letter}"${inGroup}`, `${didYouMean}${HELP_HINT}`);
}

/** A `docker run` option: onto dockerArgs as `--long [value]`, unless it clashes with run-docker. */
function passOn(
  spec: DockerOptionSpec,
  given: string,
  value: string | undefined,
  dockerArgs: string[],
  invalid: RunDockerError[],
): void {
  const { long, takesValue } = spec;
  if (takesValue) {
    if (long === 'user') {
      invalid.push(
        new RunDockerError(
          `run-docker chooses the container's user; "${given}" is not supported`,
          'Use --root to run as root; otherwise it runs as your uid, so files in mapped folders stay yours.',
        ),
      );
      return;
    }
    dockerArgs.push(`--${long}`, value as string);
    return;
  }
  const on = value === undefined ? true : parseBool(value);
  if (on === undefined) {
    invalid.push(invalidValue(given, value as string, 'Use true or false, or leave the value out.'));
    return;
  }
  if (long === 'rm' || long === 'init') {
    if (!on) invalid.push(refusedOff(long));
    return;
  }
  // A boolean's explicit value must stay attached: `--sig-proxy false` would make "false" IMAGE.
  dockerArgs.push(value === undefined ? `--${long}` : `--${long}=${value}`);
}

function refusedOff(long: 'rm' | 'init'): RunDockerError {
  const hint =
    long === 'rm'
      ? 'run-docker removes the container when it exits, unless it is detached (-d) with a --restart policy.'
      : 'run-docker always runs an init, so signals reach the process and zombies are reaped.';
  return new RunDockerError(`"--${long}=false" is not supported`, hint);
}

/** strconv.ParseBool, which pflag's boolean flags use. */
function parseBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

// docker/go-units RAMInBytes, which docker uses for --memory and --shm-size (`8g`, `512m`,
// `1.5GB`, `2GiB`); a superset of `^\d+(\.\d+)?[bkmgBKMG]?$`.
const SIZE = /^\d+(\.\d+)? ?[kKmMgGtTpP]?[iI]?[bB]?$/;
const RESTART_POLICY = new RegExp(`^(${RESTART_POLICIES.join('|')})$|^on-failure:\\d+$`);
// The engine's container name rule (RestrictedNamePattern): two characters at least.
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/**
 * Applies one of run-docker's own options; returns the request when it asks for something
 * else than a run. The `switch` is exhaustive: an option added to RUN_DOCKER_OPTIONS
 * without a case here does not compile.
 */
function applyOwnOption(
  spec: OwnOptionSpec,
  given: string,
  value: string | undefined,
  options: RunOptions,
  invalid: RunDockerError[],
): Exclude<Invocation, { kind: 'run' }> | undefined {
  const { long, takesValue } = spec;
  if (!takesValue && value !== undefined) {
    invalid.push(
      new RunDockerError(`the option "${given}" takes no value`, `Write it alone: "${given}". ${HELP_HINT}`),
    );
    return undefined;
  }
  const check = (valid: boolean, hint: string): boolean => {
    if (!valid) invalid.push(invalidValue(given, value as string, hint));
    return valid;
  };
  const text = value as string;
  switch (long) {
    case 'help':
      return { kind: 'help' };
    case 'version':
      return { kind: 'version' };
    case 'show-config':
      return { kind: 'show-config' };
    case 'allow-project':
      if (check(text !== '', 'Give the project\'s folder, "." for this one.'))
        return { kind: 'allow-project', dir: text };
      break;
    case 'completion':
      if (check(isCompletionShell(text), `Use ${COMPLETION_SHELLS.join(' or ')}.`))
        return { kind: 'completion', shell: text as CompletionShell };
      break;
    case 'local':
      options.local = true;
      break;
    case 'root':
      options.root = true;
      break;
    case 'detach':
      options.detach = true;
      break;
    case 'dry-run':
      options.dryRun = true;
      break;
    case 'quiet':
      options.quiet = true;
      break;
    case 'nb-port': {
      const port = /^\d+$/.test(text) ? Number(text) : NaN;
      if (check(port >= 1 && port <= 65535, `Give a port number from 1 to 65535 (default ${DEFAULT_NB_PORT}).`))
        options.nbPort = port;
      break;
    }
    case 'hostdatadir':
      if (check(text !== '', 'Give a folder, or "no" to map none.')) options.hostDataDir = parseHostDir(text);
      break;
    case 'hostlogdir':
      if (check(text !== '', 'Give a folder, or "no" to map none.')) options.hostLogDir = parseHostDir(text);
      break;
    case 'hostsrcdir':
      if (check(text !== '', 'Give a folder, or leave --hostsrcdir out.')) options.hostSrcDir = text;
      break;
    case 'memory':
      if (check(SIZE.test(text), 'Give a size such as 512m or 8g.')) options.memory = text;
      break;
    case 'shm-size':
      if (check(SIZE.test(text), 'Give a size such as 512m or 2g.')) options.shmSize = text;
      break;
    case 'name':
      if (
        check(
          CONTAINER_NAME.test(text),
          'Use two or more letters, digits, "_", "." or "-", starting with a letter or digit.',
        )
      ) {
        options.name = text;
      }
      break;
    case 'restart':
      if (check(RESTART_POLICY.test(text), 'Use no, always, unless-stopped, on-failure or on-failure:N.'))
        options.restart = text;
      break;
    default: {
      const unhandled: never = long;
      throw new Error(`run-docker option "--${String(unhandled)}" has no handler`);
    }
  }
  return undefined;
}

/** `no` maps no folder; anything else is the folder (`./no` for one named so). */
function parseHostDir(text: string): HostDirSetting {
  return text === 'no' ? { kind: 'none' } : { kind: 'dir', path: text };
}

function isCompletionShell(text: string): text is CompletionShell {
  return (COMPLETION_SHELLS as readonly string[]).includes(text);
}

function invalidValue(given: string, value: string, hint: string): RunDockerError {
  return new RunDockerError(`invalid value "${value}" for "${given}"`, hint);
}
