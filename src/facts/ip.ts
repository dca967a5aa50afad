import type { Fact } from '../engine/types.ts';
import { canonicalIp, parseCidr } from './netaddr.ts';
import { FactParseError } from './sections.ts';

/** Parse the JSON `ip -j` prints; a missing `ip` or an iproute2 without -j (< 4.13) is reported clearly. */
function parseIpJson(key: string, stdout: string, exitCode: number): unknown[] {
  const text = stdout.trim();
  if (text === '@@noip') throw new FactParseError(key, 'the `ip` command (iproute2) is not installed', stdout);
  if (!text.startsWith("[")) {
    throw new FactParseError(key, `\`ip -j\` failed (exit ${exitCode}); iproute2 >= 4.13 with JSON output is required`, stdout);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) throw new Error('not an array');
    return v;
  } catch (e) {
    throw new FactParseError(key, `invalid JSON from ip -j (${(e as Error).message})`, stdout);
  }
}

const ipCmd = (args: string) => `if command -v ip >/dev/null 2>&1; then ip -j ${args}; else echo @@noip; fi`;

export interface IpAddress {
  family: 4 | 6;
  address: string; // canonical
  prefix: number;
  scope: string; // global, host, link
  label?: string;
}

export interface Interface {
  name: string;
  flags: string[];
  up: boolean;
  /** linkinfo.info_kind from `ip -d`: dummy, ipip, veth, bridge … (absent for physical NICs and lo) */
  kind?: string;
  linkType: string; // ether, loopback, ipip, none …
  addresses: IpAddress[];
}

/** Interfaces by name, with their addresses (`ip -j -d link show` + `ip -j addr show`). */
export type Interfaces = Map<string, Interface>;

interface RawLink {
  ifname: string;
  flags?: string[];
  link_type?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number; scope?: string; label?: string }>;
}

export function parseInterfaces(key: string, linkJson: unknown[], addrJson: unknown[]): Interfaces {
  const out: Interfaces = new Map();
  for (const raw of linkJson as RawLink[]) {
    if (!raw || typeof raw.ifname !== 'string') throw new FactParseError(key, 'link entry without ifname', JSON.stringify(raw));
    out.set(raw.ifname, {
      name: raw.ifname,
      flags: raw.flags ?? [],
      up: (raw.flags ?? []).includes('UP'),
      ...(raw.linkinfo?.info_kind ? { kind: raw.linkinfo.info_kind } : {}),
      linkType: raw.link_type ?? 'none',
      addresses: [],
    });
  }
  for (const raw of addrJson as RawLink[]) {
    if (!raw || typeof raw.ifname !== 'string') continue;
    let iface = out.get(raw.ifname);
    if (!iface) {
      iface = { name: raw.ifname, flags: raw.flags ?? [], up: (raw.flags ?? []).includes('UP'), linkType: raw.link_type ?? 'none', addresses: [] };
      out.set(raw.ifname, iface);
    }
    for (const a of raw.addr_info ?? []) {
      if ((a.family !== 'inet' && a.family !== 'inet6') || !a.local) continue;
      const address = canonicalIp(a.local);
      if (!address) continue;
      iface.addresses.push({
        family: a.family === 'inet' ? 4 : 6,
        address,
        prefix: a.prefixlen ?? (a.family === 'inet' ? 32 : 128),
        scope: a.scope ?? 'global',
        ...(a.label && a.label !== raw.ifname ? { label: a.label } : {}),
      });
    }
  }
  return out;
}

/** All interfaces with kind, flags and addresses. One fact for the address and link steps. */
export const interfacesFact: Fact<Interfaces> = {
  key: 'ip:interfaces',
  command: `${ipCmd('-d link show')}\necho @@addr\n${ipCmd('addr show')}`,
  parse(stdout, exitCode): Interfaces {
    const i = stdout.indexOf('\n@@addr\n');
    if (i < 0) throw new FactParseError('ip:interfaces', 'missing @@addr marker', stdout);
    return parseInterfaces('ip:interfaces', parseIpJson('ip:interfaces', stdout.slice(0, i), exitCode), parseIpJson('ip:interfaces', stdout.slice(i + 8), exitCode));
  },
};

export interface Route {
  family: 4 | 6;
  /** canonical CIDR ('10.0.0.0/8', '0.0.0.0/0' for default, '192.0.2.7/32' for a host route) */
  dst: string;
  via?: string;
  dev?: string;
  metric?: number;
  protocol?: string;
  scope?: string;
  type?: string;
}

interface RawRoute {
  dst?: string;
  gateway?: string;
  dev?: string;
  metric?: number;
  protocol?: string;
  scope?: string;
  type?: string;
}

export function normalizeRouteDst(dst: string, family: 4 | 6): string | undefined {
  if (dst === 'default') return family === 4 ? '0.0.0.0/0' : '::/0';
  const c = parseCidr(dst);
  return c ? `${c.address}/${c.prefix}` : undefined;
}

export function parseRoutes(key: string, json: unknown[], family: 4 | 6): Route[] {
  const out: Route[] = [];
  for (const r of json as RawRoute[]) {
    if (!r || typeof r.dst !== 'string') continue;
    const dst = normalizeRouteDst(r.dst, family);
    if (!dst) throw new FactParseError(key, `unparseable route destination ${r.dst}`, JSON.stringify(r));
    const via = r.gateway ? canonicalIp(r.gateway) : undefined;
    out.push({
      family,
      dst,
      ...(via ? { via } : {}),
      ...(r.dev ? { dev: r.dev } : {}),
      ...(r.metric !== undefined ? { metric: r.metric } : {}),
      ...(r.protocol ? { protocol: r.protocol } : {}),
      ...(r.scope ? { scope: r.scope } : {}),
      ...(r.type ? { type: r.type } : {}),
    });
  }
  return out;
}

/** Routes of the main table, IPv4 and IPv6. */
export const routesFact: Fact<Route[]> = {
  key: 'ip:routes',
  command: `${ipCmd('-4 route show table main')}\necho @@inet6\n${ipCmd('-6 route show table main')}`,
  parse(stdout, exitCode): Route[] {
    const i = stdout.indexOf('\n@@inet6\n');
    if (i < 0) throw new FactParseError('ip:routes', 'missing @@inet6 marker', stdout);
    const v6text = stdout.slice(i + 9).trim();
    return [
      ...parseRoutes('ip:routes', parseIpJson('ip:routes', stdout.slice(0, i), exitCode), 4),
      // a host without IPv6 prints nothing (or an error) for -6: treat as no IPv6 routes
      ...(v6text.startsWith('[') ? parseRoutes('ip:routes', parseIpJson('ip:routes', v6text, 0), 6) : []),
    ];
  },
};
