/**
 * web-backend: a tiny HTTP server on a real server so a client's curls can tell which backend answered:
 * busybox httpd (fast to start even under TCG emulation) serving `index.html` = the inventory host name and
 * `healthz` = "ok" (the HTTP_GET health checks), on every TCP port the services use for this host; on every UDP
 * port, a responder answering each datagram with the host name (udp-responder.ts; needs node on the host).
 * For lab and test clusters on hosts without systemd (it is started by pidfile, not by a unit).
 */
import * as z from 'zod';
import type { ExpandContext, Step } from '../../src/engine/types.ts';
import type { Inventory } from '../../src/inventory/types.ts';
import { file, service } from '../../src/steps/index.ts';
import { allServices, hostNodeSvc, serviceFamily } from '../../src/cluster/cluster.ts';
import { port } from '../../src/cluster/schema.ts';
import { roleOptions } from '../lib/steps.ts';
import type { Role } from '../../src/engine/types.ts';
import { UDP_RESPONDER_PROGRAM } from './udp-responder.ts';

const ROLE = 'web-backend';
const schema = z.strictObject({
  /** TCP ports to listen on; default: every real server / sorry server port of this host in lvs_services and lvs_node_svc */
  ports: z.array(port).min(1).optional(),
  /** UDP ports to answer on; default: the ports of this host's UDP services */
  udp_ports: z.array(port).optional(),
  /** under /var: per host in the lab (its hosts share the machine's other directories) */
  root: z.string().regex(/^\/\S+[^/]$/).default('/var/lib/lvsplay/www'),
});

export type WebBackendOptions = z.input<typeof schema>;

/** Ports this host serves as a real server or sorry server of `protocol` services, from every host's service data. */
export function backendPorts(inv: Inventory, host: string, protocol: 'TCP' | 'UDP' = 'TCP'): number[] {
  const ports = new Set<number>();
  const services = [...allServices(inv)];
  for (const h of inv.hosts.keys()) services.push(...((hostNodeSvc(inv, h)?.services ?? []) as typeof services));
  for (const s of services) {
    if ((s.protocol ?? 'TCP') !== protocol) continue;
    // a fwmark service reaches its servers on each of its ports (the packet's port is kept)
    const own = (p: number | undefined) => (p !== undefined ? [p] : s.ports ?? [s.port]);
    for (const rs of s.real_servers) if (rs.host === host) for (const p of own(rs.port)) ports.add(p);
    if (s.sorry_server?.host === host) for (const p of own(s.sorry_server.port)) ports.add(p);
  }
  return [...ports].sort((a, b) => a - b);
}

/** Is the host a real server or sorry server of an IPv6 service? */
function servesIpv6(inv: Inventory, host: string): boolean {
  return allServices(inv).some((s) => serviceFamily(s) === 6 && (s.real_servers.some((r) => r.host === host) || s.sorry_server?.host === host));
}

export function webBackend(options: WebBackendOptions = {}): Role {
  const o = roleOptions(schema, options, ROLE);
  return {
    role: ROLE,
    steps(ctx: ExpandContext): Step[] {
      const host = ctx.host.name;
      const ports = o.ports ?? backendPorts(ctx.inventory, host);
      const udpPorts = o.udp_ports ?? backendPorts(ctx.inventory, host, 'UDP');
      // a real server of an IPv6 service listens on [::] (dual stack: IPv4 clients still reach it)
      const listen = servesIpv6(ctx.inventory, host) ? '[::]' : '0.0.0.0';
      return [
        file(`${o.root}/index.html`, { content: `${host}\n`, mode: '0644' }),
        file(`${o.root}/healthz`, { content: 'ok\n', mode: '0644' }),
        ...ports.map((p) =>
          service(`lvsplay-httpd-${p}`, {
            state: 'started',
            start: `busybox httpd -f -p ${listen}:${p} -h ${o.root}`,
            background: true,
            pidfile: `/run/lvsplay-httpd-${p}.pid`,
            process: 'busybox',
          }),
        ),
        ...(udpPorts.length
          ? [
              file(UDP_RESPONDER, { content: UDP_RESPONDER_PROGRAM, mode: '0644', notify: RESTART_UDP }),
              file(UDP_RESPONDER_CONFIG, { content: udpConfig(host, udpPorts), mode: '0644', notify: RESTART_UDP }),
              service('lvsplay-udp', udpService('started')),
            ]
          : []),
      ];
    },
    // a changed program or port list: the running responder must take it
    handlers: { [RESTART_UDP]: service('lvsplay-udp', udpService('restarted')) },
  };
}

const UDP_RESPONDER = '/usr/local/lib/lvsplay/udp-responder.js';
const UDP_RESPONDER_CONFIG = '/usr/local/lib/lvsplay/udp-responder.json';
const RESTART_UDP = 'restart lvsplay-udp';
const udpConfig = (host: string, ports: number[]) => `${JSON.stringify({ name: host, ports })}\n`;
const udpService = (state: 'started' | 'restarted') => ({
  state,
  start: `node ${UDP_RESPONDER} ${UDP_RESPONDER_CONFIG}`,
  background: true,
  pidfile: '/run/lvsplay-udp.pid',
  process: 'node',
});
