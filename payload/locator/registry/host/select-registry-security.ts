/**
 * Whether the Docker engine treats a registry as insecure, decided as dockerd decides it
 * (moby `registry/config.go`, `isSecureIndex`; https://docs.docker.com/reference/cli/dockerd/#insecure-registries):
 * a registry named in `IndexConfigs` is what its `Secure` says; otherwise it is insecure
 * when one of its addresses lies in an `InsecureRegistryCIDRs` range. dockerd always adds
 * 127.0.0.0/8 to those ranges, so a loopback registry is insecure on every engine.
 * Pure: the engine's answer and the resolved addresses are given.
 */
import { createAddressSet } from '../network-address';

/** The part of `GET /info` that decides (Engine API, SystemInfo.RegistryConfig). */
export interface EngineRegistryConfig {
  /** The engine that answered (`ID` of /info), for the cache and debug lines. */
  engineId: string;
  insecureCidrs: string[];
  /** Index name (`host[:port]`) → Secure. */
  secureByIndex: Record<string, boolean>;
}

/** The registry part of an Engine API `GET /info` answer, or undefined when it has none. */
export function parseEngineRegistryConfig(info: unknown): EngineRegistryConfig | undefined {
  if (typeof info !== 'object' || info === null) return undefined;
  const { ID, RegistryConfig } = info as { ID?: unknown; RegistryConfig?: unknown };
  if (typeof RegistryConfig !== 'object' || RegistryConfig === null) return undefined;
  const { InsecureRegistryCIDRs, IndexConfigs } = RegistryConfig as {
    InsecureRegistryCIDRs?: unknown;
    IndexConfigs?: unknown;
  };
  const insecureCidrs = Array.isArray(InsecureRegistryCIDRs)
    ? InsecureRegistryCIDRs.filter((c): c is string => typeof c === 'string')
    : [];
  const secureByIndex: Record<string, boolean> = {};
  if (typeof IndexConfigs === 'object' && IndexConfigs !== null) {
    for (const [name, index] of Object.entries(IndexConfigs as Record<string, unknown>)) {
      const secure = typeof index === 'object' && index !== null ? (index as { Secure?: unknown }).Secure : undefined;
      if (typeof secure === 'boolean') secureByIndex[name] = secure;
    }
  }
  return { engineId: typeof ID === 'string' ? ID : '', insecureCidrs, secureByIndex };
}

/**
 * `registry` is the index name of an image reference (`host[:port]`, `docker.io`);
 * `addresses` the IPs its host resolves to (an IP literal is its own address).
 */
export function isInsecureRegistry(
  registry: string,
  addresses: readonly string[],
  config: EngineRegistryConfig,
): boolean {
  const named = config.secureByIndex[registry];
  if (named !== undefined) return !named;
  const insecure = createAddressSet(config.insecureCidrs);
  return addresses.some((address) => insecure.has(address));
}
