/**
 * The cluster as the roles see it: services, VRRP instances, NICs and addresses resolved from the inventory.
 * Pure functions of the inventory. Invalid entries are left out here; the rules (rules/) report them as Problems
 * (the engine runs them once per playbook before anything is touched, so nothing is built from bad data).
 */
import type { Inventory } from '../inventory/types.ts';
import { type Cidr, type Family, ipFamily, parseCidr, sameSubnet } from '../facts/netaddr.ts';
import {
  type IpvsTimeouts,
  ipvsSysctlsSchema,
  ipvsTimeoutsSchema,
  type LbKind,
  type NatDip,
  natDipsSchema,
  natGatewaysSchema,
  type NodeSvc,
  nodeSvcSchema,
  nicsSchema,
  type Service,
  serviceSchema,
  type Vrrp,
  type VrrpInstance,
  vrrpSchema,
  parseVrrpVip,
} from './schema.ts';
import * as z from 'zod';
import { addSecret } from '../secret-values.ts';

export interface Nic {
  name: string;
  address: string;
  prefix: number;
  family: Family;
}

const isIp = (s: unknown): s is string => typeof s === 'string' && ipFamily(s) !== undefined;
/** Keeps the addresses of `family` (all of them when no family is asked for). */
const ofFamily = (a: string, family: Family | undefined) => family === undefined || ipFamily(a) === family;

/** The address family of a service: its VIP's (every real server must be of it, rules/families.ts). */
export function serviceFamily(s: { vip: string }): Family {
  return ipFamily(s.vip) ?? 4;
}

function vars(inv: Inventory, host: string): Record<string, unknown> {
  return inv.hosts.get(host)?.vars ?? {};
}

/** A host's NIC addresses from `lvs_nics` (or the lab's `lab_nics`): [{name, address|addresses}]. */
export function hostNics(inv: Inventory, host: string): Nic[] {
  const v = vars(inv, host);
  const r = nicsSchema.safeParse(v.lvs_nics ?? v.lab_nics ?? []);
  if (!r.success) return [];
  return r.data.flatMap((n) =>
    [...(n.address ? [n.address] : []), ...(n.addresses ?? [])].map((a) => {
      const c = parseCidr(a)!;
      return { name: n.name, address: c.address, prefix: c.prefix, family: c.family };
    }),
  );
}

/** Every address a host owns according to the inventory: NICs and ansible_host. */
export function hostAddresses(inv: Inventory, host: string): string[] {
  const out = hostNics(inv, host).map((n) => n.address);
  const ah = vars(inv, host).ansible_host;
  if (isIp(ah)) out.push(ah);
  return [...new Set(out)];
}

/** The host's address (of `family`, when given) on the NIC named `iface` (from lvs_nics / lab_nics). */
export function addressOn(inv: Inventory, host: string, iface: string, family?: Family): Nic | undefined {
  return hostNics(inv, host).find((n) => n.name === iface && ofFamily(n.address, family));
}

/**
 * The address a real server is reached at by a director: the entry's `address`, else the host's `lvs_rip`, else
 * its NIC address in a subnet of one of the director's NICs (same segment, required for DR), else its first NIC
 * address, else ansible_host. With `family` (the service's), only addresses of that family are candidates: a
 * dual-stack real server is reached over IPv6 for an IPv6 service.
 */
export function realServerAddress(inv: Inventory, host: string, explicit: string | undefined, director?: string, family?: Family): string | undefined {
  if (explicit) return explicit;
  const v = vars(inv, host);
  if (isIp(v.lvs_rip) && ofFamily(v.lvs_rip, family)) return v.lvs_rip;
  const nics = hostNics(inv, host).filter((n) => ofFamily(n.address, family));
  if (director) {
    const dn = hostNics(inv, director);
    const shared = nics.find((n) => dn.some((d) => d.prefix === n.prefix && sameSubnet(d.address, n.address, n.prefix)));
    if (shared) return shared.address;
  }
  if (nics[0]) return nics[0].address;
  return isIp(v.ansible_host) && ofFamily(v.ansible_host, family) ? v.ansible_host : undefined;
}

