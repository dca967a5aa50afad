import * as z from 'zod';
import { ValidationError } from '../errors.ts';
import type { Change, Step, StepOptions } from '../engine/types.ts';
import { fileFact } from '../facts/file.ts';
import { osFact } from '../facts/host.ts';
import { ipvsFact, parseIpvsSave, serviceId, type IpvsRealServer, type IpvsService } from '../facts/ipvs.ts';
import { checkerOf, describeChecker, keepalivedDumpFact } from '../facts/keepalived-dump.ts';
import { canonicalIp, ipFamily, hostPort } from '../facts/netaddr.ts';
import { sh } from '../shell.ts';
import { atomicWriteScript } from './atomic-write.ts';
import { absolutePath, commonShape, makeStep, parseOptions, PlanError } from './common.ts';

/**
 * The IPVS schedulers, each the kernel module ip_vs_NAME: ipvsadm(8) `-s` and keepalived.conf(5) `lvs_sched`/`lb_algo`
 * (rr|wrr|lc|wlc|lblc|sh|mh|dh|fo|ovf|lblcr|sed|nq|twos). fo and ovf need Linux 3.18/4.3, mh 4.18, twos 5.12.
 */
export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'] as const;
export type Scheduler = (typeof SCHEDULERS)[number];

const ip = z.string().refine((a) => canonicalIp(a) !== undefined, 'must be an IP address');
const port = z.number().int().min(0).max(65535);

const realServerSchema = z.strictObject({
  address: ip,
  /** default: the service's port (fwmark services: 0) */
  port: port.optional(),
  method: z.enum(['nat', 'dr', 'tun']),
  weight: z.number().int().min(0).max(65535).optional(),
});

const serviceSchema = z
  .strictObject({
    protocol: z.enum(['tcp', 'udp', 'sctp']).optional(),
    address: ip.optional(),
    port: port.optional(),
    fwmark: z.number().int().min(1).max(0xffffffff).optional(),
    /** fwmark services only: 6 for IPv6 (default 4) */
    family: z.union([z.literal(4), z.literal(6)]).optional(),
    scheduler: z.enum(SCHEDULERS).optional(),
    /** persistence timeout in seconds */
    persistent: z.number().int().min(1).optional(),
    /** persistence granularity: dotted mask for IPv4 ('255.255.255.0'), prefix length for IPv6 */
    netmask: z.string().optional(),
    schedFlags: z.array(z.string().regex(/^[a-z0-9-]+$/)).optional(),
    onePacket: z.boolean().optional(),
    realServers: z.array(realServerSchema),
  })
  .refine((s) => (s.fwmark !== undefined) !== (s.address !== undefined), { message: 'give either address+port (+protocol) or fwmark', path: ['address'] })
  .refine((s) => s.fwmark !== undefined || (s.port !== undefined && s.port > 0), { message: 'a port (1-65535) is required with address', path: ['port'] })
  .refine((s) => s.netmask === undefined || s.persistent !== undefined, { message: 'netmask only applies with persistent', path: ['netmask'] });

const schema = z.strictObject({
  ...commonShape,
  services: z.array(serviceSchema),
  /** `ipvsadm --set`: connection timeouts in seconds (unset ones stay as they are) */
  timeouts: z.strictObject({ tcp: z.number().int().min(1).optional(), tcpfin: z.number().int().min(1).optional(), udp: z.number().int().min(1).optional() }).optional(),
  /** remove virtual services that are not listed (default true: the table converges exactly) */
  prune: z.boolean().optional(),
  /** save the table (`ipvsadm-save -n`) where the distribution restores it at boot (true), or to this path */
  persist: z.union([z.boolean(), absolutePath]).optional(),
});

export type IpvsOptions = z.input<typeof schema> & StepOptions;
export type IpvsServiceSpec = z.input<typeof serviceSchema>;

/** The ipvsadm words naming a service: `-t 10.0.0.1:80`, `-u [fd00::1]:53`, `-f 7 -6`. */
function svcArgs(s: IpvsService): string[] {
  if (s.protocol === 'fwmark') return ['-f', String(s.fwmark), ...(s.family === 6 ? ['-6'] : [])];
  const flag = s.protocol === 'tcp' ? '-t' : s.protocol === 'udp' ? '-u' : '--sctp-service';
  return [flag, hostPort(s.address!, s.port!)];
}

