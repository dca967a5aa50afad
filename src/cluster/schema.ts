/**
 * The cluster data model: what operators write in the inventory (YAML), as strict zod schemas. A typo in a key,
 * an unknown scheduler or lb_kind, a malformed address, prefix or port is a Problem naming host and field.
 *
 * Inventory variables (docs/roles.md has an example of each):
 *   lvs_services   virtual services served by the directors (NAT, DR, TUN)
 *   lvs_vrrp       keepalived VRRP instances, sync groups, lvs_sync_daemon
 *   lvs_node_svc   node-svc: kube-proxy-style services on a plain host
 *   lvs_nics       a host's NICs [{name, address: CIDR}] (the lab's `lab_nics` is read too)
 *   lvs_rip        a real server's address for the services (default: see realServerAddress)
 *   lvs_nat_dip    director-nat: the inner address {address: CIDR, interface}, or a list of them, one per family
 *   lvs_nat_gateway realserver-nat: the director address to route through (a list: one per family)
 *   lvs_ipvs_timeouts {tcp, tcpfin, udp} for `ipvsadm --set`
 */
import * as z from 'zod';
import { type Family, parseCidr, parseCidrWithPrefix } from '../facts/netaddr.ts';
// one list of schedulers for the inventory and the ipvs step
import { SCHEDULERS, type Scheduler } from '../steps/ipvs.ts';
import { defaultHealthCheck, healthCheckSchema, ipAddress } from './health-checks.ts';
import { connReuseModeProblem, serviceOptionsShape, syncDaemonOptionsShape, vrrpGlobalOptionsShape, vrrpInstanceOptionsShape } from './keepalived-options.ts';

export const LB_KINDS = ['NAT', 'DR', 'TUN'] as const;
export type LbKind = (typeof LB_KINDS)[number];

/** An IPv4 or IPv6 address (a service's family is its VIP's: see rules/families.ts). */
export { ipAddress };

/** An address with an optional prefix (`198.18.0.100` = /32, `fd00::100` = /128). */
export const cidr = z.string({ error: 'must be an address like 198.18.0.100/32' }).refine((s) => parseCidr(s.trim()) !== undefined, {
  error: (i) => `${JSON.stringify(i.input)} is not an address with a prefix 0-32 (IPv4) or 0-128 (IPv6) (write it like 198.18.0.100/32 or fd00::100/128)`,
});

/** A CIDR that must carry its prefix (addresses of NICs). */
export const cidrWithPrefix = z.string({ error: 'must be a CIDR like 198.18.0.11/24' }).refine((s) => parseCidrWithPrefix(s) !== undefined, {
  error: (i) => `${JSON.stringify(i.input)} is not a CIDR with a prefix 0-32 (IPv4) or 0-128 (IPv6) (write it like 198.18.0.11/24 or fd00:18::11/64)`,
});

export const port = z
  .number({ error: (i) => `${JSON.stringify(i.input)} is not a port number (an integer 1-65535)` })
  .int({ error: 'a port is an integer 1-65535' })
  .min(1, { error: 'a port is an integer 1-65535' })
  .max(65535, { error: 'a port is an integer 1-65535' });

