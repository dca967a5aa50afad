/**
 * The director role behind director, director-nat and director-dr-ha (they differ in their name and default
 * `kinds`): options, the keepalived config of a director, its steps. One keepalived runs per host, so a director
 * pair that serves NAT as well as DR/TUN services uses one role with `kinds: ['NAT', 'DR', 'TUN']`.
 */
import * as z from 'zod';
import type { ExpandContext, Step } from '../../src/engine/types.ts';
import { address, file, iptablesRule, ipvs, ipvsKeepalived, sysctl } from '../../src/steps/index.ts';
import { serviceFamily, serviceMembers, servicePorts, hostIpvsSysctls, hostIpvsTimeouts, hostNatDips, hostNics, hostVrrp, resolveService, servicesOfDirector, trackScriptPath, vrrpInstancesOf } from '../../src/cluster/cluster.ts';
import { parseCidr } from '../../src/facts/netaddr.ts';
import type { LvsRole } from '../../src/cluster/registry.ts';
import { CLUSTER_CHECKS } from '../../src/cluster/rules/index.ts';
import { syncDaemonActiveActive } from '../../src/cluster/rules/checks.ts';
import { withVrrpMembers } from './vrrp-members.ts';
import { type KeepalivedConfig, renderDirectorConfig } from './render.ts';
import { HANDOVER_README, HANDOVER_README_TEXT } from '../../src/cluster/handover.ts';
import { applyDrain, type DrainEntry } from '../../src/cluster/drain.ts';
import { withDrainState } from './drained.ts';
import { ipvsSysctlsSchema, ipvsTimeoutsSchema, type LbKind, natDipSchema } from '../../src/cluster/schema.ts';
import { installSteps, ipvsModuleSteps, ipvsSysctls, keepalivedConfigFile, keepalivedHandlers, keepalivedRunning, RELOAD_KEEPALIVED, roleOptions } from './steps.ts';
import type { Inventory } from '../../src/inventory/types.ts';
import type { IpvsServiceSpec } from '../../src/steps/index.ts';
import type { Service } from '../../src/cluster/schema.ts';
import { hostPort } from '../../src/facts/netaddr.ts';

const METHOD = { NAT: 'nat', DR: 'dr', TUN: 'tun' } as const;

/** The IPVS table keepalived builds from a director's config: the reference the drift step compares with. */
export function keepalivedTable(config: KeepalivedConfig): { services: IpvsServiceSpec[]; sorry: Record<string, string> } {
  const sorry: Record<string, string> = {};
  // a virtual_server_group is one IPVS service per member, each with the group's real servers
  const members = config.services.flatMap((r) => serviceMembers(r.service).map((m) => ({ ...r, member: m })));
  const services = members.map(({ service: s, realServers, sorry: sr, member }): IpvsServiceSpec => {
    const family = serviceFamily(s);
    // the ids of the ipvs fact (facts/ipvs.ts serviceId): 'tcp:198.18.0.100:80', 'fwmark:4:1'
    if (sr) sorry[s.fwmark !== undefined ? `fwmark:${family}:${s.fwmark}` : `${s.protocol.toLowerCase()}:${hostPort(member.vip, member.port)}`] = hostPort(sr.address, sr.port);
    return {
      // a fwmark service is named by its mark; its real servers have port 0 (resolveService)
      ...(s.fwmark !== undefined ? { fwmark: s.fwmark, family } : { protocol: s.protocol.toLowerCase() as 'tcp' | 'udp', address: member.vip, port: member.port }),
      scheduler: s.scheduler,
      ...(s.persistence_timeout ? { persistent: s.persistence_timeout } : {}),
      // keepalived sets these from the same keywords: the drift step must expect them, or it would undo them
      ...(s.scheduler_flags.length ? { schedFlags: s.scheduler_flags } : {}),
      ...(s.ops ? { onePacket: true } : {}),
      // DR/TUN cannot map ports: the role's validation refuses such a server with its own message (file:line, fix);
      // building this step must not pre-empt that with the step's generic one, so the impossible entry is left out
      realServers: realServers
        .filter((r) => s.lb_kind === 'NAT' || s.fwmark !== undefined || r.port === member.port)
        .map((r) => ({ address: r.address, port: r.port, method: METHOD[s.lb_kind], weight: r.weight })),
    };
  });
  return { services, sorry };
}

