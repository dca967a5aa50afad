/**
 * NAT: replies must pass the director to be un-NATed, so every NAT real server runs a role that routes back through
 * a gateway, and that gateway is an address of its directors on one of the real server's subnets.
 */
import { directorAddresses, hostNatDip, hostNatDips, hostNics, natGatewayOf, natRealServerFamilies, serviceFamily } from '../cluster.ts';
import { type Family, ipFamily, sameSubnet } from '../../facts/netaddr.ts';
import type { LvsRole } from '../registry.ts';
import { add, directorsByService, realServerUsages, serviceIndex, type RuleContext } from './context.ts';

const natRealServer = (r: LvsRole) => r.realServerOf === 'NAT';

/** The problem of a NAT real server whose role knows no gateway (none, or its directors' DIPs disagree). */
function noGateway(c: RuleContext, host: string, family: Family, hint: string): void {
  const cand = natGatewayOf(c.inv, host, family).candidates;
  const v6 = family === 6 ? 'IPv6 ' : '';
  add(c, host, 'lvs_nat_gateway',
    cand.length > 1
      ? `NAT real server ${host}: its directors have different ${v6}inner addresses (${cand.join(', ')}), which one to route through is ambiguous`
      : `NAT real server ${host} has no ${v6}route back through the director: no ${v6}gateway is known`,
    hint, undefined, natRealServer);
}

/** A director with inner addresses but none of `family`: reported once, as that, by the family rules (families.ts). */
const dipOfOtherFamily = (c: RuleContext, directors: string[], family: Family) =>
  directors.some((d) => hostNatDips(c.inv, d).length > 0 && !hostNatDip(c.inv, d, family));

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
      const fam = serviceFamily(s);
      const gw = uses.map((u) => u.role.gatewayFor?.(c.inv, rs.host, fam)).find((g) => g !== undefined);
      if (!gw) {
        if (!dipOfOtherFamily(c, directors, fam)) noGateway(c, rs.host, fam, `set lvs_nat_gateway on ${rs.host}, or lvs_nat_dip {address, interface} on the director`);
        return;
      }
      if (ipFamily(gw) !== fam) return; // a gateway of the other family: reported by the family rules
      const bypassed = directors.filter((d) => !directorAddresses(c.inv, d).includes(gw));
      if (bypassed.length > 0) {
        const d = bypassed[0]!;
        add(c, rs.host, 'lvs_nat_gateway', `NAT real server ${rs.host} routes through ${gw}, which is not an address of its director${bypassed.length > 1 ? 's' : ''} ${bypassed.join(', ')} (service ${s.name}): replies would bypass the director`,
          `route through the director's inner address (lvs_nat_dip of ${d}), e.g. lvs_nat_gateway: ${hostNatDip(c.inv, d, fam)?.address.split('/')[0] ?? 'DIP'}`, 'lvs_nat_gateway', natRealServer);
      }
      const nics = hostNics(c.inv, rs.host);
      if (nics.length > 0 && !nics.some((n) => n.family === fam && sameSubnet(n.address, gw, n.prefix))) {
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
  for (const u of c.usages) {
    if (!natRealServer(u.role)) continue;
    for (const h of u.hosts) {
      for (const fam of natRealServerFamilies(c.inv, h)) {
        if (u.role.gatewayFor?.(c.inv, h, fam) || dipOfOtherFamily(c, directorsListing(c, h, fam), fam)) continue;
        noGateway(c, h, fam, `set lvs_nat_gateway on ${h}, or lvs_nat_dip {address, interface} on its director, or realserverNat({gateway})`);
      }
    }
  }
}

/** The directors serving a NAT service of `family` that lists `host`. */
function directorsListing(c: RuleContext, host: string, family: Family): string[] {
  return [...directorsByService(c).values()]
    .filter(({ service: s }) => s.lb_kind === 'NAT' && serviceFamily(s) === family && s.real_servers.some((r) => r.host === host))
    .flatMap((x) => x.directors);
}