export const ifname = z.string().regex(/^[A-Za-z0-9_.:-]{1,15}$/, { error: 'is not an interface name (at most 15 letters, digits, _ . : -)' });
/** A command line for keepalived (notify, MISC_CHECK): an absolute program path then arguments; no double quotes. */
const commandLine = z.string().regex(/^\/[^"\n\\]*$/, { error: 'must be a command starting with an absolute path, without " or newlines' });
const objName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, { error: 'must be a name of letters, digits, _ . - (at most 63)' });

export const scheduler = z.string().refine((s) => (SCHEDULERS as readonly string[]).includes(s), {
  error: (i) => `unknown scheduler ${JSON.stringify(i.input)} (known: ${SCHEDULERS.join(', ')})`,
});
export const lbKind = z.string().refine((s) => (LB_KINDS as readonly string[]).includes(s), {
  error: (i) => `unknown lb_kind ${JSON.stringify(i.input)} (use NAT, DR or TUN)`,
});

const seconds = z.number().int().min(1).max(86400);

export { healthCheckSchema, type HealthCheck } from './health-checks.ts';

export const realServerSchema = z.strictObject({
  /** inventory host name: the address comes from the inventory */
  host: z.string().min(1),
  /** default: the service's port */
  port: port.optional(),
  weight: z.number().int().min(0).max(65535).default(1),
  /** override of the address taken from the inventory */
  address: ipAddress.optional(),
});

export const sorryServerSchema = z
  .strictObject({
    host: z.string().min(1).optional(),
    address: ipAddress.optional(),
    port: port.optional(),
    /** keep the sorry server in the table with weight 0 while the real servers serve (sorry_server_inhibit) */
    inhibit: z.boolean().default(false),
  })
  .refine((s) => (s.host === undefined) !== (s.address === undefined), { error: 'sorry_server needs exactly one of host or address' });

/** A firewall mark (iptables `MARK --set-mark`, IPVS `-f`): 1 to 2^32-1. */
export const fwmark = z
  .number({ error: (i) => `${JSON.stringify(i.input)} is not a firewall mark (an integer 1-4294967295)` })
  .int({ error: 'a firewall mark is an integer 1-4294967295' })
  .min(1, { error: 'a firewall mark is an integer 1-4294967295 (0 means unmarked)' })
  .max(0xffffffff, { error: 'a firewall mark is an integer 1-4294967295' });

/** A member of a virtual_server_group: a VIP and its port (default: the service's `port`). */
export const groupMemberSchema = z.strictObject({ vip: ipAddress, port: port.optional() });

const serviceObject = z.strictObject({
  name: objName,
  /** the virtual address; a virtual_server_group service lists its members in `virtual_server_group` instead */
  vip: ipAddress.optional(),
  /**
   * keepalived's virtual_server_group: several VIP:port pairs that share one real-server pool and one set of health
   * checks (`virtual_server group NAME`). IPVS keeps one service per member (each balances on its own, persistence
   * included); keepalived adds and removes a real server in all of them at once.
   */
  virtual_server_group: z.array(groupMemberSchema).min(2, { error: 'a virtual_server_group lists at least two members ({vip, port}); one member is a plain service (vip, port)' }).optional(),
  /** the virtual port; a fwmark service has `ports` instead */
  port: port.optional(),
  /**
   * A firewall-mark service: the directors mark packets to `vip` on every port of `ports` with this mark (iptables
   * mangle PREROUTING, written by the director role) and keepalived balances the mark (`virtual_server fwmark N`):
   * the ports share one real-server pool and one persistence (a client's 80 and 443 reach the same server).
   */
  fwmark: fwmark.optional(),
  /** the ports of a fwmark service (the first is the one health checks connect to, unless connect_port says otherwise) */
  ports: z.array(port).min(1, { error: 'list at least one port' }).optional(),
  protocol: z.enum(['TCP', 'UDP'], { error: 'protocol must be TCP or UDP' }).default('TCP'),
  lb_kind: lbKind,
  scheduler: scheduler.default('rr'),
  persistence_timeout: seconds.optional(),
  delay_loop: seconds.default(5),
  /** host or group names of the directors serving it (default: every director whose role handles its lb_kind) */
  directors: z.array(z.string().min(1)).optional(),
  /** default: TCP_CHECK for TCP, UDP_CHECK for UDP (see defaultHealthCheck) */
  health_check: healthCheckSchema.optional(),
  sorry_server: sorryServerSchema.optional(),
  real_servers: z.array(realServerSchema).min(1, { error: 'a service needs at least one real server' }),
  ...serviceOptionsShape,
});
/** A service without health_check gets the default check of its protocol. */
const withDefaultCheck = <T extends { protocol: 'TCP' | 'UDP'; health_check?: z.output<typeof healthCheckSchema> }>(s: T) =>
  ({ ...s, health_check: s.health_check ?? defaultHealthCheck(s.protocol) });

type GroupMember = z.output<typeof groupMemberSchema>;

/** `vip`, or `virtual_server_group` members (each with a port, its own or the service's), each member once. */
function checkGroup(s: { vip?: string; port?: number; fwmark?: number; ports?: number[]; virtual_server_group?: GroupMember[] }, ctx: z.RefinementCtx): boolean {
  const g = s.virtual_server_group;
  if (!g) {
    if (s.vip === undefined) ctx.addIssue({ code: 'custom', path: ['vip'], message: 'a service needs a vip (or virtual_server_group: [{vip, port}, ...] for several VIPs sharing one pool)' });
    return false;
  }
  if (s.vip !== undefined) ctx.addIssue({ code: 'custom', path: ['vip'], message: 'a virtual_server_group service lists its VIPs in virtual_server_group, not vip (move ' + s.vip + ' into the list)' });
  if (s.fwmark !== undefined || s.ports !== undefined) ctx.addIssue({ code: 'custom', path: ['virtual_server_group'], message: 'a virtual_server_group takes VIP:port members, not fwmark/ports (a fwmark service already spans several ports: give it one vip)' });
  g.forEach((m, i) => {
    if (m.port === undefined && s.port === undefined) ctx.addIssue({ code: 'custom', path: ['virtual_server_group', i, 'port'], message: `member ${m.vip} has no port: give it port: N, or give the service a port all members share` });
  });
  const keys = g.map((m) => `${m.vip} ${m.port ?? s.port}`);
  const dup = keys.findIndex((k, i) => keys.indexOf(k) !== i);
  if (dup >= 0) ctx.addIssue({ code: 'custom', path: ['virtual_server_group', dup], message: `member ${g[dup]!.vip} port ${g[dup]!.port ?? s.port} is listed twice` });
  return true;
}

/** `port`, or (a fwmark service) `fwmark` with `ports`: one of the two shapes, each port once. */
function checkPorts(s: { vip?: string; port?: number; fwmark?: number; ports?: number[]; virtual_server_group?: GroupMember[] }, ctx: z.RefinementCtx): void {
  if (checkGroup(s, ctx)) return;
  if (s.fwmark === undefined) {
    if (s.ports !== undefined) ctx.addIssue({ code: 'custom', path: ['ports'], message: 'ports (several ports, one pool) needs a firewall mark: add fwmark: N (a number no other service uses), or give one port' });
    else if (s.port === undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: 'a service needs a port (or fwmark: N with ports: [80, 443] for several ports sharing one pool)' });
    return;
  }
  if (s.port !== undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: 'a fwmark service lists its ports in ports: [...], not port (write ports: [' + s.port + '])' });
  if (s.ports === undefined) ctx.addIssue({ code: 'custom', path: ['ports'], message: 'a fwmark service needs the ports it marks: ports: [80, 443]' });
  const dup = (s.ports ?? []).filter((p, i, a) => a.indexOf(p) !== i);
  if (dup.length) ctx.addIssue({ code: 'custom', path: ['ports'], message: `port ${dup[0]} is listed twice in ports` });
}
/** `port` of a fwmark service: its first port (health checks, probes, reports). */
const withPort = <T extends { port?: number; ports?: number[] }>(s: T) => ({ ...s, port: (s.port ?? s.ports?.[0])! });
/**
 * A virtual_server_group service: its members with their ports, and `vip`/`port` of its first member (the family,
 * the VRRP instance and the health checks' port are the first member's; rules/ check the others against them).
 */
