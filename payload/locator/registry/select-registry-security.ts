/**
 * Whether the Docker engine treats a registry as insecure, decided as dockerd decides it
 * (moby `registry/config.go`, `isSecureIndex`; https://docs.docker.com/reference/cli/dockerd/#insecure-registries):
 * a registry named in `IndexConfigs` is what its `Secure` says; otherwise it is insecure
 * when one of its addresses lies in an `InsecureRegistryCIDRs` range. dockerd always adds
 * 127.0.0.0/8 to those ranges, so a loopback registry is insecure on every engine.
 * Pure: the engine's answer and the resolved addresses are given.
 */
import { isIP } from 'node:net';

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
  return addresses.some((address) => config.insecureCidrs.some((cidr) => isInCidr(address, cidr)));
}

/** The host part of `host[:port]` (`[::1]:5000` → `::1`), for resolving. */
export function registryHostname(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  return registry.replace(/:.*/s, '');
}

export function isInCidr(address: string, cidr: string): boolean {
  const slash = cidr.indexOf('/');
  if (slash < 0) return false;
  const network = toBits(cidr.slice(0, slash));
  const target = toBits(address);
  const prefix = Number(cidr.slice(slash + 1));
  if (
    !network ||
    !target ||
    network.length !== target.length ||
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > network.length
  )
    return false;
  return network.slice(0, prefix) === target.slice(0, prefix);
}

/** An IP as a string of bits (32 or 128); IPv4-mapped IPv6 (`::ffff:a.b.c.d`) as IPv4. */
function toBits(ip: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (mapped) return toBits(mapped);
  const kind = isIP(ip);
  if (kind === 4)
    return ip
      .split('.')
      .map((part) => Number(part).toString(2).padStart(8, '0'))
      .join('');
  if (kind !== 6) return undefined;
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (v4) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
    text = `${text.slice(0, -v4.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail !== undefined && tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = [...headGroups, ...fill, ...tailGroups];
  if (groups.length !== 8) return undefined;
  return groups.map((group) => parseInt(group, 16).toString(2).padStart(16, '0')).join('');
}
