import type { Fact } from '../engine/types.ts';
import { canonicalIp, parseCidr } from './netaddr.ts';
import { FactParseError } from './sections.ts';

/** Parse the JSON `ip -j` prints; a missing `ip` or an iproute2 without -j (< 4.13) is reported clearly. */
export function parseIpJson(key: string, stdout: string, exitCode: number): unknown[] {
  const text = stdout.trim();
  if (text === '@@noip') throw new FactParseError(key, 'the `ip` command (iproute2) is not installed', stdout);
  if (!text.startsWith("[")) {
    throw new FactParseError(key, `\`ip -j\` did not print JSON (exit ${exitCode}; iproute2 >= 4.13 is needed)`, stdout);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) throw new Error('not an array');
    return v;
  } catch (e) {
    throw new FactParseError(key, `invalid JSON from ip -j (${(e as Error).message})`, stdout);
  }
}

export interface IpAddress {
  family: 4 | 6;
  address: string; // canonical
  prefix: number;
  scope: string; // global, host, link
  label?: string;
  /** IPv6 duplicate address detection: `dadfailed` (another host has it: the kernel never uses it), `tentative` (running) */
  dad?: 'dadfailed' | 'tentative';
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

/** Interfaces by name, with their addresses (`ip -j -d addr show`, or `ip -j -d link show` + `ip -j addr show`). */
export type Interfaces = Map<string, Interface>;

interface RawLink {
  ifname: string;
  flags?: string[];
  link_type?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number; scope?: string; label?: string; dadfailed?: boolean; tentative?: boolean }>;
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
        ...(a.dadfailed ? { dad: 'dadfailed' as const } : a.tentative ? { dad: 'tentative' as const } : {}),
      });
    }
  }
  return out;
}

/** Flags `ip addr` prints after an address that are not its IPv4 label. */
const ADDR_FLAGS = new Set(['secondary', 'primary', 'dynamic', 'noprefixroute', 'deprecated', 'tentative', 'permanent', 'nodad', 'optimistic', 'dadfailed', 'home', 'mngtmpaddr', 'temporary', 'stable-privacy', 'autojoin']);

/**
 * Parse `ip -o [-d] link show` and `ip -o addr show` (iproute2 without JSON, < 4.13, and busybox ip), e.g.
 * `3: veth0@veth1: <BROADCAST,UP,LOWER_UP> mtu 1500 …\    link/ether … \    veth addrgenmode eui64 …` and
 * `3: veth0    inet 10.9.0.50/24 scope global secondary veth0:vip\       valid_lft forever …`.
 */
function parseInterfacesText(key: string, linkText: string, addrText: string): Interfaces {
  const out: Interfaces = new Map();
  for (const line of linkText.split('\n')) {
    if (!line.trim()) continue;
    const m = /^\d+:\s+([^:@\s]+)(?:@[^:\s]+)?:\s+<([^>]*)>/.exec(line);
    if (!m) throw new FactParseError(key, `unexpected ip -o link line ${JSON.stringify(line)}`, linkText);
    const segs = line.split('\\').map((x) => x.trim());
    const linkType = /^link\/(\S+)/.exec(segs[1] ?? '')?.[1] ?? 'none';
    // with -d the device kind opens the third segment ("veth addrgenmode …", "dummy addrgenmode …")
    const kindWord = segs[2]?.split(/\s+/)[0];
    const kind = kindWord && !['addrgenmode', 'altname', 'vf', 'alias'].includes(kindWord) ? kindWord : undefined;
    const flags = m[2]!.split(',').filter(Boolean);
    out.set(m[1]!, { name: m[1]!, flags, up: flags.includes('UP'), ...(kind ? { kind } : {}), linkType, addresses: [] });
  }
  for (const line of addrText.split('\n')) {
    if (!line.trim()) continue;
    const m = /^\d+:\s+(\S+)\s+(inet6?)\s+(\S+)\s*([^\\]*)/.exec(line);
    if (!m) continue; // link-layer lines some versions print
    const name = m[1]!.replace(/@.*/, '');
    const [local, len] = m[3]!.split('/');
    const address = canonicalIp(local ?? '');
    if (!address) throw new FactParseError(key, `unparseable address in ${JSON.stringify(line)}`, addrText);
    const family = m[2] === 'inet' ? 4 : 6;
    const words = m[4]!.trim().split(/\s+/).filter(Boolean);
    const si = words.indexOf('scope');
    const scope = si >= 0 ? words[si + 1]! : 'global';
    const last = words[words.length - 1];
    const label = family === 4 && last && last !== name && !ADDR_FLAGS.has(last) && last !== scope && words.length > si + 2 ? last : undefined;
    let iface = out.get(name);
    if (!iface) {
      iface = { name, flags: [], up: false, linkType: 'none', addresses: [] };
      out.set(name, iface);
    }
    const dad = words.includes('dadfailed') ? 'dadfailed' : words.includes('tentative') ? 'tentative' : undefined;
    iface.addresses.push({ family, address, prefix: len !== undefined ? Number(len) : family === 4 ? 32 : 128, scope, ...(label ? { label } : {}), ...(dad ? { dad } : {}) });
  }
  return out;
}

/**
 * All interfaces with kind, flags and addresses. One fact for the address and link steps. JSON (`ip -j`) when the
 * host's iproute2 has it, else the one-line text format (old iproute2, busybox ip).
 */