/** Valid elements of a list variable (each element parsed on its own: one bad service does not hide the others). */
function validItems<T>(raw: unknown, schema: z.ZodType<T>): T[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((x) => {
    const r = schema.safeParse(x);
    return r.success ? [r.data] : [];
  });
}

// a loaded inventory does not change: parsed services are cached per inventory object
const servicesCache = new WeakMap<Inventory, Map<string, Service[]>>();
const allCache = new WeakMap<Inventory, Service[]>();

/** The virtual services in a host's `lvs_services`. */
export function hostServices(inv: Inventory, host: string): Service[] {
  let m = servicesCache.get(inv);
  if (!m) servicesCache.set(inv, (m = new Map()));
  let r = m.get(host);
  if (!r) m.set(host, (r = validItems(vars(inv, host).lvs_services, serviceSchema) as Service[]));
  return r;
}

/** Every virtual service any host of the inventory declares (deduplicated by content). */
export function allServices(inv: Inventory): Service[] {
  const cached = allCache.get(inv);
  if (cached) return cached;
  const seen = new Map<string, Service>();
  for (const h of inv.hosts.keys()) for (const s of hostServices(inv, h)) seen.set(JSON.stringify(s), s);
  const r = [...seen.values()];
  allCache.set(inv, r);
  return r;
}

function matchesNames(inv: Inventory, host: string, names: readonly string[]): boolean {
  const groups = inv.hosts.get(host)?.groups ?? [];
  return names.some((n) => n === host || groups.includes(n));
}

/** Services a director host serves: from its own lvs_services, of the given lb_kinds, and `directors` naming it. */
export function servicesOfDirector(inv: Inventory, host: string, kinds: readonly LbKind[], only?: readonly string[]): Service[] {
  return hostServices(inv, host).filter(
    (s) => kinds.includes(s.lb_kind) && (!s.directors || matchesNames(inv, host, s.directors)) && (!only || only.includes(s.name)),
  );
}

export interface ResolvedRealServer {
  host: string;
  address: string;
  port: number;
  weight: number;
}

export interface ResolvedService {
  service: Service;
  realServers: ResolvedRealServer[];
  sorry?: { address: string; port: number; inhibit: boolean };
}

/**
 * The port of a real server's IPVS entry: its own, else the service's. A fwmark service's entries have port 0:
 * IPVS then keeps each packet's destination port (80 stays 80, 443 stays 443, also through NAT).
 */
export function realServerPort(s: Pick<Service, 'port' | 'fwmark'>, own: number | undefined): number {
  return s.fwmark !== undefined ? 0 : own ?? s.port;
}

/** The ports a service receives on its VIP: its `ports` (a fwmark service), else its port. */
export function servicePorts(s: Pick<Service, 'port' | 'ports'>): number[] {
  return s.ports ?? [s.port];
}

/** A VIP:port a service receives as its own IPVS service (a virtual_server_group has several). */
export interface ServiceMember {
  vip: string;
  port: number;
}

/** The VIP:port pairs of a service: its virtual_server_group's members, else its VIP and port (fwmark: its first port). */
export function serviceMembers(s: Pick<Service, 'vip' | 'port' | 'virtual_server_group'>): ServiceMember[] {
  return s.virtual_server_group ?? [{ vip: s.vip, port: s.port }];
}

/** Every VIP of a service (a virtual_server_group: each member's, once). */
export function serviceVips(s: Pick<Service, 'vip' | 'port' | 'virtual_server_group'>): string[] {
  return [...new Set(serviceMembers(s).map((m) => m.vip))];
}

