/**
 * director-dr-ha: a keepalived VRRP pair (MASTER/BACKUP by priority, or active-active with one VIP per director
 * as mutual backups; unicast peers, sync group, nopreempt, lvs_sync_daemon, notify hooks) in front of DR and TUN
 * virtual services with health checks (HTTP_GET, TCP_CHECK, MISC_CHECK), persistence, sorry server, scheduler and
 * weights, and IPVS timeouts. `kinds: ['NAT', 'DR', 'TUN']` makes the pair serve NAT services too (one keepalived).
 * Data: lvs_services, lvs_vrrp, lvs_ipvs_timeouts, lvs_nat_dip (see docs/roles.md).
 */
import type { DirectorOptions } from '../lib/director.ts';
import { makeDirectorRole } from '../lib/director.ts';
import type { LvsRole } from '../lib/registry.ts';

export type DirectorDrHaOptions = DirectorOptions;

export function directorDrHa(options: DirectorDrHaOptions = {}): LvsRole {
  return makeDirectorRole('director-dr-ha', ['DR', 'TUN'], options);
}