export const directorShape = {
  /** lb_kinds of the services this director renders (director-nat: NAT; director-dr-ha: DR, TUN) */
  kinds: z.array(z.enum(['NAT', 'DR', 'TUN'], { error: 'kinds are NAT, DR or TUN' })).min(1).optional(),
  /** NAT inner address the real servers route through; default: the host's lvs_nat_dip (one per family) */
  dip: natDipSchema.optional(),
  /** serve only these services (names in lvs_services); default: every service of the role's lb_kinds for the host */
  services: z.array(z.string().min(1)).min(1).optional(),
  configPath: z.string().regex(/^\/\S+$/, { error: 'must be an absolute path' }).default('/etc/keepalived/keepalived.conf'),
  /** keepalived router_id; default: the inventory host name */
  routerId: z.string().regex(/^[A-Za-z0-9_.-]{1,63}$/).optional(),
  /** install keepalived and ipvsadm with the package manager (default true; already installed = no change) */
  install: z.boolean().default(true),
  /** more kernel modules to load and persist (the schedulers in use are added automatically) */
  modules: z.array(z.string().regex(/^[A-Za-z0-9_-]+$/)).default([]),
  /** `ipvsadm --set` timeouts; default: the host's lvs_ipvs_timeouts (unset: left as they are) */
  ipvsTimeouts: ipvsTimeoutsSchema.optional(),
  /** `net.ipv4.vs.*` sysctls over the defaults (IPVS_DIRECTOR_SYSCTLS); set a key to 0 to keep the kernel's behaviour;
   *  default: the host's lvs_ipvs_sysctls */
  ipvsSysctls: ipvsSysctlsSchema.optional(),
};

export type DirectorOptions = {
  kinds?: LbKind[];
  dip?: { address: string; interface: string };
  services?: string[];
  configPath?: string;
  routerId?: string;
  install?: boolean;
  modules?: string[];
  ipvsTimeouts?: { tcp: number; tcpfin: number; udp: number };
  ipvsSysctls?: Record<string, number>;
};

/** The keepalived.conf data of a director host (pure). */
export function directorConfig(inv: Inventory, host: string, kinds: readonly LbKind[], o: { services?: string[]; routerId?: string }): KeepalivedConfig {
  const vrrp = hostVrrp(inv, host);
  const instances = vrrpInstancesOf(inv, host, vrrp);
  const mine = new Set(instances.map((i) => i.instance.name));
  return {
    host,
    routerId: o.routerId ?? host,
    ...(vrrp?.lvs_sync_daemon && mine.has(vrrp.lvs_sync_daemon.instance) ? { syncDaemon: vrrp.lvs_sync_daemon } : {}),
    ...(vrrp?.max_auto_priority !== undefined ? { maxAutoPriority: vrrp.max_auto_priority } : {}),
    syncGroups: (vrrp?.sync_groups ?? []).filter((g) => g.instances.every((n) => mine.has(n))),
    instances,
    services: servicesOfDirector(inv, host, kinds, o.services).map((s) => resolveService(inv, s, host)),
  };
}

function drainedConfig(config: KeepalivedConfig, drained: readonly DrainEntry[]): KeepalivedConfig {
  return drained.length ? { ...config, services: config.services.map((s) => applyDrain(s, drained)) } : config;
}

