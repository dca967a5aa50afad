/**
 * Which services to verify, from where, against which directors: resolved from the inventory through the roles'
 * cluster model (src/cluster/cluster.ts), before any host is touched. Pure.
 */
import type { Inventory } from '../inventory/types.ts';
import { udpProbePayload } from './udp-payload.ts';
import type { HealthCheck } from '../cluster/health-checks.ts';
import type { Playbook } from '../engine/types.ts';
import { UsageError, ValidationError } from '../errors.ts';
import { selectHosts, hostsOfGroup } from '../inventory/index.ts';
import {
  allServices,
  hostNodeSvc,
  realServerAddress,
  resolveService,
  serviceMembers,
  servicePorts,
  serviceVips,
  servicesOfDirector,
  vrrpInstancesOf,
} from '../cluster/cluster.ts';
import { LB_KINDS } from '../cluster/schema.ts';
import { buildsVirtualServices } from '../cluster/registry.ts';
import { parseVerifyEntry, withAllowDown, type ServicesCheck, type VerifyEntry } from './spec.ts';

export interface BackendTarget {
  /** inventory host (or the address when the real server is not an inventory host) */
  label: string;
  host: string;
  address: string;
  port: number;
  weight: number;
}

export interface ServiceTarget {
  name: string;
  kind: 'NAT' | 'DR' | 'TUN' | 'node-svc';
  vip: string;
  /** the port probed first (a fwmark service: its first port) */
  port: number;
  /**
   * A member of a virtual_server_group: the group's name (the service's). Each member is a target of its own, named
   * by the service: IPVS balances every member as a service of its own, with the group's real servers.
   */
  group?: string;
  /** a fwmark service: its mark, and every port it marks (each is probed) */
  fwmark?: number;
  ports?: number[];
  protocol: 'TCP' | 'UDP';
  scheduler: string;
  /** UDP: the datagram the probes send (udp-payload.ts: what the health check sends), when not the text line */
  udpPayload?: { hex: string; dns: boolean };
  /** keepalived's scheduler flags (sh-port, mh-port, …); absent when none */
  schedulerFlags?: string[];
  persistence?: number;
  healthCheck: string;
  backends: BackendTarget[];
  /** hosts that may hold the VIP and balance it, best VRRP priority first */
  directors: string[];
}

export interface VerifyJob {
  target: ServiceTarget;
  vantage: string;
  http: boolean;
  /** UDP datagrams, the backend named in each reply (http is false) */
  udp?: boolean;
  check: ServicesCheck;
}

export interface VerifyPlan {
  jobs: VerifyJob[];
  /** said in the output: why something is not verified */
  notes: string[];
}

/** Hosts that are real servers of any service (they may carry lvs_services too, through shared group vars). */
function realServerHosts(inv: Inventory): Set<string> {
  const out = new Set<string>();
  for (const s of allServices(inv)) for (const r of s.real_servers) out.add(r.host);
  for (const h of inv.hosts.keys()) for (const s of hostNodeSvc(inv, h)?.services ?? []) for (const r of s.real_servers) out.add(r.host);
  return out;
}

/** The directors of an LVS service: the VRRP members carrying its VIP (by priority), else the hosts declaring it. */
function directorsOf(inv: Inventory, name: string, vip: string): string[] {
  const vrrp: Array<{ host: string; priority: number }> = [];
  for (const h of inv.hosts.keys()) {
    for (const i of vrrpInstancesOf(inv, h)) if (i.vips.some((v) => v.address === vip)) vrrp.push({ host: h, priority: i.priority });
  }
  if (vrrp.length) return [...new Set(vrrp.sort((a, b) => b.priority - a.priority).map((x) => x.host))];
  const rs = realServerHosts(inv);
  return [...inv.hosts.keys()].filter((h) => !rs.has(h) && servicesOfDirector(inv, h, LB_KINDS).some((s) => s.name === name && serviceVips(s).includes(vip)));
}

