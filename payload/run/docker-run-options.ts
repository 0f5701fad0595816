/**
 * Data for the run-docker grammar (parse-invocation.ts) and its completion
 * (build-completion-script.ts): every option `docker run` accepts, and run-docker's own
 * options with their help lines. No logic beyond formatting the help.
 *
 * Each table is declared `as const satisfies` its row type, so the union of its option names
 * is derived from it (`DockerRunOptionName`, `RunDockerOptionName`): the parser's `switch`
 * over run-docker's options is exhaustive, and a new row without a handler does not compile.
 */
import { COMPLETION_SHELLS } from './invocation';
import { DEFAULT_HOST_DIRS, DEFAULT_NB_PORT, DEFAULT_SHM_SIZE } from './run-defaults';

/** One `docker run` option, as pflag declares it. */
export interface DockerRunOption<Name extends string = string> {
  /** The long name without dashes: `volume`. */
  readonly long: Name;
  /** The one-letter shorthand, if any: `v`. */
  readonly short?: string;
  /** True when the option takes a value (`--volume a:b`); false for a boolean flag (`--rm`). */
  readonly takesValue: boolean;
}

/** The docker CLI version the table below was checked against (tests/unit/docker-run-help.test.ts). */
export const DOCKER_RUN_OPTIONS_SOURCE_VERSION = '28.2.2';

/**
 * Every option of `docker run`, from the docker CLI 28.2.2 (build e6534b4), as its help
 * lists them with no engine to ask:
 *
 *   DOCKER_HOST=unix:///nonexistent docker run --help
 *
 * The CLI hides options the engine it talks to is too old for (against this machine's
 * Engine API 1.41 engine `--annotation` (1.43) and `--health-start-interval` (1.44) are
 * hidden; DOCKER_API_VERSION=1.50 shows them) and Windows-only ones when the engine is
 * Linux; with no engine it shows all it declares. tests/unit/docker-run-help.test.ts
 * compares this table with the installed CLI that way, and lists the options left out
 * (the four Windows-only ones) with their reasons. An option with a value type in the
 * help (list, string, int, bytes, duration, mount, network, gpu-request, ulimit, map,
 * decimal, uint16) takes a value; one without a type is a boolean. The type is kept in the
 * comment on each line. 85 take a value, 15 are booleans.
 */
