/**
 * director-nat: IPVS masquerading. ip_forward, IPVS modules (+ at boot), keepalived virtual_servers with
 * `lb_kind NAT` (port mapping allowed), and the inner address (DIP) the NAT real servers route back through:
 * held by keepalived when it is a VRRP VIP (so it follows the active director), else added as a plain address.
 * Data: lvs_services (lb_kind NAT), lvs_vrrp, lvs_nat_dip, lvs_ipvs_timeouts (see docs/roles.md).
 */
import type { DirectorOptions } from '../lib/director.ts';
import { makeDirectorRole } from '../lib/director.ts';
import type { LvsRole } from '../lib/registry.ts';

export type DirectorNatOptions = DirectorOptions;

export function directorNat(options: DirectorNatOptions = {}): LvsRole {
  return makeDirectorRole('director-nat', ['NAT'], options);
}
