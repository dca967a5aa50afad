/**
 * realserver-dr: a real server behind an LVS-DR director. The VIP(s) on lo as /32 (the server accepts packets
 * addressed to the VIP) and arp_ignore=1 / arp_announce=2 on all and the facing NICs (it never answers ARP for
 * the VIP, only the director does), persisted across reboots through /etc/rc.local (default) or a systemd unit.
 * IPv6 VIPs go on lo as /128: Linux answers neighbour solicitations only for addresses of the receiving device, so
 * no ARP sysctl has an IPv6 counterpart to set; duplicate address detection is off on lo (accept_dad=0,
 * dad_transmits=0) so the VIP every real server holds is never `dadfailed`.
 */
import * as z from 'zod';
import { address, sysctl } from '../../src/steps/index.ts';
import { hostCidr, noDadSysctls, realServerShape, vipRealserverRole } from '../lib/realserver.ts';
import type { LvsRole } from '../../src/cluster/registry.ts';
import { sh } from '../../src/shell.ts';

const ROLE = 'realserver-dr';

export type RealserverDrOptions = z.input<z.ZodObject<typeof realServerShape>>;

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
  return vipRealserverRole(ROLE, 'DR', options, ({ vips, ifaces, persist }) => {
    const hostVips = vips.map(hostCidr);
    return [
      sysctl('90-lvs-realserver-dr', { ...arpSysctls(ifaces), ...(hostVips.some((v) => v.v6) ? noDadSysctls(['lo']) : {}) }),
      ...hostVips.map((v) => address('lo', v.cidr)),
      ...persist(hostVips.map((v) => sh`ip addr replace ${v.cidr} dev lo`)),
    ];
  });
}
