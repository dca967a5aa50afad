import { isIPv4, isIPv6 } from 'node:net';

export type Family = 4 | 6;

/** Canonical text of an IP address: IPv4 as is, IPv6 lowercased and zero-compressed (as `ip` prints it). */
export function canonicalIp(addr: string): string | undefined {
  if (isIPv4(addr)) return addr.split('.').map((o) => String(Number(o))).join('.');
  if (isIPv6(addr)) {
    // WHATWG URL serialises IPv6 hosts in the RFC 5952 form inet_ntop also uses
    try {
      return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function ipFamily(addr: string): Family | undefined {
  return isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : undefined;
}

export interface Cidr {
  address: string; // canonical
  prefix: number;
  family: Family;
}

/** Parse 'a.b.c.d/n', 'a:b::/n' or a bare address (full-length prefix). */
export function parseCidr(text: string): Cidr | undefined {
  const [addr, len, extra] = text.split('/');
  if (extra !== undefined || !addr) return undefined;
  const address = canonicalIp(addr);
  const family = ipFamily(addr);
  if (!address || !family) return undefined;
  const max = family === 4 ? 32 : 128;
  if (len === undefined) return { address, prefix: max, family };
  if (!/^\d{1,3}$/.test(len) || Number(len) > max) return undefined;
  return { address, prefix: Number(len), family };
}

export function formatCidr(c: Cidr): string {
  return `${c.address}/${c.prefix}`;
}

function toBigInt(c: Cidr): bigint {
  if (c.family === 4) return c.address.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
  const full = new URL(`http://[${c.address}]/`).hostname; // compressed; expand manually
  const [head, tail] = full.slice(1, -1).split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** True when the address has no bits set beyond the prefix (a valid route/network destination). */
export function isNetworkAddress(c: Cidr): boolean {
  const bits = c.family === 4 ? 32 : 128;
  const hostBits = BigInt(bits - c.prefix);
  const mask = (1n << hostBits) - 1n;
  return (toBigInt(c) & mask) === 0n;
}

/** Parse a CIDR that must carry its prefix ('198.18.0.11/24', 'fd00:1::11/64'). */
export function parseCidrWithPrefix(text: string): Cidr | undefined {
  return text.includes('/') ? parseCidr(text.trim()) : undefined;
}

function fromBigInt(n: bigint, family: Family): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return canonicalIp(groups.join(':'))!;
}

function maskBits(c: Pick<Cidr, 'prefix' | 'family'>): bigint {
  const bits = c.family === 4 ? 32 : 128;
  return ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - c.prefix)) - 1n);
}

/** True when `a` and `b` are of one family and share the first `prefix` bits. */
export function sameSubnet(a: string, b: string, prefix: number): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (!x || !y || x.family !== y.family) return false;
  const m = maskBits({ prefix, family: x.family });
  return (toBigInt(x) & m) === (toBigInt(y) & m);
}

/** `198.18.0.11/24` → `198.18.0.0/24`, `fd00:1::11/64` → `fd00:1::/64` */
export function networkOf(c: Cidr): string {
  return `${fromBigInt(toBigInt(c) & maskBits(c), c.family)}/${c.prefix}`;
}

/**
 * An address and a port as every message, key and URL prints them: `198.18.0.100:80`, `[fd00::100]:80`
 * (the brackets keep an IPv6 address's colons apart from the port's, as ipvsadm -Ln and URLs write it).
 */
export function hostPort(address: string, port: number | string): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
