/** What the real server roles share: VIP selection, the facing NICs, option shapes. */
import * as z from 'zod';
import type { ExpandContext, Step } from '../../src/engine/types.ts';
import type { Inventory } from '../../src/inventory/types.ts';
import { hostNics, realServerVips } from '../../src/cluster/cluster.ts';
import type { LvsRole } from '../../src/cluster/registry.ts';
import { CLUSTER_CHECKS } from '../../src/cluster/rules/index.ts';
import { ipAddress, ifname, type LbKind } from '../../src/cluster/schema.ts';
import { persistSchema, persistSteps, roleOptions } from './steps.ts';
import { ipFamily } from '../../src/facts/netaddr.ts';

/** A VIP as a host address: `198.18.0.100/32`, `fd00:18::100/128`. */
export function hostCidr(vip: string): { cidr: string; v6: boolean } {
  const v6 = ipFamily(vip) === 6;
  return { cidr: `${vip}/${v6 ? 128 : 32}`, v6 };
}

/**
 * No IPv6 duplicate address detection on the devices holding the VIPs: every real server holds the same VIP, and a
 * device that runs DAD would find it on the others and mark it `dadfailed` (never used).
 */
export function noDadSysctls(devices: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of devices) {
    out[`net.ipv6.conf.${d}.accept_dad`] = 0;
    out[`net.ipv6.conf.${d}.dad_transmits`] = 0;
  }
  return out;
}

export const realServerShape = {
  /** VIPs to hold; default: the VIPs of every service of this lb_kind (any host's lvs_services) listing the host */
  vips: z.array(ipAddress).min(1).optional(),
  /** NICs facing the directors, for the per-interface sysctls; default: the host's lvs_nics/lab_nics names */
  interfaces: z.array(ifname).optional(),
  /** boot persistence of the addresses: rc.local (default), a systemd oneshot unit, or none */
  persist: persistSchema.optional(),
};

function vipsOf(inv: Inventory, host: string, kind: LbKind, explicit: readonly string[] | undefined): string[] {
  return explicit ? [...explicit] : realServerVips(inv, host, kind);
}

/** Facing NICs: the option, else every NIC the inventory lists for the host (never lo). */
function facingInterfaces(inv: Inventory, host: string, explicit: readonly string[] | undefined): string[] {
  return explicit ? [...explicit] : [...new Set(hostNics(inv, host).map((n) => n.name))].filter((n) => n !== 'lo');
}

/** The persistence method: the option, else the host's lvs_realserver_persist, else rc.local. */
export function persistOf(vars: Record<string, unknown>, explicit: z.output<typeof persistSchema> | undefined): z.output<typeof persistSchema> {
  if (explicit) return explicit;
  const r = persistSchema.safeParse(vars.lvs_realserver_persist);
  return r.success ? r.data : 'rc.local';
}

export interface VipRealserverParts {
  vips: string[];
  /** NICs facing the directors */
  ifaces: string[];
  /** boot persistence of `commands` (the shell that re-creates the addresses) */
  persist(commands: string[]): Step[];
}

/**
 * A real server role that holds the VIPs of its lb_kind's services (realserver-dr on lo, realserver-tun on tunl0):
 * options, VIP selection, facing NICs, persistence and validation are shared; `build` gives the role's own steps.
 */
export function vipRealserverRole(role: string, kind: LbKind, options: unknown, build: (parts: VipRealserverParts) => Step[]): LvsRole {
  const o = roleOptions(z.strictObject(realServerShape), options, role);
  const vipsFor = (inv: Inventory, host: string) => vipsOf(inv, host, kind, o.vips);
  return {
    role,
    realServerOf: kind,
    vipsFor,
    steps(ctx: ExpandContext) {
      const host = ctx.host.name;
      const vips = vipsFor(ctx.inventory, host);
      // a host no service of this kind lists is left alone: one play can apply every real server role to a group
      if (vips.length === 0) return [];
      const persist = persistOf(ctx.host.vars, o.persist);
      return build({ vips, ifaces: facingInterfaces(ctx.inventory, host, o.interfaces), persist: (commands) => persistSteps(role, persist, commands) });
    },
    checks: CLUSTER_CHECKS,
  };
}
