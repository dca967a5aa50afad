/**
 * IPv4 address/CIDR helpers for inventory data: the roles' services and VRRP, and the lab's addresses (IPv6 is not
 * supported there). Steps that accept either family use src/facts/netaddr.ts.
 */

export interface Cidr {
  address: string; // dotted quad, canonical (no leading zeros)
  prefix: number;
}

export function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

export function isIpv4(s: unknown): s is string {
  return typeof s === 'string' && parseIpv4(s) !== undefined;
}

/** `198.18.0.11/24` → {address, prefix}; a bare address gets `defaultPrefix` (undefined: the prefix is required). */
export function parseCidr(s: string, defaultPrefix?: number): Cidr | undefined {
  const m = /^([^/\s]+)(?:\/(\d{1,2}))?$/.exec(s.trim());
  if (!m) return undefined;
  const n = parseIpv4(m[1]!);
  if (n === undefined) return undefined;
  const prefix = m[2] === undefined ? defaultPrefix : Number(m[2]);
  if (prefix === undefined || prefix < 0 || prefix > 32) return undefined;
  return { address: formatIpv4(n), prefix };
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function sameSubnet(a: string, b: string, prefix: number): boolean {
  const x = parseIpv4(a);
  const y = parseIpv4(b);
  if (x === undefined || y === undefined) return false;
  return ((x & mask(prefix)) >>> 0) === ((y & mask(prefix)) >>> 0);
}

/** `198.18.0.11/24` → `198.18.0.0/24` */
export function networkOf(c: Cidr): string {
  return `${formatIpv4((parseIpv4(c.address)! & mask(c.prefix)) >>> 0)}/${c.prefix}`;
}
