/**
 * Address families. IPVS forwards a virtual service only to real servers of its own family (the family of its VIP),
 * a NAT director routes replies of one family through an inner address (DIP) of that family, and keepalived runs one
 * VRRP instance per family (its adverts are IPv4 or IPv6 packets): an IPv6 VIP sits in an instance of its own,
 * kept together with its IPv4 sibling by a sync group, as keepalived's maintainers advise.
 */
import { hostNatDips, hostVrrp, serviceFamily } from '../cluster.ts';
import { type Family, ipFamily } from '../../facts/netaddr.ts';
import { parseVrrpVip, type VrrpInstance } from '../schema.ts';
import { add, directorUsages, serviceIndex, type RuleContext } from './context.ts';

export const familyName = (f: Family) => (f === 6 ? 'IPv6' : 'IPv4');

/** Every address a service names or resolves (real servers, sorry server, check address) is of its VIP's family. */
export function checkServiceFamilies(c: RuleContext): void {
  for (const d of directorUsages(c)) {
    for (const s of d.services) {
      const fam = serviceFamily(s);
      const f = `lvs_services[${serviceIndex(c.inv, d.host, s)}]`;
      const other = (a: string | undefined) => a !== undefined && ipFamily(a) !== fam;
      const refuse = (field: string, what: string, a: string) =>
        add(c, d.host, `${f}.${field}`, `service ${s.name}: VIP ${s.vip} is ${familyName(fam)} but ${what} ${a} is ${familyName(ipFamily(a)!)}; a virtual service forwards only within its address family`,
          `use an ${familyName(fam)} address for ${what}, or make a separate ${familyName(ipFamily(a)!)} service (its own VIP) for it`, 'lvs_services');
      (s.virtual_server_group ?? []).forEach((m, j) => {
        if (other(m.vip)) add(c, d.host, `${f}.virtual_server_group[${j}].vip`, `service ${s.name}: group member ${m.vip} is ${familyName(ipFamily(m.vip)!)} but the first member ${s.vip} is ${familyName(fam)}; the members share the real servers, and IPVS forwards only within an address family`,
          `make a separate ${familyName(ipFamily(m.vip)!)} service for ${m.vip}, with real servers of that family`, 'lvs_services');
      });
      s.real_servers.forEach((rs, j) => { if (other(rs.address)) refuse(`real_servers[${j}].address`, `real server ${rs.host}`, rs.address!); });
      if (other(s.sorry_server?.address)) refuse('sorry_server.address', 'the sorry server', s.sorry_server!.address!);
      const hc = s.health_check as { connect_ip?: string };
      if (other(hc.connect_ip)) refuse('health_check.connect_ip', 'the health check connect_ip', hc.connect_ip!);
    }
  }
}

/**
 * A NAT director has an inner address (DIP) of each NAT service's family. (A real server's gateway is looked up per
 * family, natGatewayOf: an lvs_nat_gateway of one family never serves the other.)
 */
export function checkNatFamilies(c: RuleContext): void {
  for (const d of directorUsages(c)) {
    const dips = hostNatDips(c.inv, d.host);
    for (const s of d.services) {
      if (s.lb_kind !== 'NAT') continue;
      const fam = serviceFamily(s);
      const others = dips.map((x) => x.address.split('/')[0]!).filter((a) => ipFamily(a) !== fam);
      if (dips.length > 0 && others.length === dips.length) {
        add(c, d.host, 'lvs_nat_dip.address', `NAT service ${s.name} is ${familyName(fam)} (VIP ${s.vip}) but ${d.host}'s inner address (DIP) ${others.join(', ')} is ${familyName(ipFamily(others[0]!)!)}: its real servers' replies could not route back through it`,
          `give ${d.host} an ${familyName(fam)} lvs_nat_dip too (a list, one per family: [{address: ${dips[0]!.address}, interface: ${dips[0]!.interface}}, {address: ${fam === 6 ? 'fd00:18:1::1/64' : '198.18.1.1/24'}, interface: ${dips[0]!.interface}}]), or serve ${s.name} from directors whose DIP is ${familyName(fam)}`, 'lvs_nat_dip');
      }
    }
  }
}

const familiesOf = (i: VrrpInstance) => new Set(i.vips.map((v) => parseVrrpVip(v)!.family));

/**
 * A VRRP instance holds the VIPs of one family. An IPv6 instance whose members also run an IPv4 instance on the same
 * interface with the same priorities (its sibling) is in a sync group with it, so that both families' VIPs move together.
 */
export function checkVrrpFamilies(c: RuleContext, hosts: Set<string>): void {
  for (const h of hosts) {
    const v = hostVrrp(c.inv, h);
    if (!v) continue;
    v.instances.forEach((i, index) => {
      if (familiesOf(i).size > 1) {
        const byFam = (fam: Family) => i.vips.filter((x) => parseVrrpVip(x)!.family === fam).join(', ');
        add(c, h, `lvs_vrrp.instances[${index}].vips`, `VRRP instance ${i.name} holds IPv4 VIPs (${byFam(4)}) and IPv6 VIPs (${byFam(6)}): keepalived runs one instance per address family`,
          `move the IPv6 VIPs to an instance of their own (e.g. ${i.name}_v6, same interface and priorities, a virtual_router_id of its own) and put both in a sync group: sync_groups: [{name: ${i.name}_G, instances: [${i.name}, ${i.name}_v6]}]`, 'lvs_vrrp');
        return;
      }
      if (!familiesOf(i).has(6) || i.priorities[h] === undefined) return;
      const members = JSON.stringify(Object.entries(i.priorities).sort());
      const siblings = v.instances.filter((o) => familiesOf(o).size === 1 && familiesOf(o).has(4) && o.interface === i.interface && JSON.stringify(Object.entries(o.priorities).sort()) === members);
      for (const s of siblings) {
        if (v.sync_groups.some((g) => g.instances.includes(i.name) && g.instances.includes(s.name))) continue;
        add(c, h, `lvs_vrrp.instances[${index}]`, `IPv6 VRRP instance ${i.name} and its IPv4 sibling ${s.name} (same members and priorities, interface ${i.interface}) are in no sync group: a failure could move one family's VIPs and not the other's`,
          `add sync_groups: [{name: ${s.name}_G, instances: [${s.name}, ${i.name}]}] to lvs_vrrp`, 'lvs_vrrp');
      }
    });
  }
}
