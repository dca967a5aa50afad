/**
 * Whole-cluster validation, before anything is touched: the plans known to break LVS clusters
 * (docs/roles.md, "Validation") become Problems naming the host, the field and the fix.
 *
 * Every LVS role computes the same cluster-wide list; each problem is reported by one role only: the first
 * role (in playbook order) whose play contains the problem's host, or the first LVS role of the playbook when
 * the host is in none (so the same problem is not listed once per role).
 */
import type { Problem, ValidateContext } from '../../src/engine/types.ts';
import type { Inventory } from '../../src/inventory/types.ts';
import {
  allServices,
  directorAddresses,
  hostAddresses,
  hostNatDip,
  hostNics,
  hostVrrp,
  natGatewayOf,
  resolveService,
  servicesOfDirector,
  vrrpInstancesOf,
} from './cluster.ts';
import { networkOf, sameSubnet } from '../../src/net/ipv4.ts';
import { type LvsRole, type LvsRoleName, type RoleUsage, usagesWith } from './registry.ts';
import {
  ipv4,
  ipvsTimeoutsSchema,
  natDipSchema,
  nicsSchema,
  nodeSvcSchema,
  serviceSchema,
  type Service,
  vrrpSchema,
  type VrrpInstance,
  parseVrrpVip,
} from './schema.ts';
import { dedupeProblems, readVar, varLocation } from './vars.ts';
import { z } from 'zod';


/** The variables of the data model, with a hint shown when one is malformed. */
const VARS: Array<[string, z.ZodType, string]> = [
  ['lvs_services', z.array(serviceSchema), 'see docs/roles.md: lvs_services entries are {name, vip, port, lb_kind, scheduler, real_servers: [{host, port, weight}]}'],
  ['lvs_vrrp', vrrpSchema, 'see docs/roles.md: lvs_vrrp is {instances: [{name, interface, virtual_router_id, priorities, vips}], sync_groups, lvs_sync_daemon}'],
  ['lvs_node_svc', nodeSvcSchema, 'see docs/roles.md: lvs_node_svc is {device, ipset, chains, mark, services: [...]}'],
  ['lvs_nics', nicsSchema, 'lvs_nics: [{name: eth1, address: 198.18.0.11/24}]'],
  ['lvs_nat_dip', natDipSchema, 'lvs_nat_dip: {address: 198.18.1.1/24, interface: eth2}'],
  ['lvs_ipvs_timeouts', ipvsTimeoutsSchema, 'lvs_ipvs_timeouts: {tcp: 900, tcpfin: 30, udp: 300}'],
  ['lvs_rip', ipv4, 'lvs_rip: the real server address the directors use, e.g. 198.18.0.21'],
  ['lvs_nat_gateway', ipv4, 'lvs_nat_gateway: the director inner address (DIP), e.g. 198.18.1.1'],
];

interface Ctx {
  inv: Inventory;
  usages: RoleUsage[];
  problems: Problem[];
  /** the role a rule is about, to report its problems (when the host runs it) */
  by?: LvsRoleName;
}

/** Problem → the role whose rule found it (kept outside the Problem objects, which go to the operator as they are). */
const ruleRole = new WeakMap<Problem, LvsRoleName>();

function add(c: Ctx, host: string | undefined, field: string | undefined, message: string, hint?: string, varName?: string): void {
  const loc = host && varName ? varLocation(c.inv.hosts.get(host), varName) : {};
  const p: Problem = { message, ...(host ? { host } : {}), ...(field ? { field } : {}), ...loc, ...(hint ? { hint } : {}) };
  if (c.by) ruleRole.set(p, c.by);
  c.problems.push(p);
}

/** Index of a service in the host's lvs_services list (for the field name). */
function serviceIndex(inv: Inventory, host: string, s: Service): number {
  const raw = inv.hosts.get(host)?.vars.lvs_services;
  return Array.isArray(raw) ? raw.findIndex((x) => (x as { name?: unknown })?.name === s.name) : -1;
}

