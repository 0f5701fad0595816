/**
 * A registry described as the Docker engine would talk to it (registry-host.ts): which
 * scheme, and which extra CA roots and client certificate. Plain HTTP for a registry the
 * engine treats as insecure (loopback, or per its /info: read-engine-registry-config.ts) that
 * has no certs.d folder; https otherwise, trusting the folder's CAs (or Node's roots without
 * any), with its client pair.
 *
 * dockerd tries https first even for an insecure registry (without checking its certificate,
 * and ignoring certs.d) and falls back to http. run-docker asks over http first: an insecure
 * registry is most often a plain-HTTP one on the LAN or loopback, and a failed TLS attempt
 * would cost it two round trips (TCP, then the hello) on every call. One that speaks only
 * TLS (a self-signed registry listed in insecure-registries) answers "HTTP request to an
 * HTTPS server"; the transport then goes on over https without checking the certificate,
 * as dockerd does: one round trip lost, once per lookup. A certs.d folder for an insecure
 * registry makes run-docker use verified https from the start (stricter than the engine,
 * which ignores the folder for insecure registries).
 */
import { isIP } from 'node:net';
import type { EngineClient, Logger } from '../../../../contract/contract';
import { registryApiHost } from '../../../../common/image-ref';
import { isLoopbackHost, splitHostPort } from '../network-address';
import type { RegistryHost } from '../registry-host';
import { readEngineRegistryConfig } from './read-engine-registry-config';
import { readRegistryCerts } from './read-registry-certs';
import { isInsecureRegistry } from './select-registry-security';

export interface DescribeRegistryHostOptions {
  /** Without one (or when its /info fails), only loopback registries are insecure: the rule from before. */
  engine?: EngineClient;
  /** The engine's address, the key of its cached /info answer (read-engine-registry-config.ts). */
  engineHost?: string;
  cacheDir?: string;
  log?: Logger;
  /** The certs.d folders to look in (read-registry-certs.ts, selectCertsDirs). */
  certsDirs: readonly string[];
  now?: () => number;
  resolve?: (hostname: string) => Promise<string[]>;
}

/** `registry` as in an image reference (`docker.io`, `host:port`). */
export async function describeRegistryHost(
  registry: string,
  options: DescribeRegistryHostOptions,
): Promise<RegistryHost> {
  const host = registryApiHost(registry);
  const [certs, insecure] = await Promise.all([
    readRegistryCerts(host, options.certsDirs),
    isInsecureForEngine(registry, host, options),
  ]);
  const mode = insecure && !certs ? 'plain' : 'verified';
  options.log?.debug(
    `registry "${host}": ${mode === 'plain' ? 'http' : 'https'}${insecure ? ' (insecure for the engine)' : ''}${certs ? `, certificates from ${certs.folders.join(', ')}` : ''}`,
  );
  if (!certs) return { registry, host, mode };
  // Node's `ca` replaces its roots, where the engine adds certs.d to the system pool. Adding
  // Node's 144 roots back costs ~90 ms per TLS context here (each PEM parsed again, on every
  // request) against ~1.5 ms for the folder's CAs alone; and a registry that has a CA in
  // certs.d is signed by it. So the folder's CAs are the trust for that host:port only.
  const { cert, key } = certs;
  return {
    registry,
    host,
    mode,
    ...(certs.ca.length > 0 ? { ca: certs.ca } : {}),
    ...(cert !== undefined && key !== undefined ? { clientCertificate: { cert, key } } : {}),
  };
}

async function isInsecureForEngine(
  registry: string,
  host: string,
  options: DescribeRegistryHostOptions,
): Promise<boolean> {
  const [hostname] = splitHostPort(host);
  // dockerd always counts 127.0.0.0/8 as insecure: no need to ask it about loopback. Podman
  // does not: only what registries.conf lists as insecure, which its /info's IndexConfigs shows.
  const kind = (await options.engine?.identify?.().catch(() => undefined))?.kind;
  if (isLoopbackHost(hostname) && kind !== 'podman') return true;
  const config = await readEngineRegistryConfig(options.engine, options);
  if (!config) return false;
  if (config.secureByIndex[registry] !== undefined) return !config.secureByIndex[registry];
  if (config.insecureCidrs.length === 0) return false;
  // A name that does not resolve matches no insecure CIDR; connecting to it then fails with its own error.
  const addresses = isIP(hostname) ? [hostname] : await (options.resolve ?? resolveAll)(hostname).catch(() => []);
  return isInsecureRegistry(registry, addresses, config);
}

async function resolveAll(hostname: string): Promise<string[]> {
  // Loaded here: only calls that ask about a registry off loopback need it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: only registries off loopback need DNS
  const { lookup } = require('node:dns/promises') as typeof import('node:dns/promises');
  return (await lookup(hostname, { all: true })).map((entry) => entry.address);
}
