/** Pure: a RunSpec as `docker run` arguments. */
import type { Mount, RunSpec } from './build-run-spec';
import { DOCKER_RUN_OPTIONS } from './docker-run-options';

export function renderDockerRunArgs(spec: RunSpec): string[] {
  const args = ['run', '--init'];
  if (spec.initPath) args.push('--init-path', spec.initPath);
  if (spec.remove) args.push('--rm');
  if (spec.detach) args.push('--detach');
  if (spec.interactive) args.push('--interactive');
  if (spec.tty) args.push('--tty');
  if (spec.userns) args.push('--userns', spec.userns);
  args.push('--name', spec.name, '--user', spec.user);
  for (const group of spec.groupAdd) args.push('--group-add', group);
  args.push('--workdir', spec.workdir);
  for (const [name, value] of spec.env) args.push('--env', value === undefined ? name : `${name}=${value}`);
  for (const mount of spec.mounts) args.push('--mount', formatBindMount(mount));
  for (const port of spec.publish) args.push('--publish', port);
  if (spec.memory) args.push('--memory', spec.memory);
  args.push('--shm-size', spec.shmSize);
  if (spec.restart) args.push('--restart', spec.restart);
  // The user's own docker options come last, so theirs win where docker takes the last value.
  args.push(...spec.dockerArgs, spec.image, ...spec.command);
  return args;
}

const TAKES_VALUE = new Set(
  DOCKER_RUN_OPTIONS.filter((option) => option.takesValue).map((option) => `--${option.long}`),
);

/**
 * Whether `docker run` gets a TTY: run-docker's choice, unless the user's own `--tty` or
 * `--tty=false` says otherwise last. The parser passes options on by their long name, a
 * value-taking one as two arguments (`--env`, `--tty` is an environment variable).
 */
export function isTtyAllocated(spec: Pick<RunSpec, 'tty' | 'dockerArgs'>): boolean {
  let tty = spec.tty;
  const args = spec.dockerArgs[Symbol.iterator]();
  for (const arg of args) {
    if (TAKES_VALUE.has(arg)) {
      args.next(); // its value
      continue;
    }
    const match = /^--tty(?:=(.*))?$/.exec(arg);
    const value = match?.[1];
    if (match) tty = value === undefined || ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
  }
  return tty;
}

/**
 * `--mount` rather than `-v`: `-v` splits on `:`, so a host path containing one would break.
 * --mount is CSV (docker/cli opts/mount.go uses encoding/csv): quote fields with `,` or `"`.
 */
export function formatBindMount(mount: Mount): string {
  return ['type=bind', `source=${mount.source}`, `target=${mount.target}`].map(quoteCsvField).join(',');
}

/** One CSV field, quoted when it holds `,`, `"` or a newline (Go's encoding/csv writes them so). */
export function quoteCsvField(field: string): string {
  return /[",\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}