function directorUsages(c: Ctx): Array<{ usage: RoleUsage; host: string; services: Service[] }> {
  const out: Array<{ usage: RoleUsage; host: string; services: Service[] }> = [];
  for (const u of c.usages) {
    const kinds = u.role.lbKinds;
    if (!kinds || (u.role.role !== 'director-nat' && u.role.role !== 'director-dr-ha')) continue;
    for (const h of u.hosts) out.push({ usage: u, host: h, services: servicesOfDirector(c.inv, h, kinds, u.role.serviceNames) });
  }
  return out;
}

/** Hosts that serve each service (by name), with the role they serve it through. */
function directorsByService(c: Ctx): Map<string, { service: Service; directors: string[] }> {
  const m = new Map<string, { service: Service; directors: string[] }>();
  for (const d of directorUsages(c)) {
    for (const s of d.services) {
      const e = m.get(s.name) ?? { service: s, directors: [] };
      if (!e.directors.includes(d.host)) e.directors.push(d.host);
      m.set(s.name, e);
    }
  }
  return m;
}

function checkVariables(c: Ctx, hosts: Set<string>): void {
  for (const h of hosts) {
    for (const [name, schema, hint] of VARS) {
      const r = readVar(c.inv, h, name, schema, hint);
      if (r && !r.ok) c.problems.push(...r.problems);
    }
  }
}

function checkReferences(c: Ctx): void {
  const known = (h: string) => c.inv.hosts.has(h);
  for (const d of directorUsages(c)) {
    const seenVs = new Map<string, string>();
    for (const s of d.services) {
      const i = serviceIndex(c.inv, d.host, s);
      const f = `lvs_services[${i}]`;
      s.real_servers.forEach((rs, j) => {
        if (!rs.address && !known(rs.host)) {
          add(c, d.host, `${f}.real_servers[${j}].host`, `service ${s.name}: real server "${rs.host}" is not a host of the inventory`, 'list the real server as an inventory host (its address comes from there), or give its address', 'lvs_services');
        }
      });
      if (s.sorry_server?.host && !known(s.sorry_server.host)) {
        add(c, d.host, `${f}.sorry_server.host`, `service ${s.name}: sorry server "${s.sorry_server.host}" is not a host of the inventory`, 'use an inventory host name or sorry_server.address', 'lvs_services');
      }
      const key = `${s.protocol} ${s.vip}:${s.port}`;
      const other = seenVs.get(key);
      if (other !== undefined && other !== s.name) {
        add(c, d.host, `${f}.vip`, `services ${other} and ${s.name} are both ${key}`, 'one virtual service per protocol, VIP and port', 'lvs_services');
      }
      seenVs.set(key, s.name);
    }
  }
}

/** DR and TUN forward the packet unchanged: the real server port must be the VIP's port. */
function checkPortMapping(c: Ctx): void {
  for (const d of directorUsages(c)) {
    for (const s of d.services) {
      if (s.lb_kind === 'NAT') continue;
      s.real_servers.forEach((rs, j) => {
        if (rs.port !== undefined && rs.port !== s.port) {
          add(c, d.host, `lvs_services[${serviceIndex(c.inv, d.host, s)}].real_servers[${j}].port`,
            `service ${s.name} (lb_kind ${s.lb_kind}): real server ${rs.host} port ${rs.port} differs from the virtual port ${s.port}; ${s.lb_kind} cannot map ports`,
            `make the real server listen on ${s.port} and drop its port, or use lb_kind NAT (the only method that maps ports)`, 'lvs_services');
        }
      });
    }
  }
}