/** Steps of a director: packages, IPVS modules, NAT forwarding and DIP (if it serves NAT), timeouts, keepalived. */
export function directorSteps(
  role: string,
  kinds: readonly LbKind[],
  o: z.output<z.ZodObject<typeof directorShape>>,
  ctx: ExpandContext,
): Step[] {
  const inv = ctx.inventory;
  const host = ctx.host.name;
  const config = directorConfig(inv, host, kinds, o);
  const schedulers = config.services.map((s) => s.service.scheduler);
  const timeouts = o.ipvsTimeouts ?? hostIpvsTimeouts(inv, host);
  const nat: Step[] = [];
  // NAT: requests and replies both pass the director
  const forwarding: Record<string, number> = kinds.includes('NAT') ? { 'net.ipv4.ip_forward': 1 } : {};
  // an IPv6 NAT service's replies are routed by the IPv6 stack: it forwards only with its own switch on
  if (config.services.some((s) => s.service.lb_kind === 'NAT' && serviceFamily(s.service) === 6)) forwarding['net.ipv6.conf.all.forwarding'] = 1;
  if (kinds.includes('NAT')) {
    // one DIP per family on a dual-stack NAT director
    for (const dip of o.dip ? [o.dip] : hostNatDips(inv, host)) {
      // a DIP that is a VRRP VIP follows the active director (keepalived holds it); otherwise it is a plain address
      const c = parseCidr(dip.address)!;
      const asVip = config.instances.some((i) => i.vips.some((v) => v.address === c.address));
      const own = hostNics(inv, host).some((n) => n.address === c.address);
      if (!asVip && !own) nat.push(address(dip.interface, `${c.address}/${c.prefix}`));
    }
  }
  const marked = config.services.filter((s) => s.service.fwmark !== undefined);
  return [
    ...(o.install ? installSteps(['keepalived', 'ipvsadm', ...(marked.length ? ['iptables'] : [])]) : []),
    ...ipvsModuleSteps(schedulers, o.modules),
    sysctl(`90-lvs-${role}`, { ...forwarding, ...ipvsSysctls(o.ipvsSysctls ?? hostIpvsSysctls(inv, host)) }),
    ...nat,
    // fwmark services: the packets are marked before keepalived's virtual_server fwmark N can balance them
    ...marked.map((s) => fwmarkRule(s.service)),
    // keepalived owns the IPVS table of a director; only the timeouts are set here (prune: false keeps its services)
    ...(timeouts ? [ipvs({ services: [], prune: false, timeouts, name: `ipvs timeouts tcp ${timeouts.tcp} tcpfin ${timeouts.tcpfin} udp ${timeouts.udp}` })] : []),
    ...trackScriptFiles(config),
    ...(config.instances.length ? [file(HANDOVER_README, { content: HANDOVER_README_TEXT, mode: '0644', owner: 'root', group: 'root' })] : []),
    // a real server drained by `lvsplay drain` is rendered at weight 0 (the director's drain state file, a fact)
    withDrainState((d) => withWarnings(keepalivedConfigWithMembers(o.configPath, renderDirectorConfig(role, drainedConfig(config, d)), config), syncDaemonActiveActive(inv, host, hostVrrp(inv, host)))),
    ...keepalivedRunning(),
    // what keepalived itself would not repair (a weight set behind its back, a stray entry): from the live table
    withDrainState((d) => ipvsKeepalived({ ...keepalivedTable(drainedConfig(config, d)), configPath: o.configPath })),
  ];
}

/**
 * The mark of a fwmark service: packets to its VIP on its ports get the mark in mangle PREROUTING, before IPVS sees
 * them (IPVS matches a fwmark service by the packet's mark). One rule per service, found again by its comment.
 */
export function fwmarkRule(s: Service): Step {
  const family = serviceFamily(s);
  const ports = servicePorts(s);
  const match = ports.length > 1 ? ['-m', 'multiport', '--dports', ports.join(',')] : ['--dport', String(ports[0])];
  return iptablesRule('mangle', 'PREROUTING', ['-d', `${s.vip}/${family === 6 ? 128 : 32}`, '-p', s.protocol.toLowerCase(), ...match, '-j', 'MARK', '--set-mark', String(s.fwmark)], {
    family,
    comment: `lvsplay fwmark ${s.fwmark}: service ${s.name}`,
  });
}

/** The track_script bodies, root-owned and 0700 (enable_script_security runs only such scripts), before the config. */
function trackScriptFiles(config: KeepalivedConfig): Step[] {
  const scripts = new Map(config.instances.flatMap((i) => i.instance.track.scripts.map((t) => [t.name, t] as const)));
  return [...scripts.values()].map((t) =>
    file(trackScriptPath(t.name), { content: `#!/bin/sh\n# managed by lvsplay: keepalived track_script ${t.name} (exit 0 = healthy)\n${t.script.trimEnd()}\n`, mode: '0700', owner: 'root', group: 'root', notify: RELOAD_KEEPALIVED }),
  );
}

/** A valid plan that still deserves the operator's attention (the sync daemon rule): shown on every plan of the step. */
function withWarnings(step: Step, warnings: string[]): Step {
  if (warnings.length === 0) return step;
  return { ...step, plan: (ctx) => { const p = step.plan(ctx); return { ...p, warnings: [...(p.warnings ?? []), ...warnings] }; } };
}

function keepalivedConfigWithMembers(path: string, content: string, config: KeepalivedConfig): Step {
  return withVrrpMembers(keepalivedConfigFile(path, content), path, content, config.instances);
}

/** A director role: `defaultKinds` unless the options say otherwise. */
export function makeDirectorRole(role: string, defaultKinds: readonly LbKind[], options: unknown): LvsRole {
  const o = roleOptions(z.strictObject(directorShape), options, role);
  const kinds = o.kinds ? [...new Set(o.kinds)] : [...defaultKinds];
  return {
    role,
    lbKinds: kinds,
    ...(o.services ? { serviceNames: o.services } : {}),
    // malformed inventory data is left out of the steps and reported by the cluster check (run before any host is touched)
    steps: (ctx: ExpandContext) => directorSteps(role, kinds, o, ctx),
    checks: CLUSTER_CHECKS,
    handlers: keepalivedHandlers(),
  };
}
