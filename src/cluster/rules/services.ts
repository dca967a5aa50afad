/** Services and their directors: references to inventory hosts, one virtual service per address, data for every director. */
import { resolveService, serviceFamily, serviceMembers, servicePorts } from '../cluster.ts';
import { hostPort } from '../../facts/netaddr.ts';
import { add, directorUsages, serviceIndex, type RuleContext } from './context.ts';

export function checkReferences(c: RuleContext): void {
  const known = (h: string) => c.inv.hosts.has(h);
  for (const d of directorUsages(c)) {
    const seenVs = new Map<string, string>();
    const seenMarks = new Map<string, string>();
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
      // every protocol, VIP and port the service receives (a fwmark service: each of its ports) belongs to it alone
      const received = s.virtual_server_group ? serviceMembers(s) : servicePorts(s).map((port) => ({ vip: s.vip, port }));
      for (const { vip, port: p } of received) {
        const key = `${s.protocol} ${hostPort(vip, p)}`;
        const other = seenVs.get(key);
        if (other !== undefined && other !== s.name) {
          add(c, d.host, `${f}.${s.fwmark !== undefined ? 'ports' : s.virtual_server_group ? 'virtual_server_group' : 'vip'}`, `services ${other} and ${s.name} both receive ${key}${s.fwmark !== undefined ? ` (the fwmark ${s.fwmark} rule would take ${other}'s packets)` : ''}`, 'one virtual service per protocol, VIP and port: remove the port from one of them', 'lvs_services');
        }
        seenVs.set(key, s.name);
      }
      if (s.fwmark !== undefined) {
        const key = `fwmark ${s.fwmark} IPv${serviceFamily(s)}`;
        const other = seenMarks.get(key);
        if (other !== undefined && other !== s.name) {
          add(c, d.host, `${f}.fwmark`, `services ${other} and ${s.name} both use ${key}: IPVS would balance both services' packets over one pool`, 'give each fwmark service a mark of its own', 'lvs_services');
        }
        seenMarks.set(key, s.name);
      }
    }
  }
}

/** Every director role host needs its data: services and real servers with addresses. */
export function checkDirectorData(c: RuleContext): void {
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
        const v6 = serviceFamily(s) === 6;
        for (const m of missing) {
          add(c, m.host, 'lvs_rip', `real server ${m.host} of service ${s.name} has no ${v6 ? 'IPv6 ' : ''}address in the inventory${v6 ? ` (the service's VIP ${s.vip} is IPv6)` : ''}`,
            v6 ? 'give the host an IPv6 address in lvs_nics (e.g. {name: eth1, address: fd00:18::21/64}) or an IPv6 lvs_rip' : 'set ansible_host, lvs_nics or lvs_rip for the host');
        }
      }
    }
  }
}
