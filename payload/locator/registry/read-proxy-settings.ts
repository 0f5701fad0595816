/**
 * The proxy settings of this host for registry requests: the environment, and `proxies` in
 * the docker CLI's config.json where the environment sets nothing (select-proxy.ts).
 */
import type { Logger } from '../../../contract/contract';
import { dockerConfigPath } from '../../../common/docker-config-path';
import { readPrivateFile } from '../../../common/read-private-file';
import {
  buildProxySettings,
  describeProxyChoice,
  selectProxy,
  type DockerProxyConfig,
  type ProxySettings,
} from './select-proxy';

/** As for credentials: far above any real config.json; a FIFO or /dev/zero never gets read. */
const DOCKER_CONFIG_LIMIT_BYTES = 4 * 1024 * 1024;

export async function readProxySettings(options: {
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string;
  log?: Logger;
}): Promise<ProxySettings> {
  return buildProxySettings(options.env, await readConfigProxies(options));
}

/** selectProxy with these settings, saying once per origin (in debug output) which way requests go. */
export function createProxyFor(settings: ProxySettings, log?: Logger): (url: URL) => URL | undefined {
  const told = new Set<string>();
  return (url) => {
    // An invalid proxy URL throws here; fetchRegistry reports it naming the proxy.
    const proxy = selectProxy(url, settings);
    if (!told.has(url.origin)) {
      told.add(url.origin);
      log?.debug(`registry requests to ${url.origin} go ${describeProxyChoice(url, settings, proxy)}`);
    }
    return proxy;
  };
}

/**
 * `proxies` of config.json, if any. A missing or broken file means none: the credential
 * reader already warns about a broken one, and a second warning would say nothing new.
 */
async function readConfigProxies(options: {
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string;
  log?: Logger;
}): Promise<Record<string, DockerProxyConfig> | undefined> {
  const file = dockerConfigPath(options.env, options.homeDir);
  try {
    const bytes = await readPrivateFile(file, { maxBytes: DOCKER_CONFIG_LIMIT_BYTES, followSymlink: true });
    if (bytes === undefined) return undefined;
    const proxies = (JSON.parse(bytes.toString('utf8')) as { proxies?: unknown } | null)?.proxies;
    return typeof proxies === 'object' && proxies !== null ? (proxies as Record<string, DockerProxyConfig>) : undefined;
  } catch (error) {
    options.log?.debug(
      `no proxy settings read from "${file}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).name}`,
    );
    return undefined;
  }
}