/** A DR VIP must not be a director's own address: the real servers would refuse to answer the director's ARP for it. */
function checkDrVipOwnAddress(c: Ctx): void {
  for (const d of directorUsages(c)) {
    const own = hostAddresses(c.inv, d.host);
    for (const s of d.services) {
      if (s.lb_kind === 'DR' && own.includes(s.vip)) {
        add(c, d.host, `lvs_services[${serviceIndex(c.inv, d.host, s)}].vip`,
          `service ${s.name}: the DR VIP ${s.vip} is ${d.host}'s own address`,
          'use a separate address as the VIP (held by keepalived as a VRRP VIP), never the director\'s primary address', 'lvs_services');
      }
    }
  }
}

/** keepalived must hold every VIP: each served VIP is a VRRP VIP of an instance the director is a member of. */
function checkVipsHeld(c: Ctx): void {
  for (const d of directorUsages(c)) {
    const held = new Set(vrrpInstancesOf(c.inv, d.host).flatMap((i) => i.vips.map((v) => v.address)));
    for (const s of d.services) {
      if (!held.has(s.vip)) {
        add(c, d.host, `lvs_services[${serviceIndex(c.inv, d.host, s)}].vip`,
          `service ${s.name}: VIP ${s.vip} is not a VIP of any VRRP instance ${d.host} is a member of`,
          `add ${s.vip} to the vips of an lvs_vrrp instance whose priorities list ${d.host} (a single director may be an instance's only member)`, 'lvs_services');
      }
    }
  }
}

