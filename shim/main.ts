/**
 * The installed `run-docker` command: reads the process once, runs the shim, exits.
 * Build-time constants come from scripts/build.mjs.
 */
import { homedir } from 'node:os';
import Dockerode from 'dockerode';
import { dockerConfigPath } from '../common/docker-config-path';
import { createLogger } from './create-logger';
import { cacheRootDir } from './payload-cache';
import { configFileLocation, readConfigFile } from './read-config-file';
import { describeFailure } from './report-failure';
import { resolveShimConfig } from './resolve-shim-config';
import { runShim } from './run-shim';
import { buildConfigRows, formatConfigRows, isShowConfig } from './show-config';

declare const SHIM_VERSION: string;
declare const DEFAULT_TINY: string;
declare const DEFAULT_MINI: string;

async function main(): Promise<number> {
  const env = { ...process.env };
  const log = createLogger(env, (line) => process.stderr.write(`${line}\n`));
  const argv = process.argv.slice(2);
  const homeDir = env.HOME || homedir();
  try {
    if (isShowConfig(argv)) {
      process.stdout.write(await showConfig(env, homeDir));
      return 0;
    }
    return await runShim({
      argv,
      env,
      homeDir,
      shimVersion: SHIM_VERSION,
      defaults: { tiny: DEFAULT_TINY, mini: DEFAULT_MINI },
      docker: new Dockerode(),
      log,
    });
  } catch (error) {
    const failure = describeFailure(error, env);
    for (const line of failure.lines) process.stderr.write(`${line}\n`);
    return failure.exitCode;
  }
}

/** The rows of --show-config; reads the config file, never the engine. */
async function showConfig(env: Record<string, string | undefined>, homeDir: string): Promise<string> {
  const location = configFileLocation(env, homeDir);
  const file = await readConfigFile(location.path);
  return formatConfigRows(
    buildConfigRows({
      shimVersion: SHIM_VERSION,
      config: resolveShimConfig(env, file, { tiny: DEFAULT_TINY, mini: DEFAULT_MINI }),
      configFile: { ...location, exists: file.content !== undefined },
      cacheRoot: cacheRootDir(env, homeDir),
      dockerConfig: { path: dockerConfigPath(env, homeDir), source: env.DOCKER_CONFIG ? 'env DOCKER_CONFIG' : 'default' },
    }),
  );
}

// Exit explicitly: a payload may leave idle handles (keep-alive sockets) open.
void main().then((code) => process.exit(code));