const DOCKER_RUN_OPTION_ROWS = [
  { long: 'add-host', takesValue: true }, // list
  { long: 'annotation', takesValue: true }, // map
  { long: 'attach', short: 'a', takesValue: true }, // list
  { long: 'blkio-weight', takesValue: true }, // uint16
  { long: 'blkio-weight-device', takesValue: true }, // list
  { long: 'cap-add', takesValue: true }, // list
  { long: 'cap-drop', takesValue: true }, // list
  { long: 'cgroup-parent', takesValue: true }, // string
  { long: 'cgroupns', takesValue: true }, // string
  { long: 'cidfile', takesValue: true }, // string
  { long: 'cpu-period', takesValue: true }, // int
  { long: 'cpu-quota', takesValue: true }, // int
  { long: 'cpu-rt-period', takesValue: true }, // int
  { long: 'cpu-rt-runtime', takesValue: true }, // int
  { long: 'cpu-shares', short: 'c', takesValue: true }, // int
  { long: 'cpus', takesValue: true }, // decimal
  { long: 'cpuset-cpus', takesValue: true }, // string
  { long: 'cpuset-mems', takesValue: true }, // string
  { long: 'detach', short: 'd', takesValue: false }, // boolean
  { long: 'detach-keys', takesValue: true }, // string
  { long: 'device', takesValue: true }, // list
  { long: 'device-cgroup-rule', takesValue: true }, // list
  { long: 'device-read-bps', takesValue: true }, // list
  { long: 'device-read-iops', takesValue: true }, // list
  { long: 'device-write-bps', takesValue: true }, // list
  { long: 'device-write-iops', takesValue: true }, // list
  { long: 'disable-content-trust', takesValue: false }, // boolean
  { long: 'dns', takesValue: true }, // list
  { long: 'dns-option', takesValue: true }, // list
  { long: 'dns-search', takesValue: true }, // list
  { long: 'domainname', takesValue: true }, // string
  { long: 'entrypoint', takesValue: true }, // string
  { long: 'env', short: 'e', takesValue: true }, // list
  { long: 'env-file', takesValue: true }, // list
  { long: 'expose', takesValue: true }, // list
  { long: 'gpus', takesValue: true }, // gpu-request
  { long: 'group-add', takesValue: true }, // list
  { long: 'health-cmd', takesValue: true }, // string
  { long: 'health-interval', takesValue: true }, // duration
  { long: 'health-retries', takesValue: true }, // int
  { long: 'health-start-interval', takesValue: true }, // duration
  { long: 'health-start-period', takesValue: true }, // duration
  { long: 'health-timeout', takesValue: true }, // duration
  { long: 'help', takesValue: false }, // boolean
  { long: 'hostname', short: 'h', takesValue: true }, // string
  { long: 'init', takesValue: false }, // boolean
  { long: 'interactive', short: 'i', takesValue: false }, // boolean
  { long: 'ip', takesValue: true }, // string
  { long: 'ip6', takesValue: true }, // string
  { long: 'ipc', takesValue: true }, // string
  { long: 'isolation', takesValue: true }, // string
  { long: 'kernel-memory', takesValue: true }, // bytes
  { long: 'label', short: 'l', takesValue: true }, // list
  { long: 'label-file', takesValue: true }, // list
  { long: 'link', takesValue: true }, // list
  { long: 'link-local-ip', takesValue: true }, // list
  { long: 'log-driver', takesValue: true }, // string
  { long: 'log-opt', takesValue: true }, // list
  { long: 'mac-address', takesValue: true }, // string
  { long: 'memory', short: 'm', takesValue: true }, // bytes
  { long: 'memory-reservation', takesValue: true }, // bytes
  { long: 'memory-swap', takesValue: true }, // bytes
  { long: 'memory-swappiness', takesValue: true }, // int
  { long: 'mount', takesValue: true }, // mount
  { long: 'name', takesValue: true }, // string
  { long: 'network', takesValue: true }, // network
  { long: 'network-alias', takesValue: true }, // list
  { long: 'no-healthcheck', takesValue: false }, // boolean
  { long: 'oom-kill-disable', takesValue: false }, // boolean
  { long: 'oom-score-adj', takesValue: true }, // int
  { long: 'pid', takesValue: true }, // string
  { long: 'pids-limit', takesValue: true }, // int
  { long: 'platform', takesValue: true }, // string
  { long: 'privileged', takesValue: false }, // boolean
  { long: 'publish', short: 'p', takesValue: true }, // list
  { long: 'publish-all', short: 'P', takesValue: false }, // boolean
  { long: 'pull', takesValue: true }, // string
  { long: 'quiet', short: 'q', takesValue: false }, // boolean
  { long: 'read-only', takesValue: false }, // boolean
  { long: 'restart', takesValue: true }, // string
  { long: 'rm', takesValue: false }, // boolean
  { long: 'runtime', takesValue: true }, // string
  { long: 'security-opt', takesValue: true }, // list
  { long: 'shm-size', takesValue: true }, // bytes
  { long: 'sig-proxy', takesValue: false }, // boolean
  { long: 'stop-signal', takesValue: true }, // string
  { long: 'stop-timeout', takesValue: true }, // int
  { long: 'storage-opt', takesValue: true }, // list
  { long: 'sysctl', takesValue: true }, // map
  { long: 'tmpfs', takesValue: true }, // list
  { long: 'tty', short: 't', takesValue: false }, // boolean
  { long: 'ulimit', takesValue: true }, // ulimit
  { long: 'use-api-socket', takesValue: false }, // boolean
  { long: 'user', short: 'u', takesValue: true }, // string
  { long: 'userns', takesValue: true }, // string
  { long: 'uts', takesValue: true }, // string
  { long: 'volume', short: 'v', takesValue: true }, // list
  { long: 'volume-driver', takesValue: true }, // string
  { long: 'volumes-from', takesValue: true }, // list
  { long: 'workdir', short: 'w', takesValue: true }, // string
] as const satisfies readonly DockerRunOption[];

export type DockerRunOptionName = (typeof DOCKER_RUN_OPTION_ROWS)[number]['long'];
export const DOCKER_RUN_OPTIONS: readonly DockerRunOption<DockerRunOptionName>[] = DOCKER_RUN_OPTION_ROWS;

/**
 * Hidden, deprecated spellings the docker CLI 28.2.2 still accepts (not in --help; marked
 * hidden in docker/cli's cli/command/container/opts.go, and each one probed against the
 * installed CLI by tests/unit/docker-run-help.test.ts). Old scripts use `--net=host` or
 * `--dns-opt`, so they are accepted and normalised to the current name.
 */
export const DOCKER_RUN_OPTION_ALIASES: Readonly<Record<string, DockerRunOptionName>> = {
  'dns-opt': 'dns-option',
  net: 'network',
  'net-alias': 'network-alias',
};

/**
 * How the value of an option is completed: file names (the default; paths are common:
 * -v, --env-file), folders and a few words, or a few words.
 */
