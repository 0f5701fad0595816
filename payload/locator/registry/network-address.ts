/**
 * Host names, IP addresses and CIDR ranges as registries, URLs, NO_PROXY and the engine's
 * InsecureRegistryCIDRs write them, decided by node:net's BlockList rather than by parsing
 * text: an address has many spellings (`::ffff:127.0.0.1` is `::ffff:7f00:1` once `URL` has
 * read it, and `0:0:0:0:0:0:0:1` is `::1`), and BlockList compares the addresses themselves,
 * an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as its IPv4 address, as Go's net.IP does for
 * the docker CLI and dockerd (https://pkg.go.dev/net#IP.Equal, #IPNet.Contains).
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** `[::1]` → `::1` (URL.hostname keeps the brackets of an IPv6 address); any other name as it is. */
export function unbracket(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** `host:port` → [host, port]; `[::1]:5000` → [`::1`, `5000`]; without a numeric port, the port is ''. */
export function splitHostPort(text: string): [host: string, port: string] {
  const bracketed = /^\[([^\]]*)\](?::(\d*))?$/.exec(text);
  if (bracketed) return [bracketed[1] ?? '', bracketed[2] ?? ''];
  if (text.indexOf(':') !== text.lastIndexOf(':') && isIPv6(text)) return [text, ''];
  const withPort = /^(.*):(\d+)$/s.exec(text);
  return withPort ? [withPort[1] ?? '', withPort[2] ?? ''] : [text, ''];
}

/**
 * The address family of an IP literal, or undefined for a name. Not net.isIP: it tries IPv6's
 * long pattern on every name, whose first use costs ~10 M instructions (~3 ms) of a call;
 * only a text with a `:` can be IPv6.
 */
function familyOf(address: string): 'ipv4' | 'ipv6' | undefined {
  if (isIPv4(address)) return 'ipv4';
  return address.includes(':') && isIPv6(address) ? 'ipv6' : undefined;
}

/** A set of IP ranges: CIDRs (`10.0.0.0/8`, `fd00::/8`) and single addresses. */
export interface AddressSet {
  /** Whether `address` (an IP literal, brackets allowed) lies in one of the ranges; a name never does. */
  has(address: string): boolean;
}

/** Entries that are neither a CIDR nor an IP address are left out (callers match names themselves). */
export function createAddressSet(entries: readonly string[]): AddressSet {
  const list = new BlockList();
  for (const entry of entries) addRange(list, entry);
  return {
    has(address) {
      const bare = unbracket(address);
      const family = familyOf(bare);
      return family !== undefined && list.check(bare, family);
    },
  };
}

/** Adds `entry` when it is a CIDR or an IP address; true if it was one. */
function addRange(list: BlockList, entry: string): boolean {
  const slash = entry.indexOf('/');
  const address = unbracket(slash < 0 ? entry : entry.slice(0, slash));
  const family = familyOf(address);
  if (family === undefined) return false;
  if (slash < 0) {
    list.addAddress(address, family);
    return true;
  }
  const prefix = entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (family === 'ipv4' ? 32 : 128)) return false;
  list.addSubnet(address, Number(prefix), family);
  return true;
}

/** Whether `entry` is a CIDR (`a.b.c.d/n`, `x::/n`) this module understands. */
export function isCidr(entry: string): boolean {
  return entry.includes('/') && addRange(new BlockList(), entry);
}

let loopback: AddressSet | undefined;

/**
 * `localhost`, or an address in 127.0.0.0/8 or `::1`, in any spelling (`[::ffff:7f00:1]`
 * included): what the engine treats as insecure and what a proxy never carries.
 */
export function isLoopbackHost(hostname: string): boolean {
  const bare = unbracket(hostname).toLowerCase();
  if (bare === 'localhost') return true;
  // A dotted IPv4 address is in 127.0.0.0/8 by its first byte. Only IPv6 spellings need the
  // BlockList, whose first use costs ~7 M instructions (~2 ms): not on every warm call.
  if (isIPv4(bare)) return bare.startsWith('127.');
  if (!bare.includes(':')) return false;
  loopback ??= createAddressSet(['127.0.0.0/8', '::1']);
  return loopback.has(bare);
}