/** The ipvsadm words of a service's options (scheduler, persistence …). */
function svcOptions(s: IpvsService): string[] {
  return [
    '-s', s.scheduler,
    ...(s.persistent !== undefined ? ['-p', String(s.persistent)] : []),
    ...(s.netmask !== undefined ? ['-M', s.netmask] : []),
    ...(s.schedFlags.length ? ['-b', s.schedFlags.join(',')] : []),
    ...(s.onePacket ? ['-o'] : []),
  ];
}

const METHOD_FLAG = { nat: '-m', dr: '-g', tun: '-i' } as const;
const rsAddr = (r: IpvsRealServer) => hostPort(r.address, r.port);
/** Address for ipvsadm -r: port 0 (fwmark services) is left out, as ipvsadm expects there. */
const rsTarget = (r: IpvsRealServer) => (r.port === 0 ? (r.address.includes(':') ? `[${r.address}]` : r.address) : rsAddr(r));
const rsArgs = (r: IpvsRealServer) => ['-r', rsTarget(r), METHOD_FLAG[r.method], '-w', String(r.weight)];

function describe(s: IpvsService): string {
  return s.protocol === 'fwmark' ? `fwmark ${s.fwmark}${s.family === 6 ? ' (IPv6)' : ''}` : `${s.protocol} ${hostPort(s.address!, s.port!)}`;
}

/** Validated spec → the service as `ipvsadm -Sn` would show it. */
function toService(spec: z.output<typeof serviceSchema>, idx: number, label: string): IpvsService {
  const field = `services[${idx}]`;
  const family: 4 | 6 = spec.fwmark !== undefined ? (spec.family ?? 4) : ipFamily(spec.address!)!;
  const base =
    spec.fwmark !== undefined
      ? { protocol: 'fwmark' as const, fwmark: spec.fwmark, family }
      : { protocol: spec.protocol ?? 'tcp', address: canonicalIp(spec.address!)!, port: spec.port!, family };
  // ipvsadm prints -M only when it is not the full mask
  const fullMask = family === 4 ? '255.255.255.255' : '128';
  const netmask = spec.netmask !== undefined && spec.netmask !== fullMask ? spec.netmask : undefined;
  const svc: IpvsService = {
    ...base,
    id: serviceId(base),
    scheduler: spec.scheduler ?? 'wlc',
    schedFlags: [...(spec.schedFlags ?? [])].sort(),
    onePacket: spec.onePacket ?? false,
    ...(spec.persistent !== undefined ? { persistent: spec.persistent } : {}),
    ...(netmask !== undefined ? { netmask } : {}),
    realServers: [],
  };
  spec.realServers.forEach((r, j) => {
    const rf = `${field}.realServers[${j}]`;
    const address = canonicalIp(r.address)!;
    if (ipFamily(address) !== family) throw new ValidationError(`${label}: ${rf}.address ${r.address} is not of the service's address family`, { field: `${rf}.address` });
    const rport = r.port ?? (base.protocol === 'fwmark' ? 0 : base.port);
    // field notes: DR and TUN cannot map ports (the packet keeps its destination port); only NAT can
    if (base.protocol !== 'fwmark' && r.method !== 'nat' && rport !== base.port) {
      throw new ValidationError(
        `${label}: ${rf}: method ${r.method} cannot map port ${base.port} to ${rport}`,
        { field: `${rf}.port` },
        `use port ${base.port} on the real server, or method 'nat' for port mapping`,
      );
    }
    if (svc.realServers.some((x) => x.address === address && x.port === rport)) {
      throw new ValidationError(`${label}: ${rf}: ${hostPort(address, rport)} is listed twice`, { field: `${rf}.address` });
    }
    svc.realServers.push({ address, port: rport, method: r.method, weight: r.weight ?? 1 });
  });
  return svc;
}

function sameServiceOptions(a: IpvsService, b: IpvsService): boolean {
  return a.scheduler === b.scheduler && a.persistent === b.persistent && a.netmask === b.netmask && a.schedFlags.join(',') === b.schedFlags.join(',') && a.onePacket === b.onePacket;
}

/** Canonical text of a table, to compare a saved rules file with the live table regardless of order. */
function canonical(services: IpvsService[]): string {
  return services
    .map((s) => `${s.id} ${svcOptions(s).join(' ')}\n${s.realServers.map((r) => `  ${rsArgs(r).join(' ')}`).sort().join('\n')}`)
    .sort()
    .join('\n');
}

const DEBIAN_RULES = '/etc/ipvsadm.rules';
const REDHAT_RULES = '/etc/sysconfig/ipvsadm';
const DEBIAN_DEFAULTS = '/etc/default/ipvsadm';

