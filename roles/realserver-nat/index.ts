/**
 * realserver-nat: a real server behind an LVS-NAT director. Its replies must pass the director to be un-NATed:
 * a default route (or routes to the client networks) via the director's inner address (DIP). NAT tuning as
 * options: tcp_timestamps=0 (many clients masqueraded behind one address), a short FIN timeout, tw_reuse.
 */
import * as z from 'zod';
import type { ExpandContext, Step } from '../../src/engine/types.ts';
import type { Inventory } from '../../src/inventory/types.ts';
import { route, sysctl } from '../../src/steps/index.ts';
import { natGatewayOf, natRealServerFamilies } from '../../src/cluster/cluster.ts';
import { type Family, ipFamily, networkOf, parseCidr } from '../../src/facts/netaddr.ts';
import { persistOf } from '../lib/realserver.ts';
import type { LvsRole } from '../../src/cluster/registry.ts';
import { CLUSTER_CHECKS } from '../../src/cluster/rules/index.ts';
import { cidr, ipAddress } from '../../src/cluster/schema.ts';
import { persistSchema, persistSteps, roleOptions } from '../lib/steps.ts';
import { sh } from '../../src/shell.ts';

const ROLE = 'realserver-nat';

/** The default route of the gateway's family (an IPv6 NAT service routes back through an IPv6 DIP). */
function defaultRoute(gw: string): string {
  return ipFamily(gw) === 6 ? '::/0' : 'default';
}
const schema = z.strictObject({
  /** the director address to route through; default: lvs_nat_gateway, else the DIP of the host's NAT directors */
  gateway: ipAddress.optional(),
  /** client networks to route via the gateway of their family; default: the default route (of each family) */
  routes: z.array(cidr).min(1).optional(),
  /** false: net.ipv4.tcp_timestamps=0 (unset: left as it is) */
  tcpTimestamps: z.boolean().optional(),
  /** net.ipv4.tcp_fin_timeout in seconds, e.g. 30 */
  finTimeout: z.number().int().min(1).max(600).optional(),
  /** net.ipv4.tcp_tw_reuse */
  twReuse: z.boolean().optional(),
  persist: persistSchema.optional(),
});

export type RealserverNatOptions = z.input<typeof schema>;

export function realserverNat(options: RealserverNatOptions = {}): LvsRole {
  const o = roleOptions(schema, options, ROLE);
  const gatewayFor = (inv: Inventory, host: string, family?: Family) =>
    (o.gateway && (family === undefined || ipFamily(o.gateway) === family) ? o.gateway : undefined) ?? natGatewayOf(inv, host, family).gateway;
  return {
    role: ROLE,
    realServerOf: 'NAT',
    gatewayFor,
    steps(ctx: ExpandContext) {
      const host = ctx.host.name;
      // a host no NAT service lists is left alone (unless a gateway is given): one play can cover all real servers.
      // A dual-stack one routes each family's replies through that family's gateway
      const families = natRealServerFamilies(ctx.inventory, host);
      if (o.gateway && !families.includes(ipFamily(o.gateway)!)) families.push(ipFamily(o.gateway)!);
      const routes: Array<{ dest: string; gw: string }> = [];
      for (const fam of families) {
        const gw = gatewayFor(ctx.inventory, host, fam);
        if (!gw) continue; // reported by the cluster check (no route back through the director)
        const mine = (o.routes ?? ['default']).filter((r) => r === 'default' || parseCidr(r.trim())!.family === fam);
        for (const r of mine) routes.push({ dest: r === 'default' ? defaultRoute(gw) : networkOf(parseCidr(r.trim())!), gw });
      }
      if (routes.length === 0) return [];
      const tuning: Record<string, number> = {
        ...(o.tcpTimestamps !== undefined ? { 'net.ipv4.tcp_timestamps': o.tcpTimestamps ? 1 : 0 } : {}),
        ...(o.finTimeout !== undefined ? { 'net.ipv4.tcp_fin_timeout': o.finTimeout } : {}),
        ...(o.twReuse !== undefined ? { 'net.ipv4.tcp_tw_reuse': o.twReuse ? 1 : 0 } : {}),
      };
      const steps: Step[] = [
        ...routes.map((r) => route(r.dest, { via: r.gw })),
        ...(Object.keys(tuning).length ? [sysctl('90-lvs-realserver-nat', tuning)] : []),
        ...persistSteps(ROLE, persistOf(ctx.host.vars, o.persist), routes.map((r) => sh`ip route replace ${r.dest} via ${r.gw}`)),
      ];
      return steps;
    },
    checks: CLUSTER_CHECKS,
  };
}

