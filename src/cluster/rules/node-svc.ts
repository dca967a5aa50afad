/** node-svc: the host has lvs_node_svc, and its endpoints are inventory hosts. */
import { nodeSvcSchema } from '../schema.ts';
import { add, type RuleContext } from './context.ts';
import { serviceFamily } from '../cluster.ts';

/** node-svc endpoints must be inventory hosts. */
export function checkNodeSvc(c: RuleContext): void {
  for (const u of c.usages.filter((x) => x.role.nodeServices)) {
    for (const h of u.hosts) {
      const r = nodeSvcSchema.safeParse(c.inv.hosts.get(h)?.vars.lvs_node_svc);
      if (c.inv.hosts.get(h)?.vars.lvs_node_svc === undefined) {
        add(c, h, 'lvs_node_svc', `${u.role.role} is applied to ${h}, which has no lvs_node_svc`, 'define lvs_node_svc {services: [...]} for the host (see docs/roles.md, "Roles")');
        continue;
      }
      if (!r.success) continue; // reported by checkVariables
      r.data.services.forEach((s, i) => {
        // the node's kube-proxy-style chains and ipset are IPv4 (iptables, hash:ip,port family inet)
        if (serviceFamily(s) === 6) {
          add(c, h, `lvs_node_svc.services[${i}].vip`, `node-svc service ${s.name}: VIP ${s.vip} is IPv6, and node-svc builds IPv4 only (iptables and an inet ipset)`,
            'give the node-svc service an IPv4 VIP; serve IPv6 through a director (lvs_services) for now', 'lvs_node_svc');
        }
      });
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
