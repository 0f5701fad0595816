import { registryApiHost } from '../../../common/image-ref';

/**
 * Where to send Registry HTTP API requests for `registry` (as in an image reference).
 * Plain http only for loopback registries — the range the Docker engine treats as insecure
 * by default (127.0.0.0/8; `localhost` and `[::1]` name the same host) — https otherwise.
 */
export function registryBaseUrl(registry: string): string {
  const host = registryApiHost(registry);
  return `${isLoopbackRegistry(host) ? 'http' : 'https'}://${host}`;
}

export function isLoopbackRegistry(registry: string): boolean {
  const hostname = registry.startsWith('[')
    ? registry.slice(0, registry.indexOf(']') + 1)
    : registry.replace(/:.*/s, '');
  return (
    hostname.toLowerCase() === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}