/**
 * The IPVS table converged exactly: services added, edited (scheduler, persistence, flags) and — with prune —
 * removed; real servers added, edited (method, weight) and removed, so a real server whose port changed does not
 * linger with the old one. Timeouts with `ipvsadm --set`. `persist` saves the table where the distribution
 * restores it at boot (Debian: /etc/ipvsadm.rules with AUTO="true" in /etc/default/ipvsadm; Red Hat:
 * /etc/sysconfig/ipvsadm, restored by ipvsadm.service).
 */
export function ipvs(options: IpvsOptions): Step {
  const label = 'ipvs';
  const o = parseOptions(schema, options, label);
  const desired = o.services.map((s, i) => toService(s, i, label));
  const ids = new Set<string>();
  desired.forEach((s, i) => {
    if (ids.has(s.id)) throw new ValidationError(`${label}: services[${i}]: ${describe(s)} is listed twice`, { field: `services[${i}]` });
    ids.add(s.id);
  });
  const prune = o.prune ?? true;
  const persistPaths = o.persist === true ? [DEBIAN_RULES, REDHAT_RULES] : typeof o.persist === 'string' ? [o.persist] : [];
  const persistFacts = persistPaths.map(fileFact);
  const defaultsFact = fileFact(DEBIAN_DEFAULTS);
  const facts = [ipvsFact, ...persistFacts, ...(o.persist === true ? [osFact, defaultsFact] : [])];
  const name = `ipvs ${desired.length} service(s)${o.persist ? ', persisted' : ''}`;
  return makeStep('ipvs', name, facts, o, (ctx) => {
    const st = ctx.fact(ipvsFact);
    if (!st.tool) throw new PlanError(`${label}: ipvsadm is not installed`, "add pkg('ipvsadm') before this step");
    let current: IpvsService[] = [];
    let timeouts = undefined as undefined | { tcp: number; tcpfin: number; udp: number };
    if (!st.kernel) {
      if (ctx.predict.module('ip_vs').get() !== true) {
        throw new PlanError(`${label}: the kernel has no IPVS (${st.message})`, "load it first: kernelModule('ip_vs')");
      }
    } else {
      current = st.services;
      timeouts = st.timeouts;
    }
    const changes: Change[] = [];
    const byId = new Map(current.map((s) => [s.id, s]));
    for (const want of desired) {
      const have = byId.get(want.id);
      const svc = svcArgs(want);
      if (!have) {
        changes.push({
          summary: `add ${describe(want)} (${want.scheduler}) with ${want.realServers.length} real server(s)`,
          script: [sh`ipvsadm -A ${svc} ${svcOptions(want)}`, ...want.realServers.map((r) => sh`ipvsadm -a ${svc} ${rsArgs(r)}`)].join('\n'),
        });
        continue;
      }
      const cmds: string[] = [];
      const what: string[] = [];
      if (!sameServiceOptions(have, want)) {
        cmds.push(sh`ipvsadm -E ${svc} ${svcOptions(want)}`);
        what.push(`options ${svcOptions(have).join(' ')} → ${svcOptions(want).join(' ')}`);
      }
      const rsKey = (r: IpvsRealServer) => rsAddr(r);
      const haveRs = new Map(have.realServers.map((r) => [rsKey(r), r]));
      const wantKeys = new Set(want.realServers.map(rsKey));
      // add and edit first, remove last: the pool never shrinks below what stays in it
      for (const r of want.realServers) {
        const h = haveRs.get(rsKey(r));
        if (!h) {
          cmds.push(sh`ipvsadm -a ${svc} ${rsArgs(r)}`);
          what.push(`add ${rsAddr(r)} (${r.method}, weight ${r.weight})`);
        } else if (h.method !== r.method || h.weight !== r.weight) {
          cmds.push(sh`ipvsadm -e ${svc} ${rsArgs(r)}`);
          what.push(`edit ${rsAddr(r)} (${h.method}/${h.weight} → ${r.method}/${r.weight})`);
        }
      }
      for (const h of have.realServers) {
        if (!wantKeys.has(rsKey(h))) {
          cmds.push(sh`ipvsadm -d ${svc} -r ${rsTarget(h)}`);
          what.push(`remove stale ${rsAddr(h)}`);
        }
      }
      if (cmds.length) changes.push({ summary: `${describe(want)}: ${what.join('; ')}`, script: cmds.join('\n') });
    }
    if (prune) {
      for (const have of current) {
        if (!ids.has(have.id)) changes.push({ summary: `remove ${describe(have)} (not in the desired table)`, script: sh`ipvsadm -D ${svcArgs(have)}` });
      }
    }
    if (o.timeouts) {
      const t = o.timeouts;
      const differs = !timeouts || (t.tcp !== undefined && t.tcp !== timeouts.tcp) || (t.tcpfin !== undefined && t.tcpfin !== timeouts.tcpfin) || (t.udp !== undefined && t.udp !== timeouts.udp);
      if (differs) {
        // 0 leaves a timeout unchanged
        changes.push({ summary: `timeouts tcp ${t.tcp ?? '-'} tcpfin ${t.tcpfin ?? '-'} udp ${t.udp ?? '-'}`, script: sh`ipvsadm --set ${t.tcp ?? 0} ${t.tcpfin ?? 0} ${t.udp ?? 0}` });
      }
    }
    const warnings: string[] = [];
    if (o.persist) {
      let path = typeof o.persist === 'string' ? o.persist : undefined;
      let debian = false;
      if (o.persist === true) {
        const os = ctx.fact(osFact);
        debian = os.family.some((f) => f === 'debian' || f === 'ubuntu');
        const redhat = os.family.some((f) => ['rhel', 'fedora', 'centos', 'rocky', 'almalinux'].includes(f));
        if (!debian && !redhat) throw new PlanError(`${label}: do not know where ${os.id || 'this distribution'} restores IPVS rules`, "give persist: '/path/to/rules'");
        path = debian ? DEBIAN_RULES : REDHAT_RULES;
      }
      const f = ctx.fact(persistFacts[persistPaths.indexOf(path!)]!);
      let saved: string | undefined;
      try {
        saved = f.exists && f.content !== undefined ? canonical(parseIpvsSave('persist', f.content)) : undefined;
      } catch {
        saved = undefined;
      }
      if (changes.length > 0 || saved !== canonical(current)) {
        changes.push({
          summary: `save the table to ${path}`,
          // = ipvsadm-save -n (a bash wrapper around this; bash may be missing on minimal hosts)
          script: atomicWriteScript({ path: path!, fromShell: 'ipvsadm -Sn', mode: f.exists ? f.mode : 0o644 }),
        });
      }
      if (debian) {
        const d = ctx.fact(defaultsFact);
        if (d.exists && d.content !== undefined && !/^AUTO="?true"?\s*$/m.test(d.content)) {
          changes.push({ summary: `restore IPVS rules at boot (AUTO="true" in ${DEBIAN_DEFAULTS})`, script: `if grep -q '^AUTO=' ${DEBIAN_DEFAULTS}; then sed -i 's/^AUTO=.*/AUTO="true"/' ${DEBIAN_DEFAULTS}; else echo 'AUTO="true"' >> ${DEBIAN_DEFAULTS}; fi` });
        } else if (!d.exists) warnings.push(`${DEBIAN_DEFAULTS} not found: the ipvsadm package's init script restores ${DEBIAN_RULES} only with AUTO="true" there`);
      } else if (o.persist === true) warnings.push(`enable ipvsadm.service so that ${path} is restored at boot`);
    }
    return { changes, ...(warnings.length ? { warnings } : {}) };
  });
}

