/**
 * realserver-dr: a real server behind an LVS-DR director. The VIP(s) on lo as /32 (the server accepts packets
 * addressed to the VIP) and arp_ignore=1 / arp_announce=2 on all and the facing NICs (it never answers ARP for
 * the VIP, only the director does), persisted across reboots through /etc/rc.local (default) or a systemd unit.
 */
import { z } from 'zod';
import type { ExpandContext, ValidateContext } from '../../src/engine/types.ts';
import type { Inventory } from '../../src/inventory/types.ts';
import { address, sysctl } from '../../src/steps/index.ts';
import { facingInterfaces, persistOf, realServerShape, vipsOf } from '../lib/realserver.ts';
import type { LvsRole } from '../lib/registry.ts';
import { persistSteps, roleOptions } from '../lib/steps.ts';
import { validateLvs } from '../lib/validate.ts';

const ROLE = 'realserver-dr';
const schema = z.strictObject(realServerShape);

export type RealserverDrOptions = z.input<typeof schema>;

/** arp_ignore=1: answer ARP only for addresses of the incoming NIC; arp_announce=2: never source ARP from the VIP. */
export function arpSysctls(ifaces: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of ['all', ...ifaces]) {
    out[`net.ipv4.conf.${i}.arp_ignore`] = 1;
    out[`net.ipv4.conf.${i}.arp_announce`] = 2;
  }
  return out;
}

export function realserverDr(options: RealserverDrOptions = {}): LvsRole {
  const o = roleOptions(schema, options, ROLE);
  const vipsFor = (inv: Inventory, host: string) => vipsOf(inv, host, 'DR', o.vips);
  const role: LvsRole = {
    role: ROLE,
    vipsFor,
    steps(ctx: ExpandContext) {
      const host = ctx.host.name;
      const vips = vipsFor(ctx.inventory, host);
      // a host no DR service lists is left alone: one play can apply every real server role to a group
      if (vips.length === 0) return [];
      const ifaces = facingInterfaces(ctx.inventory, host, o.interfaces);
      return [
        sysctl('90-lvs-realserver-dr', arpSysctls(ifaces)),
        ...vips.map((v) => address('lo', `${v}/32`)),
        ...persistSteps(ROLE, persistOf(ctx.host.vars, o.persist), vips.map((v) => `ip addr replace ${v}/32 dev lo`)),
      ];
    },
    validate: (ctx: ValidateContext) => validateLvs(role, ctx),
  };
  return role;
}