function checkVrrp(c: Ctx, hosts: Set<string>): void {
  // each member's own view of each instance it is listed in
  type View = { host: string; vrid: number; auth?: string; vips: string; iface: string; network: string; priorities: Record<string, number>; index: number };
  const byName = new Map<string, View[]>();
  const listedMembers = new Map<string, Set<string>>();
  for (const h of hosts) {
    const v = hostVrrp(c.inv, h);
    if (!v) continue;
    v.instances.forEach((i, index) => {
      for (const m of Object.keys(i.priorities)) {
        if (!c.inv.hosts.has(m)) {
          add(c, h, `lvs_vrrp.instances[${index}].priorities.${m}`, `VRRP instance ${i.name}: "${m}" is not a host of the inventory`, 'priorities are keyed by inventory host names of the directors', 'lvs_vrrp');
        }
        const set = listedMembers.get(i.name) ?? new Set();
        set.add(m);
        listedMembers.set(i.name, set);
      }
      if (i.priorities[h] === undefined) return;
      const nic = hostNics(c.inv, h).find((n) => n.name === i.interface);
      const network = nic ? networkOf({ address: nic.address, prefix: nic.prefix }) : `interface ${i.interface}`;
      const view: View = {
        host: h, vrid: i.virtual_router_id, auth: i.auth_pass, iface: i.interface, network, priorities: i.priorities, index,
        vips: i.vips.map((x) => { const p = parseVrrpVip(x)!; return `${p.address}/${p.prefix}${p.dev ? ` dev ${p.dev}` : ''}`; }).sort().join(' '),
      };
      byName.set(i.name, [...(byName.get(i.name) ?? []), view]);
      if (i.unicast && !nic) {
        add(c, h, `lvs_vrrp.instances[${index}].interface`, `VRRP instance ${i.name} is unicast but ${h} has no address on ${i.interface} in the inventory`,
          `add {name: ${i.interface}, address: CIDR} to ${h}'s lvs_nics so the source and peer addresses are known`, 'lvs_vrrp');
      }
    });
    // sync groups and the sync daemon refer to instances this host runs
    const mine = new Set(v.instances.filter((i) => i.priorities[h] !== undefined).map((i) => i.name));
    v.sync_groups.forEach((g, gi) => {
      g.instances.forEach((n, k) => {
        if (!v.instances.some((i) => i.name === n)) {
          add(c, h, `lvs_vrrp.sync_groups[${gi}].instances[${k}]`, `sync group ${g.name}: no VRRP instance named ${n}`, `define ${n} in lvs_vrrp.instances or remove it from the group`, 'lvs_vrrp');
        }
      });
      const members = g.instances.filter((n) => mine.has(n));
      if (members.length > 0 && members.length < g.instances.length) {
        add(c, h, `lvs_vrrp.sync_groups[${gi}]`, `sync group ${g.name}: ${h} is a member of ${members.join(', ')} but not of ${g.instances.filter((n) => !mine.has(n)).join(', ')}`,
          'every director of a sync group must be a member of all its instances', 'lvs_vrrp');
      }
    });
    if (v.lvs_sync_daemon && !mine.has(v.lvs_sync_daemon.instance) && mine.size > 0) {
      add(c, h, 'lvs_vrrp.lvs_sync_daemon.instance', `lvs_sync_daemon: ${h} is not a member of VRRP instance ${v.lvs_sync_daemon.instance}`,
        'name an instance this director is a member of (its state decides master/backup of the sync daemon)', 'lvs_vrrp');
    }
  }
  for (const [name, views] of byName) {
    // a member listed by one view but missing its own definition
    for (const m of listedMembers.get(name) ?? []) {
      if (hosts.has(m) && !views.some((v) => v.host === m)) {
        add(c, m, 'lvs_vrrp.instances', `VRRP instance ${name} lists ${m} in its priorities, but ${m}'s own lvs_vrrp does not make it a member`,
          `define ${name} for ${m} too (put lvs_vrrp in the directors' group vars so both members read one definition)`, 'lvs_vrrp');
      }
    }
    const first = views[0]!;
    // equal priorities: no deterministic MASTER/BACKUP election
    const prios = Object.entries(first.priorities);
    const dup = prios.find(([m, p]) => prios.some(([m2, p2]) => m2 !== m && p2 === p));
    if (dup) {
      const same = prios.filter(([, p]) => p === dup[1]).map(([m]) => m);
      add(c, first.host, `lvs_vrrp.instances[${first.index}].priorities`, `VRRP instance ${name}: ${same.join(' and ')} have the same priority ${dup[1]}`,
        'give the intended MASTER a higher priority than the BACKUP (e.g. 150 and 100)', 'lvs_vrrp');
    }
    checkTrackWeights(c, first.host, first.index, name, first.priorities, hostVrrp(c.inv, first.host)!.instances[first.index]!);
    for (const v of views.slice(1)) {
      const diffs: string[] = [];
      if (v.vrid !== first.vrid) diffs.push(`virtual_router_id ${first.vrid} on ${first.host}, ${v.vrid} on ${v.host}`);
      if ((v.auth ?? '') !== (first.auth ?? '')) diffs.push(`auth_pass differs between ${first.host} and ${v.host}`);
      if (v.vips !== first.vips) diffs.push(`vips [${first.vips}] on ${first.host}, [${v.vips}] on ${v.host}`);
      if (JSON.stringify(Object.entries(v.priorities).sort()) !== JSON.stringify(Object.entries(first.priorities).sort())) {
        diffs.push(`priorities differ between ${first.host} and ${v.host}`);
      }
      if (diffs.length) {
        add(c, v.host, `lvs_vrrp.instances[${v.index}]`, `the members of VRRP instance ${name} disagree: ${diffs.join('; ')}`,
          'both members need the same virtual_router_id, auth_pass and vips (define the instance once, in the directors\' group vars)', 'lvs_vrrp');
      }
    }
  }
  // a virtual_router_id is unique per L2 segment
  const byNet = new Map<string, Map<number, { name: string; host: string; index: number }>>();
  const reported = new Set<string>();
  for (const [name, views] of byName) {
    for (const v of views) {
      const ids = byNet.get(v.network) ?? new Map();
      const other = ids.get(v.vrid);
      const pairKey = `${v.network} ${v.vrid} ${[other?.name, name].sort().join(' ')}`;
      if (other && other.name !== name && !reported.has(pairKey)) {
        reported.add(pairKey);
        add(c, v.host, `lvs_vrrp.instances[${v.index}].virtual_router_id`,
          `virtual_router_id ${v.vrid} is used by VRRP instances ${other.name} (${other.host}) and ${name} (${v.host}) on the same network ${v.network}`,
          'give every VRRP instance on one network its own virtual_router_id (1-255)', 'lvs_vrrp');
      } else if (!other) ids.set(v.vrid, { name, host: v.host, index: v.index });
      byNet.set(v.network, ids);
    }
  }
}

