/**
 * realserver-tun: a real server behind an LVS-TUN director. The ipip module (loaded now and at boot), tunl0 up
 * with the VIP(s), rp_filter=0 on all/default/tunl0/the facing NICs (decapsulated packets arrive on tunl0 while
 * the route back to the client is another NIC: strict rp_filter drops them; the effective value is max(all, nic)),
 * arp_ignore/arp_announce on tunl0, persisted across reboots (rc.local by default).
 * IPv6 VIPs: IPVS-TUN sends an IPv6 service's packets IPv6-in-IPv6 (ip6ip6), so the ip6_tunnel module (loaded now
 * and at boot) and its fallback device ip6tnl0, up, hold them as /128, added without duplicate address detection
 * (nodad, and accept_dad=0 / dad_transmits=0 on ip6tnl0): every real server holds the same VIP.
 */
import * as z from 'zod';
import { address, kernelModule, link, sysctl } from '../../src/steps/index.ts';
import { hostCidr, noDadSysctls, realServerShape, vipRealserverRole } from '../lib/realserver.ts';
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
  return vipRealserverRole(ROLE, 'TUN', options, ({ vips, ifaces, persist }) => {
    const v4 = vips.map(hostCidr).filter((v) => !v.v6).map((v) => v.cidr);
    const v6 = vips.map(hostCidr).filter((v) => v.v6).map((v) => v.cidr);
    return [
      ...(v4.length ? [kernelModule('ipip', { persist: 'ipip' }), link('tunl0', { type: 'ipip', up: true })] : []),
      ...(v6.length ? [kernelModule('ip6_tunnel', { persist: 'ip6_tunnel' }), link('ip6tnl0', { type: 'ip6tnl', up: true })] : []),
      sysctl('90-lvs-realserver-tun', { ...(v4.length ? tunSysctls(ifaces) : {}), ...(v6.length ? noDadSysctls(['ip6tnl0']) : {}) }),
      ...v4.map((c) => address('tunl0', c)),
      ...v6.map((c) => address('ip6tnl0', c, { nodad: true })),
      ...persist([
        ...(v4.length ? ['ip link set tunl0 up', ...v4.map((c) => sh`ip addr replace ${c} dev tunl0`)] : []),
        ...(v6.length ? ['ip link set ip6tnl0 up', ...v6.map((c) => sh`ip addr replace ${c} dev ip6tnl0 nodad`)] : []),
      ]),
    ];
  });
}
