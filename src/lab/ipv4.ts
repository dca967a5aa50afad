/** Minimal IPv4/CIDR helpers for validating lab addresses (no dependency needed for this much). */

export interface Cidr {
  address: string; // dotted quad
  prefix: number;
}

export function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

export function parseCidr(s: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m || parseIpv4(m[1]) === undefined) return undefined;
  const prefix = Number(m[2]);
  if (prefix < 1 || prefix > 32) return undefined;
  return { address: m[1], prefix };
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Is `addr` inside `net/prefix`? */
export function inNet(addr: string, net: string, prefix: number): boolean {
  const a = parseIpv4(addr);
  const n = parseIpv4(net);
  if (a === undefined || n === undefined) return false;
  return ((a & mask(prefix)) >>> 0) === ((n & mask(prefix)) >>> 0);
}

/** The network address of a CIDR, e.g. 198.18.0.11/24 → 198.18.0.0 */
export function networkOf(c: Cidr): string {
  return formatIpv4(((parseIpv4(c.address) as number) & mask(c.prefix)) >>> 0);
}