const withGroup = <T extends { vip?: string; port?: number; virtual_server_group?: GroupMember[] }>(s: T) => {
  const g = s.virtual_server_group?.map((m) => ({ vip: m.vip, port: (m.port ?? s.port)! }));
  const { virtual_server_group: _, ...rest } = s;
  return { ...rest, vip: (s.vip ?? g?.[0]?.vip)!, ...(g ? { port: s.port ?? g[0]!.port, virtual_server_group: g } : {}) } as Omit<T, 'vip' | 'virtual_server_group'> & { vip: string; virtual_server_group?: Array<{ vip: string; port: number }> };
};

export const serviceSchema = serviceObject.superRefine(checkPorts).transform((s) => withPort(withDefaultCheck(withGroup(s))));
export type Service = z.output<typeof serviceSchema> & { lb_kind: LbKind; scheduler: Scheduler };

/** A VRRP VIP: `ADDRESS[/PREFIX] [dev IFACE]` → {address, prefix, family, dev?} (a bare address: /32 or /128). */
export function parseVrrpVip(s: string): { address: string; prefix: number; family: Family; dev?: string } | undefined {
  const m = /^(\S+)(?:\s+dev\s+([A-Za-z0-9_.:-]{1,15}))?$/.exec(s.trim());
  const c = m ? parseCidr(m[1]!) : undefined;
  return c ? { ...c, ...(m![2] ? { dev: m![2] } : {}) } : undefined;
}
const vrrpVip = z.string({ error: 'must be an address like 198.18.0.100/32' }).refine((s) => parseVrrpVip(s) !== undefined, {
  error: (i) => `${JSON.stringify(i.input)} is not a VIP: write ADDRESS[/PREFIX] [dev IFACE], like 198.18.0.100/32, 198.18.1.1/24 dev eth2 or fd00::100/128`,
});

/** How much a tracker adds to (positive) or takes from (negative) the priority while it fails; none: FAULT state. */
const trackWeight = z.number().int().min(-253, { error: 'a tracking weight is -253..253' }).max(253, { error: 'a tracking weight is -253..253' });