/** Real servers of a service with addresses as seen from `director`; unresolvable ones are left out (validated). */
export function resolveService(inv: Inventory, s: Service, director?: string): ResolvedService {
  const family = serviceFamily(s);
  const realServers = s.real_servers.flatMap((rs) => {
    if (!rs.address && !inv.hosts.has(rs.host)) return [];
    const address = realServerAddress(inv, rs.host, rs.address, director, family);
    return address ? [{ host: rs.host, address, port: realServerPort(s, rs.port), weight: rs.weight }] : [];
  });
  let sorry: ResolvedService['sorry'];
  if (s.sorry_server) {
    const a = s.sorry_server.address ?? (s.sorry_server.host && inv.hosts.has(s.sorry_server.host) ? realServerAddress(inv, s.sorry_server.host, undefined, director, family) : undefined);
    if (a) sorry = { address: a, port: realServerPort(s, s.sorry_server.port), inhibit: s.sorry_server.inhibit };
  }
  return { service: s, realServers, ...(sorry ? { sorry } : {}) };
}

function parsed<T>(raw: unknown, schema: z.ZodType<T>): T | undefined {
  if (raw === undefined || raw === null) return undefined;
  const r = schema.safeParse(raw);
  return r.success ? r.data : undefined;
}

export function hostVrrp(inv: Inventory, host: string): Vrrp | undefined {
  const vrrp = parsed(vars(inv, host).lvs_vrrp, vrrpSchema);
  // the VRRP password is rendered into keepalived.conf: masked in every diff, log and message
  for (const i of vrrp?.instances ?? []) addSecret(i.auth_pass);
  return vrrp;
}

export function hostNodeSvc(inv: Inventory, host: string): NodeSvc | undefined {
  return parsed(vars(inv, host).lvs_node_svc, nodeSvcSchema);
}

/** A NAT director's inner addresses (DIPs): `lvs_nat_dip`, one mapping or a list with one per family. */
export function hostNatDips(inv: Inventory, host: string): NatDip[] {
  return parsed(vars(inv, host).lvs_nat_dip, natDipsSchema) ?? [];
}

/** A NAT director's inner address of `family` (default: its first). */
export function hostNatDip(inv: Inventory, host: string, family?: Family): NatDip | undefined {
  return hostNatDips(inv, host).find((d) => ofFamily(parseCidr(d.address)!.address, family));
}

export function hostIpvsTimeouts(inv: Inventory, host: string): IpvsTimeouts | undefined {
  return parsed(vars(inv, host).lvs_ipvs_timeouts, ipvsTimeoutsSchema);
}

/** The host's `net.ipv4.vs.*` sysctls over the defaults (lvs_ipvs_sysctls), e.g. sloppy_tcp for zero-loss handovers */
export function hostIpvsSysctls(inv: Inventory, host: string): Record<string, number> | undefined {
  return parsed(vars(inv, host).lvs_ipvs_sysctls, ipvsSysctlsSchema);
}

export interface HostVrrpInstance {
  instance: VrrpInstance;
  state: 'MASTER' | 'BACKUP';
  priority: number;
  vips: Array<Cidr & { dev?: string }>;
  /** the family of its VIPs (an instance holds one, rules/families.ts): unicast addresses are of it too */
  family: Family;
  /** unicast: this host's address on the interface, and the other members' addresses */
  unicastSrc?: string;
  peers: string[];
  /** the interfaces tracked: the `track.interfaces`, plus (vip_interfaces) the devices of VIPs not on `interface` */
  trackInterfaces: Array<{ name: string; weight?: number }>;
}

/** Where the role writes a track_script's body. */
export function trackScriptPath(name: string): string {
  return `/etc/keepalived/scripts/${name}.sh`;
}

/** The interfaces an instance tracks (keepalived already watches the instance's own `interface`). */
export function trackedInterfaces(i: VrrpInstance): Array<{ name: string; weight?: number }> {
  const out = [...i.track.interfaces];
  if (i.track.vip_interfaces) {
    for (const v of i.vips.map((x) => parseVrrpVip(x)!)) {
      if (v.dev && v.dev !== i.interface && !out.some((t) => t.name === v.dev)) out.push({ name: v.dev });
    }
  }
  return out;
}