const keepalivedSchema = z.strictObject({
  ...commonShape,
  /** the services keepalived's configuration declares (real servers with their configured weights) */
  services: z.array(serviceSchema),
  /** keepalived's configuration file: when an earlier step changes it, keepalived converges the table on reload */
  configPath: absolutePath,
  /** sorry servers ('address:port' per service 'tcp:VIP:PORT'): keepalived adds them when every real server is down */
  sorry: z.record(z.string(), z.string()).optional(),
});

export type IpvsKeepalivedOptions = z.input<typeof keepalivedSchema> & StepOptions;

/** 'TCP 198.18.0.100:80', 'FWM 1', 'FWM 2 IPv6' (keepalived's and ipvsadm -Ln's name of a service) from a service of the ipvs fact. */
const listKey = (s: IpvsService) => (s.protocol === 'fwmark' ? `FWM ${s.fwmark}${s.family === 6 ? ' IPv6' : ''}` : `${s.protocol.toUpperCase()} ${hostPort(s.address!, s.port!)}`);

/**
 * Drift on a keepalived-managed director: keepalived owns the IPVS table but only the parts it changed (a weight
 * set with `ipvsadm -e` behind its back survives a SIGHUP for ever). Plans, from the live table and keepalived's
 * own checker state (its data dump), what keepalived would not fix: a real server its checkers hold up that is
 * missing or at another weight than keepalived set, a real server or virtual service no configuration declares,
 * another scheduler or persistence. A real server failing its health check is never re-added (a warning).
 * Skipped when keepalived is not running (it builds the table when it starts) or its configuration changes in
 * this run (the reload converges the changed parts; drift is then checked on the next run).
 */
