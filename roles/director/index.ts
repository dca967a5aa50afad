/**
 * director: an IPVS director run by keepalived, serving the lvs_services of the lb_kinds in `kinds` (default: NAT,
 * DR and TUN) for the host, with the VRRP instances it is a member of, the NAT inner address (DIP) when it serves NAT,
 * and the IPVS timeouts. director-nat (`kinds: ['NAT']`) and director-dr-ha (`kinds: ['DR', 'TUN']`) are this role
 * under their own names. Data: lvs_services, lvs_vrrp, lvs_nat_dip, lvs_ipvs_timeouts (see docs/roles.md).
 */
import type { DirectorOptions } from '../lib/director.ts';
import { makeDirectorRole } from '../lib/director.ts';
import type { LvsRole } from '../../src/cluster/registry.ts';

export type { DirectorOptions };

export function director(options: DirectorOptions = {}): LvsRole {
  return makeDirectorRole('director', ['NAT', 'DR', 'TUN'], options);
}
