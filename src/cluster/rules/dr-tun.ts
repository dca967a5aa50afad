/**
 * DR and TUN: the director forwards the packet unchanged to a real server that holds the VIP itself, so ports cannot
 * be mapped, the VIP is never a director's own address, and every real server runs the real server role of its kind.
 */
import { hostAddresses, serviceVips } from '../cluster.ts';
import { REAL_SERVER_ROLE } from '../registry.ts';
import { add, directorsByService, directorUsages, realServerUsages, serviceIndex, type RuleContext } from './context.ts';

/**
 * DR and TUN forward the packet unchanged: the real server port must be the VIP's port. A fwmark service's real
 * servers take each packet on the port it came to (port 0 in IPVS), whatever the method: they name no port.
 */
export function checkPortMapping(c: RuleContext): void {
  for (const d of directorUsages(c)) {
    for (const s of d.services) {
      if (s.fwmark !== undefined) {
        const f = `lvs_services[${serviceIndex(c.inv, d.host, s)}]`;
        const fix = `drop the port: each packet keeps the port it came to (${(s.ports ?? []).join(', ')}), so every real server listens on all of them`;
        s.real_servers.forEach((rs, j) => {
          if (rs.port !== undefined) add(c, d.host, `${f}.real_servers[${j}].port`, `service ${s.name} (fwmark ${s.fwmark}): real server ${rs.host} names port ${rs.port}, but a fwmark service forwards every port of ports`, fix, 'lvs_services');
        });
        if (s.sorry_server?.port !== undefined) add(c, d.host, `${f}.sorry_server.port`, `service ${s.name} (fwmark ${s.fwmark}): the sorry server names port ${s.sorry_server.port}, but a fwmark service forwards every port of ports`, fix, 'lvs_services');
        continue;
      }
      if (s.lb_kind === 'NAT') continue;
      // a virtual_server_group: IPVS forwards each member unchanged, so every member has the real servers' port
      const f = `lvs_services[${serviceIndex(c.inv, d.host, s)}]`;
      const off = (s.virtual_server_group ?? []).findIndex((m) => m.port !== s.port);
      if (off >= 0) {
        const m = s.virtual_server_group![off]!;
        add(c, d.host, `${f}.virtual_server_group[${off}].port`,
          `service ${s.name} (lb_kind ${s.lb_kind}): group member ${m.vip} port ${m.port} differs from the first member's port ${s.port}; ${s.lb_kind} forwards each packet unchanged, so the real servers would need both ports`,
          `give every member of the group port ${s.port}, or use lb_kind NAT (the only method that maps ports)`, 'lvs_services');
        continue;
      }
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
export function checkDrVipOwnAddress(c: RuleContext): void {
  for (const d of directorUsages(c)) {
    const own = hostAddresses(c.inv, d.host);
    for (const s of d.services) {
      const mine = s.lb_kind === 'DR' ? serviceVips(s).find((v) => own.includes(v)) : undefined;
      if (mine) {
        add(c, d.host, `lvs_services[${serviceIndex(c.inv, d.host, s)}].${s.virtual_server_group ? 'virtual_server_group' : 'vip'}`,
          `service ${s.name}: the DR VIP ${mine} is ${d.host}'s own address`,
          'use a separate address as the VIP (held by keepalived as a VRRP VIP), never the director\'s primary address', 'lvs_services');
      }
    }
  }
}

/** DR/TUN real servers hold the VIP themselves: each needs the real server role of the service's kind, holding that VIP. */
export function checkVipRealServers(c: RuleContext): void {
  for (const { service: s, directors } of directorsByService(c).values()) {
    if (s.lb_kind === 'NAT') continue;
    const wanted = REAL_SERVER_ROLE[s.lb_kind];
    const dir = directors[0]!;
    const f = `lvs_services[${serviceIndex(c.inv, dir, s)}]`;
    s.real_servers.forEach((rs, j) => {
      if (!c.inv.hosts.has(rs.host)) return; // reported by checkReferences
      const uses = realServerUsages(c, s.lb_kind, rs.host);
      const missing = serviceVips(s).filter((v) => !uses.some((u) => u.role.vipsFor?.(c.inv, rs.host).includes(v)));
      if (missing.length) {
        add(c, rs.host, `${f}.real_servers[${j}]`,
          uses.length === 0
            ? `service ${s.name} (${s.lb_kind}) uses ${rs.host} as a real server, but no play applies the ${wanted} role to ${rs.host}`
            : `service ${s.name} (${s.lb_kind}) uses ${rs.host} as a real server, but its ${wanted} role does not configure VIP ${missing.join(', ')}`,
          `apply ${wanted}() to ${rs.host} in the playbook (it takes the VIPs of the ${s.lb_kind} services listing the host), or remove the host from the service`,
          undefined, (r) => r.realServerOf === s.lb_kind);
      }
    });
  }
}
