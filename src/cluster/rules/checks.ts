/**
 * Validation rules for health checks and keepalived's LVS options (lvs-field-notes.md and what operators report),
 * one exported function per rule. Each takes the services as the directors serve them and returns problems with the
 * host, the field, the message and the fix; `checkHealthAndOptions` (a rule of rules/index.ts) turns them into
 * problems with the file and line of the variable.
 * The sync daemon rule is a warning: the plan is valid, it only syncs less than an operator may expect.
 */
import type { Inventory } from '../../inventory/types.ts';
import { directorAddresses, hostNodeSvc, resolveService, serviceVips, vrrpInstancesOf } from '../cluster.ts';
import { TCP_ONLY_CHECKS } from '../health-checks.ts';
import type { Service, Vrrp } from '../schema.ts';
import { add, directorUsages, serviceIndex, type RuleContext } from './context.ts';
import { hostPort } from '../../facts/netaddr.ts';

export interface CheckProblem {
  host: string;
  field: string;
  message: string;
  hint: string;
}

/** A service as one director serves it, with the field path of its lvs_services entry (`lvs_services[2]`). */
export interface ServedService {
  host: string;
  field: string;
  service: Service;
}

/** The service is up while the live real servers' weights sum to the quorum: above the sum of all, never. */
export function quorumAboveWeights(served: readonly ServedService[]): CheckProblem[] {
  return served.flatMap(({ host, field, service: s }) => {
    if (s.quorum === undefined) return [];
    const sum = s.real_servers.reduce((a, r) => a + r.weight, 0);
    const needed = s.quorum + (s.hysteresis ?? 0);
    if (needed <= sum) return [];
    const what = s.hysteresis ? `quorum ${s.quorum} + hysteresis ${s.hysteresis} = ${needed}` : `quorum ${s.quorum}`;
    return [{
      host, field: `${field}.quorum`,
      message: `service ${s.name}: ${what} is more than the sum of its real servers' weights (${sum}): the service never gains its quorum and is always down${s.sorry_server ? ' (the sorry server serves)' : ''}`,
      hint: `lower quorum to at most ${Math.max(1, sum - (s.hysteresis ?? 0))}, or raise the real servers' weights`,
    }];
  });
}

/** A TCP connect or an HTTP request says nothing about a UDP backend. */
export function udpServiceTcpCheck(served: readonly ServedService[]): CheckProblem[] {
  return served.flatMap(({ host, field, service: s }) =>
    s.protocol === 'UDP' && TCP_ONLY_CHECKS.has(s.health_check.type)
      ? [{
          host, field: `${field}.health_check.type`,
          message: `service ${s.name} is UDP but its health check is ${s.health_check.type}, which checks a TCP port: it says nothing about the UDP backend`,
          hint: 'use DNS_CHECK (DNS) or UDP_CHECK (others), or MISC_CHECK with a protocol-aware script; without health_check a UDP service gets UDP_CHECK',
        }]
      : [],
  );
}

/** keepalived never re-adds a sorry server that is also a real server of the service after it recovers. */
export function sorryServerIsRealServer(inv: Inventory, served: readonly ServedService[]): CheckProblem[] {
  return served.flatMap(({ host, field, service: s }) => {
    if (!s.sorry_server) return [];
    const r = resolveService(inv, s, host);
    const byHost = s.sorry_server.host !== undefined ? s.real_servers.find((x) => x.host === s.sorry_server!.host) : undefined;
    const byAddress = r.sorry && r.realServers.find((x) => x.address === r.sorry!.address && x.port === r.sorry!.port);
    const same = byHost?.host ?? byAddress?.host;
    if (!same) return [];
    return [{
      host, field: `${field}.sorry_server`,
      message: `service ${s.name}: the sorry server is also its real server ${same}${r.sorry ? ` (${hostPort(r.sorry.address, r.sorry.port)})` : ''}: keepalived never re-adds it as a real server after it recovers`,
      hint: 'use a sorry server that is not one of the service\'s real servers (a maintenance page host), or drop sorry_server',
    }];
  });
}

/**
 * A DR/TUN real server holds the VIP itself (on lo or tunl0): a director listed as a real server of its own VIP
 * would hold it twice and answer ARP for it from both roles.
 */
