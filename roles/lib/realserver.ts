/** What the real server roles share: VIP selection, the facing NICs, option shapes. */
import { z } from 'zod';
import type { Inventory } from '../../src/inventory/types.ts';
import { hostNics, realServerVips } from './cluster.ts';
import { ipv4, ifname, type LbKind } from './schema.ts';
import { persistSchema } from './steps.ts';

export const realServerShape = {
  /** VIPs to hold; default: the VIPs of every service of this lb_kind (any host's lvs_services) listing the host */
  vips: z.array(ipv4).min(1).optional(),
  /** NICs facing the directors, for the per-interface sysctls; default: the host's lvs_nics/lab_nics names */
  interfaces: z.array(ifname).optional(),
  /** boot persistence of the addresses: rc.local (default), a systemd oneshot unit, or none */
  persist: persistSchema.optional(),
};

export function vipsOf(inv: Inventory, host: string, kind: LbKind, explicit: readonly string[] | undefined): string[] {
  return explicit ? [...explicit] : realServerVips(inv, host, kind);
}

/** Facing NICs: the option, else every NIC the inventory lists for the host (never lo). */
export function facingInterfaces(inv: Inventory, host: string, explicit: readonly string[] | undefined): string[] {
  return explicit ? [...explicit] : [...new Set(hostNics(inv, host).map((n) => n.name))].filter((n) => n !== 'lo');
}

/** The persistence method: the option, else the host's lvs_realserver_persist, else rc.local. */
export function persistOf(vars: Record<string, unknown>, explicit: z.output<typeof persistSchema> | undefined): z.output<typeof persistSchema> {
  if (explicit) return explicit;
  const r = persistSchema.safeParse(vars.lvs_realserver_persist);
  return r.success ? r.data : 'rc.local';
}