export const interfacesFact: Fact<Interfaces> = {
  key: 'ip:interfaces',
  command: [
    `if ! command -v ip >/dev/null 2>&1; then echo @@noip`,
    // one process: `ip -d addr` lists every link with its kind (linkinfo) and its addresses; no probe either, the
    // listing itself tells whether this iproute2 has -j (it prints a JSON array)
    `elif lvs_ifs=$(ip -j -d addr show 2>/dev/null) && [ "\${lvs_ifs#[}" != "$lvs_ifs" ]; then echo @@links+addr; printf '%s\\n' "$lvs_ifs"`,
    `else echo @@text; ip -o -d link show 2>/dev/null || ip -o link show; echo @@addr; ip -o addr show; fi`,
  ].join('\n'),
  parse(stdout, exitCode): Interfaces {
    const key = 'ip:interfaces';
    if (stdout.trim() === '@@noip') throw new FactParseError(key, 'the `ip` command (iproute2) is not installed', stdout);
    if (stdout.startsWith('@@links+addr\n')) {
      const all = parseIpJson(key, stdout.slice(13), exitCode);
      return parseInterfaces(key, all, all);
    }
    const text = stdout.startsWith('@@text\n');
    const body = text ? stdout.slice(7) : stdout;
    const i = body.indexOf('\n@@addr\n');
    if (i < 0) throw new FactParseError(key, 'missing @@addr marker', stdout);
    if (text) return parseInterfacesText(key, body.slice(0, i), body.slice(i + 8));
    return parseInterfaces(key, parseIpJson(key, body.slice(0, i), exitCode), parseIpJson(key, body.slice(i + 8), exitCode));
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

function normalizeRouteDst(dst: string, family: 4 | 6): string | undefined {
  if (dst === 'default') return family === 4 ? '0.0.0.0/0' : '::/0';
  const c = parseCidr(dst);
  return c ? `${c.address}/${c.prefix}` : undefined;
}

function parseRoutes(key: string, json: unknown[], family: 4 | 6): Route[] {
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

const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'multicast', 'unreachable', 'blackhole', 'prohibit', 'throw', 'nat', 'anycast']);

/** Parse `ip route show` text (iproute2 without JSON, busybox ip): `10.20.0.0/16 via 10.9.0.2 dev veth0 metric 5`. */
function parseRoutesText(key: string, text: string, family: 4 | 6): Route[] {
  const out: Route[] = [];
  for (const line of text.split('\n')) {
    const w = line.trim().split(/\s+/).filter(Boolean);
    if (!w.length) continue;
    let type: string | undefined;
    if (ROUTE_TYPES.has(w[0]!)) type = w.shift();
    const dst = normalizeRouteDst(w.shift() ?? '', family);
    if (!dst) throw new FactParseError(key, `unparseable route ${JSON.stringify(line)}`, text);
    const r: Route = { family, dst, ...(type && type !== 'unicast' ? { type } : {}) };
    for (let i = 0; i < w.length; i++) {
      const v = w[i + 1];
      if (w[i] === 'via' && v) (r.via = canonicalIp(v)), i++;
      else if (w[i] === 'dev' && v) (r.dev = v), i++;
      else if (w[i] === 'metric' && v) (r.metric = Number(v)), i++;
      else if (w[i] === 'proto' && v) (r.protocol = v), i++;
      else if (w[i] === 'scope' && v) (r.scope = v), i++;
    }
    out.push(r);
  }
  return out;
}

/** Routes of the main table, IPv4 and IPv6 (JSON when available, else text). */
export const routesFact: Fact<Route[]> = {
  key: 'ip:routes',
  command: [
    `if ! command -v ip >/dev/null 2>&1; then echo @@noip`,
    // as the interfaces fact: the JSON listing itself tells whether this iproute2 has -j
    `elif lvs_r4=$(ip -j -4 route show table main 2>/dev/null) && [ "\${lvs_r4#[}" != "$lvs_r4" ]; then printf '%s\\n' "$lvs_r4"; echo @@inet6; ip -j -6 route show table main`,
    `else echo @@text; ip -4 route show table main; echo @@inet6; ip -6 route show table main 2>/dev/null; fi`,
  ].join('\n'),
  parse(stdout): Route[] {
    const key = 'ip:routes';
    if (stdout.trim() === '@@noip') throw new FactParseError(key, 'the `ip` command (iproute2) is not installed', stdout);
    const text = stdout.startsWith('@@text\n');
    const body = text ? stdout.slice(7) : stdout;
    const i = body.indexOf('\n@@inet6\n') >= 0 ? body.indexOf('\n@@inet6\n') : body.startsWith('@@inet6\n') ? -1 : -2;
    if (i === -2) throw new FactParseError(key, 'missing @@inet6 marker', stdout);
    const v4 = i < 0 ? '' : body.slice(0, i);
    const v6 = i < 0 ? body.slice(8) : body.slice(i + 9);
    if (text) return [...parseRoutesText(key, v4, 4), ...parseRoutesText(key, v6.split('\n').filter((l) => !/^(RTNETLINK|Error)/.test(l)).join('\n'), 6)];
    const v6text = v6.trim();
    return [
      ...(v4.trim() === '' ? [] : parseRoutes(key, parseIpJson(key, v4, 0), 4)),
      // a host without IPv6 prints nothing (or an error) for -6: treat as no IPv6 routes
      ...(v6text.startsWith('[') ? parseRoutes(key, parseIpJson(key, v6text, 0), 6) : []),
    ];
  },
};
