/** Every variable of the data model parses: a malformed one is a problem naming host, field, file:line and a fix. */
import * as z from 'zod';
import {
  ipAddress,
  ipvsSysctlsSchema,
  ipvsTimeoutsSchema,
  natDipsSchema,
  natGatewaysSchema,
  nicsSchema,
  nodeSvcSchema,
  serviceSchema,
  vrrpSchema,
} from '../schema.ts';
import { readVar } from '../vars.ts';
import { report, type RuleContext } from './context.ts';

/** The variables of the data model, with a hint shown when one is malformed. */
const VARS: Array<[string, z.ZodType, string]> = [
  ['lvs_services', z.array(serviceSchema), 'see docs/roles.md: lvs_services entries are {name, vip, port, lb_kind, scheduler, real_servers: [{host, port, weight}]}'],
  ['lvs_vrrp', vrrpSchema, 'see docs/roles.md: lvs_vrrp is {instances: [{name, interface, virtual_router_id, priorities, vips}], sync_groups, lvs_sync_daemon}'],
  ['lvs_node_svc', nodeSvcSchema, 'see docs/roles.md: lvs_node_svc is {device, ipset, chains, mark, services: [...]}'],
  ['lvs_nics', nicsSchema, 'lvs_nics: [{name: eth1, address: 198.18.0.11/24}]'],
  ['lvs_nat_dip', natDipsSchema, 'lvs_nat_dip: {address: 198.18.1.1/24, interface: eth2} (dual-stack: a list, one per family)'],
  ['lvs_ipvs_timeouts', ipvsTimeoutsSchema, 'lvs_ipvs_timeouts: {tcp: 900, tcpfin: 30, udp: 300}'],
  ['lvs_ipvs_sysctls', ipvsSysctlsSchema, "lvs_ipvs_sysctls: {'net.ipv4.vs.sloppy_tcp': 1}"],
  ['lvs_rip', ipAddress, 'lvs_rip: the real server address the directors use, e.g. 198.18.0.21 (fd00::21 for IPv6 services)'],
  ['lvs_nat_gateway', natGatewaysSchema, 'lvs_nat_gateway: the director inner address (DIP), e.g. 198.18.1.1 (dual-stack: [198.18.1.1, fd00:18:1::1])'],
];

export function checkVariables(c: RuleContext, hosts: Set<string>): void {
  for (const h of hosts) {
    for (const [name, schema, hint] of VARS) {
      const r = readVar(c.inv, h, name, schema, hint);
      if (r && !r.ok) for (const p of r.problems) report(c, p);
    }
  }
}
