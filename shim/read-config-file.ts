import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { RunDockerError } from '../common/run-docker-error';
import type { ConfigFile } from './resolve-shim-config';

/** `$XDG_CONFIG_HOME/run-docker/config.json`, default `~/.config/run-docker/config.json`. */
export function configFilePath(env: Readonly<Record<string, string | undefined>>, homeDir: string): string {
  // XDG base directory spec: a relative XDG_CONFIG_HOME is invalid and ignored.
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : resolve(homeDir, '.config');
  return join(base, 'run-docker', 'config.json');
}

export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path, content: undefined };
    throw new RunDockerError(
      `cannot read the config file "${path}" (${(error as NodeJS.ErrnoException).code})`,
      'Fix its permissions or remove it to use the defaults.',
    );
  }
  try {
    return { path, content: JSON.parse(text) };
  } catch (error) {
    throw new RunDockerError(
      `the config file "${path}" is not valid JSON (${(error as Error).message})`,
      'Fix it or remove it to use the defaults.',
    );
  }
}