/**
 * keepalived tracking of one VRRP instance. A tracker without a weight puts the instance in FAULT when it fails
 * (the VIPs go to the backup); with a weight it moves the priority by that much, which must exceed the priority gap
 * between the members to change mastership (validated).
 */
export const vrrpTrackSchema = z.strictObject({
  /** track the interfaces that carry the instance's VIPs (a NAT director's DIP interface), besides `interface` */
  vip_interfaces: z.boolean().default(true),
  interfaces: z.array(z.strictObject({ name: ifname, weight: trackWeight.optional() })).default([]),
  /** a file holding a number: the priority moves by number × weight (weight 0 or none: non-zero = FAULT) */
  files: z.array(z.strictObject({ name: objName, path: z.string().regex(/^\/[^"\s]+$/, { error: 'must be an absolute path without spaces or "' }), weight: trackWeight.optional() })).default([]),
  /** a check the role writes as a root-owned script (/etc/keepalived/scripts/NAME.sh, 0700) and keepalived runs as root */
  scripts: z
    .array(
      z.strictObject({
        name: objName,
        /** the script's body (sh); exit 0 = healthy */
        script: z.string().min(1, { error: 'the script body is empty' }),
        interval: z.number().int().min(1).max(3600).default(2),
        timeout: z.number().int().min(1).max(3600).optional(),
        weight: trackWeight.optional(),
        fall: z.number().int().min(1).max(255).default(2),
        rise: z.number().int().min(1).max(255).default(2),
      }),
    )
    .default([]),
  /** a process that must run (by name as in /proc/PID/comm, or its full path) */
  processes: z.array(z.strictObject({ name: objName, process: z.string().regex(/^[A-Za-z0-9_./-]{1,255}$/, { error: 'is a process name or absolute path' }), weight: trackWeight.optional() })).default([]),
});
export type VrrpTrack = z.output<typeof vrrpTrackSchema>;

export const vrrpInstanceSchema = z.strictObject({
  name: objName,
  interface: ifname,
  virtual_router_id: z.number().int().min(1, { error: 'virtual_router_id is 1-255' }).max(255, { error: 'virtual_router_id is 1-255' }),
  /** inventory host name → priority (1-254); the highest is MASTER */
  priorities: z
    .record(z.string(), z.number().int().min(1, { error: 'a priority is 1-254' }).max(254, { error: 'a priority is 1-254' }))
    .refine((r) => Object.keys(r).length >= 1, { error: 'name at least one director' }),
  /** `198.18.0.100` (= /32), `198.18.1.1/24`, `198.18.1.1/24 dev eth2` (default device: the instance's interface), `fd00::100`
   * (= /128); one instance holds one address family (rules/families.ts) */
  vips: z.array(vrrpVip).min(1, { error: 'an instance needs at least one VIP' }),
  /** keepalived PASS authentication: at most 8 characters are used */
  auth_pass: z.string().regex(/^[A-Za-z0-9_.:@+-]{1,8}$/, { error: 'auth_pass is 1-8 letters, digits or _ . : @ + -' }).optional(),
  advert_int: z.number().int().min(1).max(255).default(1),
  /** unicast VRRP to the other members' addresses on `interface` instead of multicast */
  unicast: z.boolean().default(false),
  /** both start BACKUP, the better priority does not take over from a running master */
  nopreempt: z.boolean().default(false),
  notify: z
    .strictObject({ master: commandLine.optional(), backup: commandLine.optional(), fault: commandLine.optional(), stop: commandLine.optional() })
    .optional(),
  track: vrrpTrackSchema.default({ vip_interfaces: true, interfaces: [], files: [], scripts: [], processes: [] }),
  ...vrrpInstanceOptionsShape,
});
export type VrrpInstance = z.output<typeof vrrpInstanceSchema>;

export const vrrpSchema = z.strictObject({
  instances: z.array(vrrpInstanceSchema).default([]),
  sync_groups: z
    .array(z.strictObject({ name: objName, instances: z.array(objName).min(2, { error: 'a sync group needs at least two instances' }) }))
    .default([]),
  /** connection sync between the directors (IPVS sync daemon), bound to one VRRP instance's state */
  lvs_sync_daemon: z.strictObject({ interface: ifname, instance: objName, ...syncDaemonOptionsShape }).optional(),
  ...vrrpGlobalOptionsShape,
});
export type Vrrp = z.output<typeof vrrpSchema>;

export const nodeServiceSchema = serviceObject.omit({ lb_kind: true, directors: true, sorry_server: true, port: true, fwmark: true, ports: true, vip: true, virtual_server_group: true }).extend({
  vip: ipAddress,
  port,
  lb_kind: z.literal('NAT', { error: 'node-svc services are NAT (port mapping through the node)' }).default('NAT'),
}).transform(withDefaultCheck);

export const nodeSvcSchema = z.strictObject({
  /** always-up dummy device holding the service IPs (kube-proxy: kube-ipvs0) */
  device: ifname.default('lvs-svc0'),
  ipset: z.string().regex(/^[A-Za-z0-9_.-]{1,31}$/).default('LVS-CLUSTER-IP'),
  chains: z
    .strictObject({
      services: z.string().regex(/^[A-Za-z0-9_-]{1,28}$/).default('LVS-SERVICES'),
      mark_masq: z.string().regex(/^[A-Za-z0-9_-]{1,28}$/).default('LVS-MARK-MASQ'),
      postrouting: z.string().regex(/^[A-Za-z0-9_-]{1,28}$/).default('LVS-POSTROUTING'),
    })
    .default({ services: 'LVS-SERVICES', mark_masq: 'LVS-MARK-MASQ', postrouting: 'LVS-POSTROUTING' }),
  /** fwmark bit marking packets to masquerade */
  mark: z.string().regex(/^0x[0-9a-fA-F]{1,8}$/, { error: 'mark is a hex bit such as 0x2000' }).default('0x2000'),
  services: z.array(nodeServiceSchema).min(1, { error: 'lvs_node_svc needs at least one service' }),
});
export type NodeSvc = z.output<typeof nodeSvcSchema>;
export type NodeService = NodeSvc['services'][number];

export const nicsSchema = z.array(
  z.looseObject({
    name: ifname,
    address: cidrWithPrefix.optional(),
    addresses: z.array(cidrWithPrefix).optional(),
  }),
);

export const natDipSchema = z.strictObject({ address: cidrWithPrefix, interface: ifname });
export type NatDip = z.output<typeof natDipSchema>;

/** Address families of a list of addresses (or CIDRs) named more than once. */
function repeatedFamilies(addresses: string[]): Family[] {
  const fams = addresses.map((a) => parseCidr(a.trim())?.family);
  return ([4, 6] as const).filter((f) => fams.filter((x) => x === f).length > 1);
}
const onePerFamily = (what: string, example: string) => (list: string[], ctx: z.RefinementCtx) => {
  for (const f of repeatedFamilies(list)) {
    ctx.addIssue({ code: 'custom', message: `${what} lists more than one IPv${f} address (${list.join(', ')}): one per address family (e.g. ${example})` });
  }
};

/** `lvs_nat_dip`: one inner address, or (a dual-stack NAT director) a list with at most one per family. */
export const natDipsSchema = z
  .union([natDipSchema.transform((d) => [d]), z.array(natDipSchema).min(1, { error: 'lvs_nat_dip needs at least one address' })])
  .superRefine((l, ctx) => onePerFamily('lvs_nat_dip', '[{address: 198.18.1.1/24, interface: eth2}, {address: fd00:18:1::1/64, interface: eth2}]')(l.map((d) => d.address), ctx));

/** `lvs_nat_gateway`: the director address to route through, or a list with at most one per family. */
export const natGatewaysSchema = z
  .union([ipAddress.transform((a) => [a]), z.array(ipAddress).min(1, { error: 'lvs_nat_gateway needs at least one address' })])
  .superRefine(onePerFamily('lvs_nat_gateway', '[198.18.1.1, fd00:18:1::1]'));

export const ipvsTimeoutsSchema = z.strictObject({
  tcp: z.number().int().min(1).max(86400 * 7),
  tcpfin: z.number().int().min(1).max(86400),
  udp: z.number().int().min(1).max(86400),
});
export type IpvsTimeouts = z.output<typeof ipvsTimeoutsSchema>;
export const ipvsSysctlsSchema = z.record(z.string(), z.number().int().min(0)).superRefine((r, ctx) => {
  for (const k of Object.keys(r)) {
    if (!/^net\.ipv4\.vs\.[a-z0-9_]+$/.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: `${k} is not an IPVS sysctl: keys are net.ipv4.vs.* (e.g. net.ipv4.vs.expire_nodest_conn)` });
    const bad = connReuseModeProblem(k, r[k]!);
    if (bad) ctx.addIssue({ code: 'custom', path: [k], message: bad });
  }
});
