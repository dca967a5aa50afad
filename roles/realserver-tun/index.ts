/**
 * realserver-tun: a real server behind an LVS-TUN director. The ipip module (loaded now and at boot), tunl0 up
 * with the VIP(s), rp_filter=0 on all/default/tunl0/the facing NICs (decapsulated packets arrive on tunl0 while
 * the route back to the client is another NIC: strict rp_filter drops them; the effective value is max(all, nic)),
 * arp_ignore/arp_announce on tunl0, persisted across reboots (rc.local by default).
 */
import { z } from 'zod';
import { address, kernelModule, link, sysctl } from '../../src/steps/index.ts';
import { realServerShape, vipRealserverRole } from '../lib/realserver.ts';
import type { LvsRole } from '../../src/cluster/registry.ts';
import { sh } from '../../src/shell.ts';

const ROLE = 'realserver-tun';

export type RealserverTunOptions = z.input<z.ZodObject<typeof realServerShape>>;

export function tunSysctls(ifaces: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of ['all', 'default', 'tunl0', ...ifaces]) out[`net.ipv4.conf.${i}.rp_filter`] = 0;
  for (const i of ['all', 'tunl0']) {
    out[`net.ipv4.conf.${i}.arp_ignore`] = 1;
    out[`net.ipv4.conf.${i}.arp_announce`] = 2;
  }
  return out;
}

export function realserverTun(options: RealserverTunOptions = {}): LvsRole {
  return vipRealserverRole(ROLE, 'TUN', options, ({ vips, ifaces, persist }) => [
    kernelModule('ipip', { persist: 'ipip' }),
    link('tunl0', { type: 'ipip', up: true }),
    sysctl('90-lvs-realserver-tun', tunSysctls(ifaces)),
    ...vips.map((v) => address('tunl0', `${v}/32`)),
    ...persist(['ip link set tunl0 up', ...vips.map((v) => sh`ip addr replace ${`${v}/32`} dev tunl0`)]),
  ]);
}