/** DR/TUN real servers hold the VIP themselves: each needs the matching real server role for that VIP. */
function checkRealServerRoles(c: Ctx, byService: Map<string, { service: Service; directors: string[] }>): void {
  const roleFor = { DR: 'realserver-dr', TUN: 'realserver-tun', NAT: 'realserver-nat' } as const;
  for (const { service: s, directors } of byService.values()) {
    const wanted = roleFor[s.lb_kind];
    c.by = wanted;
    const dir = directors[0]!;
    const f = `lvs_services[${serviceIndex(c.inv, dir, s)}]`;
    s.real_servers.forEach((rs, j) => {
      if (!c.inv.hosts.has(rs.host)) return; // reported by checkReferences
      const uses = c.usages.filter((u) => u.role.role === wanted && u.hosts.includes(rs.host));
      if (s.lb_kind !== 'NAT') {
        if (!uses.some((u) => u.role.vipsFor?.(c.inv, rs.host).includes(s.vip))) {
          add(c, rs.host, `${f}.real_servers[${j}]`,
            uses.length === 0
              ? `service ${s.name} (${s.lb_kind}) uses ${rs.host} as a real server, but no play applies the ${wanted} role to ${rs.host}`
              : `service ${s.name} (${s.lb_kind}) uses ${rs.host} as a real server, but its ${wanted} role does not configure VIP ${s.vip}`,
            `apply ${wanted}() to ${rs.host} in the playbook (it takes the VIPs of the ${s.lb_kind} services listing the host), or remove the host from the service`);
        }
        return;
      }
      // NAT: replies must pass the director to be un-NATed
      if (uses.length === 0) {
        add(c, rs.host, `${f}.real_servers[${j}]`,
          `service ${s.name} (NAT) uses ${rs.host} as a real server, but no play applies realserver-nat to it: its replies would not route back through the director`,
          `apply realserverNat() to ${rs.host} (default route via the director's DIP, set lvs_nat_dip on the director or lvs_nat_gateway on ${rs.host})`);
        return;
      }
      const gw = uses.map((u) => u.role.gatewayFor?.(c.inv, rs.host)).find((g) => g !== undefined);
      if (!gw) {
        const cand = natGatewayOf(c.inv, rs.host).candidates;
        add(c, rs.host, 'lvs_nat_gateway',
          cand.length > 1
            ? `NAT real server ${rs.host}: its directors have different inner addresses (${cand.join(', ')}), which one to route through is ambiguous`
            : `NAT real server ${rs.host} has no route back through the director: no gateway is known`,
          `set lvs_nat_gateway on ${rs.host}, or lvs_nat_dip {address, interface} on the director`);
        return;
      }
      const bypassed = directors.filter((d) => !directorAddresses(c.inv, d).includes(gw));
      if (bypassed.length > 0) {
        const d = bypassed[0]!;
        add(c, rs.host, 'lvs_nat_gateway', `NAT real server ${rs.host} routes through ${gw}, which is not an address of its director${bypassed.length > 1 ? 's' : ''} ${bypassed.join(', ')} (service ${s.name}): replies would bypass the director`,
          `route through the director's inner address (lvs_nat_dip of ${d}), e.g. lvs_nat_gateway: ${hostNatDip(c.inv, d)?.address.split('/')[0] ?? 'DIP'}`, 'lvs_nat_gateway');
      }
      const nics = hostNics(c.inv, rs.host);
      if (nics.length > 0 && !nics.some((n) => sameSubnet(n.address, gw, n.prefix))) {
        add(c, rs.host, 'lvs_nat_gateway', `NAT real server ${rs.host}: gateway ${gw} is not on any of its subnets (${nics.map((n) => `${n.address}/${n.prefix}`).join(', ')})`,
          'the gateway must be on-link: the director\'s inner address on the real servers\' network');
      }
    });
  }
}