export type ValueCompletion =
  { kind: 'files' } | { kind: 'dirs'; extra: readonly string[] } | { kind: 'words'; words: readonly string[] };

/** One of run-docker's own options. */
export interface RunDockerOption<Name extends string = string> {
  readonly long: Name;
  readonly short?: string;
  /** How the value is shown in the help (`N`, `DIR|no`); absent for a flag without a value. */
  readonly value?: string;
  /** How the shell completes the value; file names when absent. */
  readonly complete?: ValueCompletion;
  readonly help: string;
}

/** `--restart` policies: the parser's rule and the completion's words. `on-failure` may end in `:N`. */
export const RESTART_POLICIES = ['no', 'always', 'unless-stopped', 'on-failure'] as const;

/**
 * run-docker's own options, in help order. Where docker run has an option of the same name
 * or letter (`--memory`/`-m`, `--shm-size`, `--name`, `--restart`, `-d`, `-q`, `--help`),
 * run-docker's wins. `-h` is not one of them: before IMAGE it is docker's `--hostname`
 * and takes a value, as `docker run` reads it (`run-docker -h web IMG`); only `-h` standing
 * alone (`run-docker -h`, which docker would refuse for its missing value) asks for help.
 */
const RUN_DOCKER_OPTION_ROWS = [
  { long: 'local', help: 'only images on this host; no network' },
  { long: 'root', help: 'run as root (home /root) instead of docker-user' },
  { long: 'nb-port', value: 'N', help: `port for "notebook", on 127.0.0.1 only (default ${DEFAULT_NB_PORT})` },
  {
    long: 'hostdatadir',
    value: 'DIR|no',
    complete: { kind: 'dirs', extra: ['no'] },
    help: `host folder mapped to ~/data (default ~/${DEFAULT_HOST_DIRS.data})`,
  },
  {
    long: 'hostlogdir',
    value: 'DIR|no',
    complete: { kind: 'dirs', extra: ['no'] },
    help: `host folder mapped to ~/log (default ~/${DEFAULT_HOST_DIRS.log})`,
  },
  {
    long: 'hostsrcdir',
    value: 'DIR',
    complete: { kind: 'dirs', extra: [] },
    help: `source folder for a dev run (default ~/${DEFAULT_HOST_DIRS.src}/<name>, if there)`,
  },
  { long: 'memory', short: 'm', value: 'SIZE', help: 'memory limit, e.g. 8g (default none)' },
  { long: 'shm-size', value: 'SIZE', help: `size of /dev/shm (default ${DEFAULT_SHM_SIZE})` },
  { long: 'name', value: 'NAME', help: 'container name (default <user>-<YYYYMMDD-HHMMSS>-<random>)' },
  {
    long: 'restart',
    value: 'POLICY',
    complete: { kind: 'words', words: RESTART_POLICIES },
    help: `${RESTART_POLICIES.join(', ')}[:N]; with -d, keeps the container`,
  },
  { long: 'detach', short: 'd', help: 'run in the background' },
  { long: 'dry-run', help: 'print the docker command and exit, without pulling or running' },
  { long: 'quiet', short: 'q', help: 'no progress lines' },
  { long: 'help', help: 'this help (-h alone, too)' },
  { long: 'version', help: 'the versions of the shim, tiny and mini in use' },
  { long: 'show-config', help: "the shim's settings and where each comes from (no engine needed)" },
  {
    long: 'allow-project',
    value: 'DIR',
    complete: { kind: 'dirs', extra: ['.'] },
    help: 'let the project of DIR (. for this one) widen what its container may do, on this host',
  },
  {
    long: 'completion',
    value: 'bash|zsh',
    complete: { kind: 'words', words: COMPLETION_SHELLS },
    help: 'print a shell completion script (see the end of this help)',
  },
] as const satisfies readonly RunDockerOption[];

export type RunDockerOptionName = (typeof RUN_DOCKER_OPTION_ROWS)[number]['long'];
export const RUN_DOCKER_OPTIONS: readonly RunDockerOption<RunDockerOptionName>[] = RUN_DOCKER_OPTION_ROWS;

/** run-docker's own options for the help text: one aligned line each, no trailing newline. */
export function formatOptionsHelp(): string {
  const rows = RUN_DOCKER_OPTIONS.map((option) => {
    const names = option.short ? `-${option.short}, --${option.long}` : `    --${option.long}`;
    return { usage: option.value ? `${names} ${option.value}` : names, help: option.help };
  });
  const width = Math.max(...rows.map(({ usage }) => usage.length));
  return rows.map(({ usage, help }) => `  ${usage.padEnd(width)}  ${help}`).join('\n');
}