/** A peer's address of `family` on the segment of `src` (or on a NIC of the same name, or its ansible_host). */
function peerAddress(inv: Inventory, peer: string, iface: string, src: Nic | undefined, family: Family): string | undefined {
  const nics = hostNics(inv, peer).filter((n) => n.family === family);
  const same = src && nics.find((n) => sameSubnet(n.address, src.address, src.prefix));
  if (same) return same.address;
  const named = nics.find((n) => n.name === iface);
  if (named) return named.address;
  const ah = vars(inv, peer).ansible_host;
  return isIp(ah) && ofFamily(ah, family) ? ah : undefined;
}

/** The VRRP instances this host is a member of, with its state, priority and unicast peers. */
export function vrrpInstancesOf(inv: Inventory, host: string, vrrp: Vrrp | undefined = hostVrrp(inv, host)): HostVrrpInstance[] {
  if (!vrrp) return [];
  return vrrp.instances
    .filter((i) => i.priorities[host] !== undefined)
    .map((i) => {
      const priority = i.priorities[host]!;
      const top = Math.max(...Object.values(i.priorities));
      // nopreempt and preempt_delay work only when no member starts as MASTER
      const state = i.nopreempt || i.preempt_delay !== undefined || priority < top ? 'BACKUP' : 'MASTER';
      const vips = i.vips.map((v) => parseVrrpVip(v)!);
      const family = vips[0]?.family ?? 4;
      const src = addressOn(inv, host, i.interface, family);
      const peers = i.unicast
        ? Object.keys(i.priorities)
            .filter((p) => p !== host)
            .map((p) => peerAddress(inv, p, i.interface, src, family))
            .filter((a): a is string => a !== undefined)
        : [];
      return {
        instance: i,
        state,
        priority,
        vips,
        family,
        ...(i.unicast && src ? { unicastSrc: src.address } : {}),
        peers,
        trackInterfaces: trackedInterfaces(i),
      };
    });
}

/** Every address a director answers on: its own, its VRRP VIPs and its NAT inner address (DIP). */
export function directorAddresses(inv: Inventory, host: string): string[] {
  const out = new Set(hostAddresses(inv, host));
  for (const i of vrrpInstancesOf(inv, host)) for (const v of i.vips) out.add(v.address);
  for (const dip of hostNatDips(inv, host)) out.add(parseCidr(dip.address)!.address);
  return [...out];
}

/** VIPs of services of `kind` that list `host` as a real server (any host's lvs_services). */
export function realServerVips(inv: Inventory, host: string, kind: LbKind): string[] {
  return [...new Set(allServices(inv).filter((s) => s.lb_kind === kind && s.real_servers.some((r) => r.host === host)).flatMap(serviceVips))].sort();
}

/** The address families of the NAT services that list `host` as a real server. */
export function natRealServerFamilies(inv: Inventory, host: string): Family[] {
  const fams = new Set(allServices(inv).filter((s) => s.lb_kind === 'NAT' && s.real_servers.some((r) => r.host === host)).map(serviceFamily));
  return ([4, 6] as const).filter((f) => fams.has(f));
}

/**
 * The gateway of `family` (default: either) a NAT real server routes back through: its `lvs_nat_gateway` of that
 * family, else the DIP of that family of the directors (hosts with `lvs_nat_dip`) whose NAT services of that family
 * list it, when they agree on one. A dual-stack NAT real server has one gateway per family.
 */
export function natGatewayOf(inv: Inventory, host: string, family?: Family): { gateway?: string; candidates: string[] } {
  const own = (parsed(vars(inv, host).lvs_nat_gateway, natGatewaysSchema) ?? []).filter((g) => ofFamily(g, family));
  if (own.length > 0) return { gateway: own[0], candidates: own };
  const dips = new Set<string>();
  for (const d of inv.hosts.keys()) {
    const lists = (s: Service) => s.lb_kind === 'NAT' && ofFamily(s.vip, family) && s.real_servers.some((r) => r.host === host);
    for (const s of hostServices(inv, d).filter(lists)) {
      const dip = hostNatDip(inv, d, serviceFamily(s));
      if (dip) dips.add(parseCidr(dip.address)!.address);
    }
  }
  const candidates = [...dips].sort();
  return candidates.length === 1 ? { gateway: candidates[0], candidates } : { candidates };
}