export function directorOwnRealServer(inv: Inventory, served: readonly ServedService[]): CheckProblem[] {
  return served.flatMap(({ host, field, service: s }) => {
    if (s.lb_kind === 'NAT') return [];
    const own = new Set(directorAddresses(inv, host));
    const r = resolveService(inv, s, host);
    return s.real_servers.flatMap((rs, j) => {
      const address = r.realServers.find((x) => x.host === rs.host)?.address;
      if (rs.host !== host && !(address && own.has(address))) return [];
      return [{
        host, field: `${field}.real_servers[${j}]`,
        message: `service ${s.name} (${s.lb_kind}): director ${host} is listed as a real server of its own VIP ${serviceVips(s).join(', ')}${rs.host !== host ? ` (${address} is ${host}'s address)` : ''}`,
        hint: `remove ${host} from the real servers, or serve the service from other directors (directors: [...]); a ${s.lb_kind} real server must be a separate host`,
      }];
    });
  });
}

/** keepalived sets sh-* flags only for the sh scheduler and mh-* only for mh (ipvsadm ignores them otherwise). */
export function schedulerFlagsMismatch(served: readonly ServedService[]): CheckProblem[] {
  return served.flatMap(({ host, field, service: s }) =>
    s.scheduler_flags.flatMap((f, k) =>
      f.startsWith(`${s.scheduler}-`)
        ? []
        : [{ host, field: `${field}.scheduler_flags[${k}]`, message: `service ${s.name}: scheduler flag ${f} needs scheduler ${f.split('-')[0]}, not ${s.scheduler}`, hint: `use scheduler ${f.split('-')[0]} or drop ${f}` }],
    ),
  );
}

/** One-packet scheduling exists for UDP only. */
export function opsOnTcp(served: readonly ServedService[]): CheckProblem[] {
  return served.flatMap(({ host, field, service: s }) =>
    s.ops && s.protocol !== 'UDP'
      ? [{ host, field: `${field}.ops`, message: `service ${s.name}: ops (one-packet scheduling) applies to UDP services only, this one is ${s.protocol}`, hint: 'drop ops, or set protocol: UDP' }]
      : [],
  );
}

/** FILE_CHECK names are keepalived track_file names: one name, one file (per director). */
export function fileCheckNameReused(served: readonly ServedService[]): CheckProblem[] {
  const seen = new Map<string, { path: string; service: string }>();
  return served.flatMap(({ host, field, service: s }) => {
    const c = s.health_check;
    if (c.type !== 'FILE_CHECK') return [];
    const key = `${host} ${c.name}`;
    const other = seen.get(key);
    seen.set(key, other ?? { path: c.path, service: s.name });
    if (!other) return [];
    return [{ host, field: `${field}.health_check.name`, message: `service ${s.name}: FILE_CHECK name ${c.name} is already the track_file of service ${other.service} on ${host}`, hint: `give each FILE_CHECK its own name (e.g. ${c.name}_${s.name})` }];
  });
}

/**
 * The sync daemon follows one VRRP instance's state. A director that is MASTER of another instance while that one is
 * BACKUP (active-active) does not sync the connections on the other instance's VIPs: a failover drops them.
 */
export function syncDaemonActiveActive(inv: Inventory, host: string, vrrp: Vrrp | undefined): string[] {
  const sd = vrrp?.lvs_sync_daemon;
  if (!sd) return [];
  const instances = vrrpInstancesOf(inv, host, vrrp);
  const followed = instances.find((i) => i.instance.name === sd.instance);
  if (!followed) return [];
  const grouped = new Set((vrrp!.sync_groups ?? []).filter((g) => g.instances.includes(sd.instance)).flatMap((g) => g.instances));
  const masterOf = (p: Record<string, number>) => Object.entries(p).sort((a, b) => b[1] - a[1])[0]![0];
  const followedMaster = masterOf(followed.instance.priorities);
  return instances
    .filter((i) => i !== followed && !grouped.has(i.instance.name) && masterOf(i.instance.priorities) !== followedMaster)
    .map((i) =>
      `lvs_sync_daemon follows VRRP instance ${sd.instance} (master ${followedMaster}), but instance ${i.instance.name} has another master (${masterOf(i.instance.priorities)}): connections to its VIPs ${i.vips.map((v) => v.address).join(', ')} are not synced, a failover drops them (put both instances in a sync group, or accept it)`,
    );
}

/** The rule: the health check and LVS option rules above over the directors' and node-svc services. */
export function checkHealthAndOptions(c: RuleContext): void {
  const served: ServedService[] = directorUsages(c).flatMap((d) =>
    d.services.map((s) => ({ host: d.host, field: `lvs_services[${serviceIndex(c.inv, d.host, s)}]`, service: s })));
  const nodes: ServedService[] = c.usages.filter((u) => u.role.nodeServices).flatMap((u) =>
    u.hosts.flatMap((h) => (hostNodeSvc(c.inv, h)?.services ?? []).map((s, i) => ({ host: h, field: `lvs_node_svc.services[${i}]`, service: s as Service }))));
  const all = [...served, ...nodes];
  const found = [
    ...quorumAboveWeights(all), ...udpServiceTcpCheck(all), ...schedulerFlagsMismatch(all),
    ...opsOnTcp(all), ...fileCheckNameReused(all),
    ...sorryServerIsRealServer(c.inv, served), ...directorOwnRealServer(c.inv, served),
  ];
  for (const p of found) add(c, p.host, p.field, p.message, p.hint, p.field.startsWith('lvs_node_svc') ? 'lvs_node_svc' : 'lvs_services');
}
