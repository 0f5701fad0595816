import { isAbsolute, resolve } from 'node:path';

/** Each XDG base directory run-docker uses, and its default below the home folder. */
const DEFAULTS = {
  XDG_CONFIG_HOME: ['.config'],
  XDG_CACHE_HOME: ['.cache'],
  XDG_STATE_HOME: ['.local', 'state'],
} as const;

export type XdgBaseDirVariable = keyof typeof DEFAULTS;

/**
 * Pure: a base directory as the XDG Base Directory spec defines it
 * (https://specifications.freedesktop.org/basedir-spec/latest/): the variable's value when
 * it is an absolute path ("If an implementation encounters a relative path in any of these
 * variables it should consider the path invalid and ignore it"), else its default below
 * `homeDir`. `source` says which, as --show-config prints it: `env XDG_…_HOME` or `default`.
 */
export function selectXdgBaseDir(
  variable: XdgBaseDirVariable,
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
): { dir: string; source: string } {
  const value = env[variable];
  return value && isAbsolute(value) ? { dir: value, source: `env ${variable}` } : { dir: resolve(homeDir, ...DEFAULTS[variable]), source: 'default' };
}
