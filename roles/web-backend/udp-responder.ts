/**
 * The UDP counterpart of web-backend's HTTP server: answers every datagram on its port with the host's name, so a
 * UDP probe (src/verify/probe-program.ts) can tell which real server answered, and keepalived's UDP_CHECK gets a
 * reply. A plain node program (the lab's and test clusters' hosts have node; busybox has no UDP server).
 *
 * One socket per local address, not one wildcard socket: a reply from a wildcard socket takes the source address
 * routing picks (a DR real server's own address), never the VIP on `lo` the datagram was sent to, and the client
 * drops it. Addresses added later (the realserver roles put the VIPs on lo) are bound on the next scan (every 2 s).
 */
export const UDP_RESPONDER_PROGRAM = `'use strict';
// lvsplay web-backend UDP responder: node udp-responder.js CONFIG.json ({"name": HOST, "ports": [..]}; managed by lvsplay)
const dgram = require('dgram');
const os = require('os');
const cfg = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const name = cfg.name + '\\n';
const bound = new Map();
function scan() {
  const want = new Set();
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list || []) {
      // link-local IPv6 addresses need a scope: the services never use them
      if (a.address.startsWith('fe80')) continue;
      // "addresses": only these (tests on loopback)
      if (cfg.addresses && !cfg.addresses.includes(a.address)) continue;
      for (const port of cfg.ports) want.add(port + ' ' + (a.family === 'IPv6' || a.family === 6 ? '6 ' : '4 ') + a.address);
    }
  }
  for (const k of want) {
    if (bound.has(k)) continue;
    const [port, fam, address] = k.split(' ');
    const s = dgram.createSocket(fam === '6' ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
    s.on('message', (m, r) => s.send(name, r.port, r.address));
    s.on('error', () => { s.close(); bound.delete(k); });
    s.bind(Number(port), address);
    bound.set(k, s);
  }
  for (const [k, s] of bound) if (!want.has(k)) { s.close(); bound.delete(k); }
}
scan();
setInterval(scan, 2000);
`;