function udpPayloadOf(protocol: 'TCP' | 'UDP', check: HealthCheck): { udpPayload?: { hex: string; dns: boolean } } {
  const p = protocol === 'UDP' ? udpProbePayload(check) : undefined;
  return p ? { udpPayload: p } : {};
}

/** How a service balances and is checked: the same fields for an LVS and a node-svc service. */
function balancing(s: { protocol: 'TCP' | 'UDP'; scheduler: string; scheduler_flags: readonly string[]; persistence_timeout?: number | undefined; health_check: HealthCheck }) {
  return {
    protocol: s.protocol,
    scheduler: s.scheduler,
    ...(s.scheduler_flags.length ? { schedulerFlags: [...s.scheduler_flags] } : {}),
    ...(s.persistence_timeout !== undefined ? { persistence: s.persistence_timeout } : {}),
    healthCheck: s.health_check.type,
    ...udpPayloadOf(s.protocol, s.health_check),
  };
}

/** Every virtual service of the inventory: lvs_services (NAT/DR/TUN) and node-svc services. */
export function serviceTargets(inv: Inventory): ServiceTarget[] {
  const out: ServiceTarget[] = [];
  for (const s of allServices(inv)) {
    if (out.some((t) => t.name === s.name)) continue;
    for (const m of serviceMembers(s)) {
      // a group's members may sit in different VRRP instances (each VIP is held by its own)
      const directors = directorsOf(inv, s.name, m.vip);
      const r = resolveService(inv, s, directors[0]);
      out.push({
        name: s.name,
        kind: s.lb_kind,
        vip: m.vip,
        port: m.port,
        ...(s.virtual_server_group ? { group: s.name } : {}),
        ...(s.fwmark !== undefined ? { fwmark: s.fwmark, ports: servicePorts(s) } : {}),
        ...balancing(s),
        backends: r.realServers.map((b) => ({ label: b.host, host: b.host, address: b.address, port: b.port, weight: b.weight })),
        directors,
      });
    }
  }
  for (const node of inv.hosts.keys()) {
    for (const s of hostNodeSvc(inv, node)?.services ?? []) {
      const name = out.some((t) => t.name === s.name) ? `${node}/${s.name}` : s.name;
      const backends = s.real_servers.flatMap((rs) => {
        const address = realServerAddress(inv, rs.host, rs.address, node);
        return address ? [{ label: rs.host, host: rs.host, address, port: rs.port ?? s.port, weight: rs.weight }] : [];
      });
      out.push({
        name,
        kind: 'node-svc',
        vip: s.vip,
        port: s.port,
        ...balancing(s),
        backends,
        directors: [node],
      });
    }
  }
  return out;
}

/** HTTP probing (backend from the body) unless told otherwise: HTTP_GET health check or port 80/8080. */
export function isHttp(t: ServiceTarget, check: ServicesCheck): boolean {
  if (check.mode) return check.mode === 'http';
  return t.healthCheck === 'HTTP_GET' || t.port === 80 || t.port === 8080;
}

/** Whether a play of the playbook uses a role that builds virtual services (roles are listed in play.roles). */
function buildsServices(pb: Playbook): boolean {
  return pb.plays.some((p) => (p.roles ?? []).some(buildsVirtualServices));
}

export interface PlanOptions {
  /** `--allow-down HOST[,HOST]`: accepted as down in every entry */
  allowDown?: string[];
  /** `verify --service NAME` (repeatable): only these services of the entries (each must be a service of the inventory) */
  services?: string[];
}

/**
 * `--service NAME`: each entry keeps only the named services (an entry without `only` checks every service, so it
 * gets exactly those); an entry left with none is dropped. A name that is no service of the inventory, or that no
 * entry checks, is an option error (UsageError: exit 5, nothing probed).
 */