/** node-svc endpoints must be inventory hosts. */
function checkNodeSvc(c: Ctx): void {
  for (const u of c.usages.filter((x) => x.role.role === 'node-svc')) {
    for (const h of u.hosts) {
      const r = nodeSvcSchema.safeParse(c.inv.hosts.get(h)?.vars.lvs_node_svc);
      if (c.inv.hosts.get(h)?.vars.lvs_node_svc === undefined) {
        add(c, h, 'lvs_node_svc', `node-svc is applied to ${h}, which has no lvs_node_svc`, 'define lvs_node_svc {services: [...]} for the host (see docs/roles.md, "Roles")');
        continue;
      }
      if (!r.success) continue; // reported by checkVariables
      r.data.services.forEach((s, i) =>
        s.real_servers.forEach((rs, j) => {
          if (!rs.address && !c.inv.hosts.has(rs.host)) {
            add(c, h, `lvs_node_svc.services[${i}].real_servers[${j}].host`, `node-svc service ${s.name}: "${rs.host}" is not a host of the inventory`, 'use an inventory host name, or give its address', 'lvs_node_svc');
          }
        }),
      );
    }
  }
}

/** Every director role host needs its data: services and, for the DR-HA pair, VRRP. */
function checkDirectorData(c: Ctx): void {
  for (const d of directorUsages(c)) {
    if (d.services.length === 0) {
      add(c, d.host, 'lvs_services', `${d.usage.role.role} is applied to ${d.host}, but none of its lvs_services is ${(d.usage.role.lbKinds ?? []).join('/')} for this director`,
        'add the virtual services to lvs_services (e.g. in group_vars of the directors), with lb_kind and, if several directors, directors: [...]');
    }
    // real servers must resolve to an address
    for (const s of d.services) {
      const r = resolveService(c.inv, s, d.host);
      if (r.realServers.length < s.real_servers.filter((x) => x.address || c.inv.hosts.has(x.host)).length) {
        const missing = s.real_servers.filter((x) => !x.address && c.inv.hosts.has(x.host) && !r.realServers.some((y) => y.host === x.host));
        for (const m of missing) {
          add(c, m.host, 'lvs_rip', `real server ${m.host} of service ${s.name} has no address in the inventory`, 'set ansible_host, lvs_nics or lvs_rip for the host');
        }
      }
    }
  }
}

/**
 * A NAT real server needs a gateway to route back through. (Real server roles do nothing on hosts no service lists,
 * so one play can apply all of them to a `realservers` group.)
 */
function checkRealServerData(c: Ctx): void {
  const natHosts = new Set(allServices(c.inv).filter((s) => s.lb_kind === 'NAT').flatMap((s) => s.real_servers.map((r) => r.host)));
  for (const u of c.usages) {
    if (u.role.role !== 'realserver-nat') continue;
    for (const h of u.hosts) {
      if (!natHosts.has(h) || u.role.gatewayFor?.(c.inv, h)) continue;
      const cand = natGatewayOf(c.inv, h).candidates;
      add(c, h, 'lvs_nat_gateway',
        cand.length > 1
          ? `NAT real server ${h}: its directors have different inner addresses (${cand.join(', ')}), which one to route through is ambiguous`
          : `NAT real server ${h} has no route back through the director: no gateway is known`,
        `set lvs_nat_gateway on ${h}, or lvs_nat_dip {address, interface} on its director, or realserverNat({gateway})`);
    }
  }
}

