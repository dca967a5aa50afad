/**
 * NAT: replies must pass the director to be un-NATed, so every NAT real server runs a role that routes back through
 * a gateway, and that gateway is an address of its directors on one of the real server's subnets.
 */
import { allServices, directorAddresses, hostNatDip, hostNics, natGatewayOf } from '../cluster.ts';
import { sameSubnet } from '../../facts/netaddr.ts';
import type { LvsRole } from '../registry.ts';
import { add, directorsByService, realServerUsages, serviceIndex, type RuleContext } from './context.ts';

const natRealServer = (r: LvsRole) => r.realServerOf === 'NAT';

/** The problem of a NAT real server whose role knows no gateway (none, or its directors' DIPs disagree). */
function noGateway(c: RuleContext, host: string, hint: string): void {
  const cand = natGatewayOf(c.inv, host).candidates;
  add(c, host, 'lvs_nat_gateway',
    cand.length > 1
      ? `NAT real server ${host}: its directors have different inner addresses (${cand.join(', ')}), which one to route through is ambiguous`
      : `NAT real server ${host} has no route back through the director: no gateway is known`,
    hint, undefined, natRealServer);
}

/** Each real server of a NAT service runs a NAT real server role whose gateway is an on-link address of its directors. */
export function checkNatRealServers(c: RuleContext): void {
  for (const { service: s, directors } of directorsByService(c).values()) {
    if (s.lb_kind !== 'NAT') continue;
    const f = `lvs_services[${serviceIndex(c.inv, directors[0]!, s)}]`;
    s.real_servers.forEach((rs, j) => {
      if (!c.inv.hosts.has(rs.host)) return; // reported by checkReferences
      const uses = realServerUsages(c, 'NAT', rs.host);
      if (uses.length === 0) {
        add(c, rs.host, `${f}.real_servers[${j}]`,
          `service ${s.name} (NAT) uses ${rs.host} as a real server, but no play applies realserver-nat to it: its replies would not route back through the director`,
          `apply realserverNat() to ${rs.host} (default route via the director's DIP, set lvs_nat_dip on the director or lvs_nat_gateway on ${rs.host})`,
          undefined, natRealServer);
        return;
      }
      const gw = uses.map((u) => u.role.gatewayFor?.(c.inv, rs.host)).find((g) => g !== undefined);
      if (!gw) {
        noGateway(c, rs.host, `set lvs_nat_gateway on ${rs.host}, or lvs_nat_dip {address, interface} on the director`);
        return;
      }
      const bypassed = directors.filter((d) => !directorAddresses(c.inv, d).includes(gw));
      if (bypassed.length > 0) {
        const d = bypassed[0]!;
        add(c, rs.host, 'lvs_nat_gateway', `NAT real server ${rs.host} routes through ${gw}, which is not an address of its director${bypassed.length > 1 ? 's' : ''} ${bypassed.join(', ')} (service ${s.name}): replies would bypass the director`,
          `route through the director's inner address (lvs_nat_dip of ${d}), e.g. lvs_nat_gateway: ${hostNatDip(c.inv, d)?.address.split('/')[0] ?? 'DIP'}`, 'lvs_nat_gateway', natRealServer);
      }
      const nics = hostNics(c.inv, rs.host);
      if (nics.length > 0 && !nics.some((n) => sameSubnet(n.address, gw, n.prefix))) {
        add(c, rs.host, 'lvs_nat_gateway', `NAT real server ${rs.host}: gateway ${gw} is not on any of its subnets (${nics.map((n) => `${n.address}/${n.prefix}`).join(', ')})`,
          'the gateway must be on-link: the director\'s inner address on the real servers\' network', undefined, natRealServer);
      }
    });
  }
}

/**
 * A NAT real server role on a host a NAT service lists needs a gateway to route back through. (Real server roles do
 * nothing on hosts no service lists, so one play can apply all of them to a `realservers` group.)
 */
export function checkNatGateways(c: RuleContext): void {
  const natHosts = new Set(allServices(c.inv).filter((s) => s.lb_kind === 'NAT').flatMap((s) => s.real_servers.map((r) => r.host)));
  for (const u of c.usages) {
    if (!natRealServer(u.role)) continue;
    for (const h of u.hosts) {
      if (!natHosts.has(h) || u.role.gatewayFor?.(c.inv, h)) continue;
      noGateway(c, h, `set lvs_nat_gateway on ${h}, or lvs_nat_dip {address, interface} on its director, or realserverNat({gateway})`);
    }
  }
}
