/**
 * The proxy settings of this host for registry requests: the environment, and `proxies` in
 * the docker CLI's config.json where the environment sets nothing (select-proxy.ts).
 */
import type { DockerConfigSnapshot, Logger } from '../../../../contract/contract';
import {
  buildProxySettings,
  describeProxyChoice,
  selectProxy,
  type DockerProxyConfig,
  type ProxySettings,
} from './select-proxy';

/** `proxies` of docker's config.json (as loaded for this call) where the environment sets nothing. */
export function readProxySettings(options: {
  env: Readonly<Record<string, string | undefined>>;
  dockerConfig: DockerConfigSnapshot;
}): ProxySettings {
  // A missing or broken file means none: the credential reader warns about a broken one.
  const proxies = options.dockerConfig.content?.proxies;
  return buildProxySettings(
    options.env,
    typeof proxies === 'object' && proxies !== null ? (proxies as Record<string, DockerProxyConfig>) : undefined,
  );
}

/** selectProxy with these settings, saying once per origin (in debug output) which way requests go. */
export function createProxyFor(settings: ProxySettings, log?: Logger): (url: URL) => URL | undefined {
  const told = new Set<string>();
  return (url) => {
    // An invalid proxy URL throws here; the transport reports it naming the proxy.
    const proxy = selectProxy(url, settings);
    if (!told.has(url.origin)) {
      told.add(url.origin);
      log?.debug(`registry requests to ${url.origin} go ${describeProxyChoice(url, settings, proxy)}`);
    }
    return proxy;
  };
}