/** All problems of the cluster as the playbook uses it (not yet filtered to one role). */
export function clusterProblems(inv: Inventory, usages: RoleUsage[]): Problem[] {
  const c: Ctx = { inv, usages, problems: [] };
  const hosts = new Set(usages.flatMap((u) => u.hosts));
  // director data may sit on hosts the playbook references only as real servers/peers: read those too
  for (const s of allServices(inv)) for (const rs of s.real_servers) if (inv.hosts.has(rs.host)) hosts.add(rs.host);
  checkVariables(c, hosts);
  // malformed data first: the rules below would only report its consequences (a service left out, a missing VIP)
  if (c.problems.length > 0) return dedupeProblems(c.problems);
  checkReferences(c);
  checkPortMapping(c);
  checkDrVipOwnAddress(c);
  checkVipsHeld(c);
  checkVrrp(c, new Set(usages.flatMap((u) => u.hosts)));
  checkDirectorData(c);
  checkRealServerRoles(c, directorsByService(c));
  c.by = 'realserver-nat';
  checkRealServerData(c);
  c.by = undefined;
  checkNodeSvc(c);
  return dedupeProblems(c.problems);
}

/** The problems `self` reports: those whose host it is the first LVS role for (see the module comment). */
export function validateLvs(self: LvsRole, ctx: ValidateContext): Problem[] {
  const usages = usagesWith(ctx.playbook, ctx.inventory, self, ctx.playHosts);
  const owner = (p: Problem): LvsRole | undefined => {
    const by = ruleRole.get(p);
    const onHost = p.host ? usages.filter((x) => x.hosts.includes(p.host!)) : [];
    const u = (by && onHost.find((x) => x.role.role === by)) ?? onHost[0] ?? (by && usages.find((x) => x.role.role === by)) ?? usages[0];
    return u?.role;
  };
  return cachedProblems(ctx, usages).filter((p) => owner(p) === self);
}

// every role of a playbook asks the same question about the same (immutable) inventory: compute it once
const problemCache = new WeakMap<Inventory, WeakMap<object, Problem[]>>();

function cachedProblems(ctx: ValidateContext, usages: RoleUsage[]): Problem[] {
  if (usages.some((u) => u.play < 0) || !ctx.playbook) return clusterProblems(ctx.inventory, usages);
  let byPb = problemCache.get(ctx.inventory);
  if (!byPb) problemCache.set(ctx.inventory, (byPb = new WeakMap()));
  let r = byPb.get(ctx.playbook);
  if (!r) byPb.set(ctx.playbook, (r = clusterProblems(ctx.inventory, usages)));
  return r;
}

/**
 * A weighted tracker moves the failing member's priority by |weight|: unless that exceeds the gap between the
 * MASTER's priority and the best BACKUP's, the VIP never moves (and at equal priorities the address decides).
 */
function checkTrackWeights(c: Ctx, host: string, index: number, name: string, priorities: Record<string, number>, i: VrrpInstance): void {
  const ranked = Object.entries(priorities).sort((a, b) => b[1] - a[1]);
  if (ranked.length < 2) return;
  const [[top, p1], [second, p2]] = [ranked[0]!, ranked[1]!];
  const gap = p1 - p2;
  const trackers: Array<[string, { name: string; weight?: number }[]]> = [
    ['interfaces', i.track.interfaces], ['files', i.track.files], ['scripts', i.track.scripts], ['processes', i.track.processes],
  ];
  for (const [kind, list] of trackers) {
    list.forEach((t, k) => {
      if (t.weight === undefined || t.weight === 0 || Math.abs(t.weight) > gap) return;
      add(c, host, `lvs_vrrp.instances[${index}].track.${kind}[${k}].weight`,
        `VRRP instance ${name}: tracking ${t.name} with weight ${t.weight} can never change mastership: the priority gap between ${top} (${p1}) and ${second} (${p2}) is ${gap}, and |${t.weight}| <= ${gap}`,
        `use a weight beyond the gap (e.g. ${t.weight < 0 ? -(gap + 10) : gap + 10}), or no weight (a failure puts the instance in FAULT)`, 'lvs_vrrp');
    });
  }
}
