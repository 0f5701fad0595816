import { registryApiHost } from '../../../common/image-ref';
import { isLoopbackHost, splitHostPort } from './network-address';

/**
 * Where to send Registry HTTP API requests for `registry` (as in an image reference).
 * Plain http only for loopback registries — the range the Docker engine treats as insecure
 * by default (127.0.0.0/8, in any spelling; `localhost` and `[::1]` name the same host) — https otherwise.
 */
export function registryBaseUrl(registry: string): string {
  const host = registryApiHost(registry);
  return `${isLoopbackRegistry(host) ? 'http' : 'https'}://${host}`;
}

export function isLoopbackRegistry(registry: string): boolean {
  return isLoopbackHost(splitHostPort(registry)[0]);
}
