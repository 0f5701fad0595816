/**
 * How to talk to a registry as the Docker engine would: which scheme, and which extra CA
 * roots and client certificate. Plain HTTP for a registry the engine treats as insecure
 * (loopback, or per its /info: read-engine-registry-config.ts) that has no certs.d folder;
 * https otherwise, trusting the folder's CAs (or Node's roots without any), with its client pair.
 *
 * dockerd tries https first even for an insecure registry (without checking its certificate,
 * and ignoring certs.d) and falls back to http. run-docker asks over http first: an insecure
 * registry is most often a plain-HTTP one on the LAN or loopback, and a failed TLS attempt
 * would cost it two round trips (TCP, then the hello) on every call. One that speaks only
 * TLS (a self-signed registry listed in insecure-registries) answers "HTTP request to an
 * HTTPS server"; fetch-registry.ts then goes on over https without checking the certificate,
 * as dockerd does: one round trip lost, once per lookup. A certs.d folder for an insecure
 * registry makes run-docker use verified https from the start (stricter than the engine,
 * which ignores the folder for insecure registries).
 */
import { isIP } from 'node:net';
import type { EngineClient, Logger } from '../../../contract/contract';
import { registryApiHost } from '../../../common/image-ref';
import { isLoopbackRegistry } from './registry-base-url';
import { readEngineRegistryConfig } from './read-engine-registry-config';
import { readRegistryCerts, selectCertsDirs } from './read-registry-certs';
import { isInsecureRegistry } from './select-registry-security';
import { splitHostPort } from './network-address';
import type { RegistryTls } from './send-with-node-http';

export interface RegistryTransport {
  /** `http://host:port` or `https://host`. */
  baseUrl: string;
  /** TLS material for requests to the registry's own host:port (never to a token service elsewhere). */
  tls?: RegistryTls & { host: string };
  /** Set for http: the engine treats the registry as insecure (fetch-registry.ts may then switch to unverified https). */
  insecureHost?: string;
}

export interface ChooseRegistryTransportOptions {
  engine?: EngineClient;
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string;
  /** The engine's address, the key of its cached /info answer (read-engine-registry-config.ts). */
  engineHost?: string;
  cacheDir?: string;
  log?: Logger;
  /** Default: selectCertsDirs(env, homeDir). */
  certsDirs?: readonly string[];
  resolve?: (hostname: string) => Promise<string[]>;
}

/** `registry` as in an image reference (`docker.io`, `host:port`). */
export async function chooseRegistryTransport(
  registry: string,
  options: ChooseRegistryTransportOptions,
): Promise<RegistryTransport> {
  const host = registryApiHost(registry);
  const [certs, insecure] = await Promise.all([
    readRegistryCerts(host, options.certsDirs ?? selectCertsDirs(options.env, options.homeDir)),
    isInsecureForEngine(registry, host, options),
  ]);
  const scheme = insecure && !certs ? 'http' : 'https';
  options.log?.debug(
    `registry "${host}": ${scheme}${insecure ? ' (insecure for the engine)' : ''}${certs ? `, certificates from ${certs.folders.join(', ')}` : ''}`,
  );
  if (scheme === 'http') return { baseUrl: `http://${host}`, insecureHost: host };
  if (!certs) return { baseUrl: `https://${host}` };
  const tls: RegistryTransport['tls'] = { host };
  // Node's `ca` replaces its roots, where the engine adds certs.d to the system pool. Adding
  // Node's 144 roots back costs ~90 ms per TLS context here (each PEM parsed again, on every
  // request) against ~1.5 ms for the folder's CAs alone; and a registry that has a CA in
  // certs.d is signed by it. So the folder's CAs are the trust for that host:port only.
  if (certs.ca.length > 0) tls.ca = certs.ca;
  if (certs.cert !== undefined && certs.key !== undefined) Object.assign(tls, { cert: certs.cert, key: certs.key });
  return { baseUrl: `https://${host}`, tls };
}

async function isInsecureForEngine(
  registry: string,
  host: string,
  options: ChooseRegistryTransportOptions,
): Promise<boolean> {
  // dockerd always counts 127.0.0.0/8 as insecure: no need to ask it about loopback.
  if (isLoopbackRegistry(host)) return true;
  const config = await readEngineRegistryConfig(options.engine, options);
  if (!config) return false;
  if (config.secureByIndex[registry] !== undefined) return !config.secureByIndex[registry];
  if (config.insecureCidrs.length === 0) return false;
  const [hostname] = splitHostPort(host);
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