export function ipvsKeepalived(options: IpvsKeepalivedOptions): Step {
  const label = 'ipvs (keepalived)';
  const o = parseOptions(keepalivedSchema, options, label);
  const desired = o.services.map((sv, i) => toService(sv, i, label));
  const ids = new Set(desired.map((d) => d.id));
  return makeStep('ipvs', `ipvs drift ${desired.length} keepalived service(s)`, [ipvsFact, keepalivedDumpFact], o, (ctx) => {
    if (ctx.predict.file(o.configPath).get() !== undefined) return { changes: [], skipped: `${o.configPath} changes in this run: keepalived's reload converges the table (drift is checked on the next run)` };
    const st = ctx.fact(ipvsFact);
    if (!st.tool || !st.kernel) return { changes: [], skipped: 'no IPVS table to compare yet (ipvsadm or the ip_vs module missing)' };
    const dump = ctx.fact(keepalivedDumpFact);
    if (!dump.running) return { changes: [], skipped: 'keepalived is not running (it builds the table when it starts)' };
    if (dump.error) return { changes: [], skipped: `keepalived's checker state is unreadable (${dump.error}): drift not repaired`, warnings: [`keepalived's checker state is unreadable (${dump.error}): drift not repaired`] };
    const changes: Change[] = [];
    const warnings: string[] = [];
    const byId = new Map(st.services.map((x) => [x.id, x]));
    for (const want of desired) {
      const key = listKey(want);
      const kv = dump.virtuals.find((v) => v.key === key);
      const have = byId.get(want.id);
      const svc = svcArgs(want);
      const upOf = (r: IpvsRealServer) => {
        const kr = kv?.reals.find((x) => x.address === r.address && x.port === r.port);
        return { alive: kr ? kr.alive : true, weight: kr && kr.alive ? kr.effectiveWeight : r.weight };
      };
      const cmds: string[] = [];
      const what: string[] = [];
      if (!kv) {
        // keepalived runs an older configuration: adding it here would collide with its next reload
        warnings.push(`${describe(want)} is not in keepalived's running configuration (reload keepalived): drift not repaired`);
        continue;
      }
      if (!have) {
        cmds.push(sh`ipvsadm -A ${svc} ${svcOptions(want)}`);
        what.push(`add the missing service (${want.scheduler})`);
      } else if (!sameServiceOptions(have, want)) {
        cmds.push(sh`ipvsadm -E ${svc} ${svcOptions(want)}`);
        what.push(`options ${svcOptions(have).join(' ')} → ${svcOptions(want).join(' ')}`);
      }
      const haveRs = new Map((have?.realServers ?? []).map((r) => [rsAddr(r), r]));
      for (const r of want.realServers) {
        const up = upOf(r);
        const h = haveRs.get(rsAddr(r));
        if (!up.alive) {
          const ck = checkerOf(dump, key, rsAddr(r));
          warnings.push(`${rsAddr(r)} of ${describe(want)} fails its health check${ck ? ` (${describeChecker(ck)})` : ''}: not re-added`);
          continue;
        }
        const live = { ...r, weight: up.weight };
        if (!h) {
          cmds.push(sh`ipvsadm -a ${svc} ${rsArgs(live)}`);
          what.push(`add missing ${rsAddr(r)} (${r.method}, weight ${up.weight})`);
        } else if (h.method !== r.method || h.weight !== up.weight) {
          cmds.push(sh`ipvsadm -e ${svc} ${rsArgs(live)}`);
          what.push(`edit ${rsAddr(r)} (${h.method}/${h.weight} → ${r.method}/${up.weight})`);
        }
      }
      const wanted = new Set(want.realServers.map(rsAddr));
      for (const h of have?.realServers ?? []) {
        if (wanted.has(rsAddr(h)) || o.sorry?.[want.id] === rsAddr(h)) continue;
        cmds.push(sh`ipvsadm -d ${svc} -r ${rsTarget(h)}`);
        what.push(`remove ${rsAddr(h)} (no configuration declares it)`);
      }
      if (cmds.length) changes.push({ summary: `${describe(want)}: ${what.join('; ')}`, script: cmds.join('\n') });
    }
    for (const have of st.services) {
      if (!ids.has(have.id)) changes.push({ summary: `remove ${describe(have)} (no configuration declares it)`, script: sh`ipvsadm -D ${svcArgs(have)}` });
    }
    return { changes, ...(warnings.length ? { warnings } : {}) };
  });
}