function narrowToServices(entries: VerifyEntry[], services: readonly string[], targets: readonly ServiceTarget[]): VerifyEntry[] {
  const known = [...new Set(targets.map((t) => t.name))];
  for (const name of services) {
    if (!known.includes(name)) throw new UsageError(`--service "${name}" is not a service of the inventory (services: ${known.join(', ') || 'none'})`);
  }
  const narrowed = entries.flatMap((e) => {
    const only = (e.only ?? known).filter((n) => services.includes(n));
    return only.length ? [{ ...e, only }] : [];
  });
  const checked = new Set(narrowed.flatMap((e) => e.only ?? []));
  const unchecked = services.filter((n) => !checked.has(n));
  if (unchecked.length) throw new UsageError(`--service ${unchecked.map((n) => `"${n}"`).join(', ')}: no verify entry of the playbook checks ${unchecked.length > 1 ? 'them' : 'it'} (its entries' only: lists leave ${unchecked.length > 1 ? 'them' : 'it'} out)`);
  return narrowed;
}

/** The playbook's verify entries, or the default (every service from `clients`), as jobs. Throws ValidationError. */
export function planVerification(pb: Playbook, inv: Inventory, opts: PlanOptions = {}): VerifyPlan {
  const notes: string[] = [];
  let entries: VerifyEntry[];
  if (pb.verify === undefined) {
    // the default verification checks the services the playbook builds: only when it has a director/node-svc role
    if (!buildsServices(pb)) {
      return { jobs: [], notes: ['no verification: the playbook has no verify entries and builds no virtual service (no director or node-svc role)'] };
    }
    if (!inv.groups.has('clients') || hostsOfGroup(inv, 'clients').length === 0) {
      return { jobs: [], notes: ['no verification: the playbook has no verify entries and the inventory no clients group to probe from'] };
    }
    entries = [parseVerifyEntry({ check: 'services' }, 0)];
  } else {
    entries = pb.verify.map((x, i) => parseVerifyEntry(x, i));
  }
  entries = entries.map((e) => withAllowDown(e, opts.allowDown ?? []));
  const targets = serviceTargets(inv);
  if (opts.services) entries = narrowToServices(entries, opts.services, targets);
  const jobs: VerifyJob[] = [];
  entries.forEach((check, i) => {
    for (const h of check.allowDown ?? []) {
      if (!targets.some((t) => t.backends.some((b) => b.label === h))) {
        throw new ValidationError(`verify[${i}]: allow-down "${h}" is not a real server of any service in the inventory`, { file: inv.file }, `name real servers (${[...new Set(targets.flatMap((t) => t.backends.map((b) => b.label)))].join(', ') || 'none'})`);
      }
    }
    const sel = selectHosts(inv, check.from);
    if (sel.hosts.length === 0) {
      throw new ValidationError(`verify[${i}]: from "${check.from}" matches no host of the inventory`, { file: inv.file }, 'name a host or group to probe from, e.g. from: "clients"');
    }
    const vantage = sel.hosts[0]!;
    for (const name of check.only ?? []) {
      if (!targets.some((t) => t.name === name)) {
        throw new ValidationError(`verify[${i}]: no service "${name}" in the inventory (services: ${[...new Set(targets.map((t) => t.name))].join(', ') || 'none'})`, { file: inv.file }, 'fix the name in only: [...]');
      }
    }
    for (const t of targets) {
      if (check.only && !check.only.includes(t.name)) continue;
      if (t.backends.length === 0) {
        notes.push(`${t.name}: no resolvable real server in the inventory; not probed`);
        continue;
      }
      // a UDP service: datagrams, each answered with the backend's name (roles/web-backend's UDP responder)
      if (t.protocol === 'UDP') jobs.push({ target: t, vantage, http: false, udp: true, check });
      else jobs.push({ target: t, vantage, http: isHttp(t, check), check });
    }
  });
  if (pb.verify === undefined && jobs.length === 0) notes.push('no verification: the inventory defines no virtual service');
  return { jobs, notes };
}
