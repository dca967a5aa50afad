/**
 * fwmark services end to end without hosts: the data model (port or fwmark + ports), validation, the director's
 * mark rule and IPVS reference table, keepalived's and ipvsadm's names of a fwmark service, the probes of every
 * port and the record's verdict (every port answers; persistence spans the ports).
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../src/inventory/index.ts';
import { serviceSchema } from '../../src/cluster/schema.ts';
import { allServices, resolveService } from '../../src/cluster/cluster.ts';
import { directorConfig, fwmarkRule, keepalivedTable } from '../../roles/lib/director.ts';
import { serviceTargets, type VerifyJob } from '../../src/verify/targets.ts';
import { buildRecord, targetAddress } from '../../src/verify/record.ts';
import { parseSnapshot } from '../../src/verify/director.ts';
import { parseNodeProbeOutput, parseProbeLine } from '../../src/verify/probe-output.ts';
import { parseIpvsList, parseIpvsStats, serviceKey } from '../../src/verify/ipvsadm.ts';
import { parseKeepalivedDump } from '../../src/facts/keepalived-dump.ts';
import { services } from '../../src/verify/spec.ts';
import { formatVerifyRecord } from '../../src/verify/table.ts';
import { nodeProbeScript, probeScript } from '../../src/verify/probe-program.ts';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const lab = loadInventory(here('../../inventory/lab.yaml'));
const fixture = loadInventory(here('../fixtures/roles/fwmark.yaml'));

const base = { name: 'web-fwmark', vip: '198.18.0.102', lb_kind: 'DR', real_servers: [{ host: 'rs1' }] };
const issues = (x: object) => {
  const r = serviceSchema.safeParse(x);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('data model: a port, or fwmark with ports; its port is the first of ports', (t) => {
  const ok = serviceSchema.parse({ ...base, fwmark: 1, ports: [80, 443] });
  t.is(ok.port, 80);
  t.deepEqual(ok.ports, [80, 443]);
  t.deepEqual(issues({ ...base, port: 80 }), []);
  t.regex(issues({ ...base, ports: [80, 443] }).join('\n'), /^ports: ports \(several ports, one pool\) needs a firewall mark: add fwmark: N/);
  t.regex(issues({ ...base, fwmark: 1 }).join('\n'), /^ports: a fwmark service needs the ports it marks/);
  t.regex(issues({ ...base, fwmark: 1, port: 80, ports: [443] }).join('\n'), /^port: a fwmark service lists its ports in ports: \[\.\.\.\], not port/);
  t.regex(issues({ ...base, fwmark: 1, ports: [80, 80] }).join('\n'), /port 80 is listed twice/);
  t.regex(issues({ ...base, fwmark: 0, ports: [80] }).join('\n'), /^fwmark: a firewall mark is an integer 1-4294967295 \(0 means unmarked\)/);
  t.regex(issues(base).join('\n'), /^port: a service needs a port \(or fwmark: N with ports/);
});

test('resolved: real servers (and the sorry server) of a fwmark service have port 0: each packet keeps its port', (t) => {
  const s = allServices(lab).find((x) => x.name === 'web-fwmark')!;
  t.deepEqual(resolveService(lab, s, 'dir1').realServers.map((r) => `${r.host} ${r.address}:${r.port}`), ['rs1 198.18.0.21:0', 'rs2 198.18.0.22:0']);
});

test('director: the mark rule (mangle PREROUTING, multiport, ip6tables for IPv6) and the IPVS table keepalived builds', (t) => {
  const [v4, v6] = allServices(fixture);
  t.is(fwmarkRule(v4!).name, 'iptablesRule mangle PREROUTING -d 198.18.0.102/32 -p tcp -m multiport --dports 80,443 -j MARK --set-mark 1');
  t.is(fwmarkRule(v6!).name, 'iptablesRule mangle PREROUTING -d fd00:18::112/128 -p tcp -m multiport --dports 80,8443 -j MARK --set-mark 2');
  const one = serviceSchema.parse({ ...base, fwmark: 9, ports: [8443], protocol: 'UDP' });
  t.is(fwmarkRule(one as never).name, 'iptablesRule mangle PREROUTING -d 198.18.0.102/32 -p udp --dport 8443 -j MARK --set-mark 9');
  const table = keepalivedTable(directorConfig(fixture, 'f1', ['NAT', 'DR', 'TUN'], {}));
  t.deepEqual(table.services.map((s) => [s.fwmark, s.family, s.address, s.persistent, s.realServers.map((r) => `${r.address}:${r.port ?? '-'} ${r.method}`)]), [
    [1, 4, undefined, 300, ['198.18.0.21:0 dr', '198.18.0.22:0 dr']],
    [2, 6, undefined, undefined, ['fd00:18:1::31:0 nat', 'fd00:18:1::32:0 nat']],
  ]);
});

test('names: ipvsadm prints FWM 1 / FWM 2 IPv6, keepalived dumps VS FWMARK = N and FWM N checkers', (t) => {
  const list = parseIpvsList(['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    'FWM  1 rr persistent 300', '  -> 198.18.0.21:0                Route   1      0          0', 'FWM  2 IPv6 wrr', '  -> [fd00:18:1::31]:0             Masq    2      0          0'].join('\n'));
  t.deepEqual([...list.keys()], ['FWM 1', 'FWM 2 IPv6']);
  t.is(list.get('FWM 1')!.persistent, 300);
  t.is(list.get('FWM 2 IPv6')!.scheduler, 'wrr');
  const stats = parseIpvsStats(['Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes', '  -> RemoteAddress:Port',
    'FWM  2 IPv6                              7       21        0     1200        0', '  -> [fd00:18:1::31]:0                     7       21        0     1200        0'].join('\n'));
  t.is(stats.get('FWM 2 IPv6')!.reals.get('[fd00:18:1::31]:0')!.conns, 7);
  t.is(serviceKey({ protocol: 'TCP', vip: '198.18.0.102', port: 80, fwmark: 1 }), 'FWM 1');
  t.is(serviceKey({ protocol: 'TCP', vip: 'fd00:18::112', port: 80, fwmark: 2 }), 'FWM 2 IPv6');
  const dump = parseKeepalivedDump(['@@kcheck', '------< LVS Topology >------', ' VS FWMARK = 1', '   Address family = inet', '   lvs_sched = rr', '   RIP = 198.18.0.21, RPORT = 0, WEIGHT = 1', '     alive = yes',
    ' VS FWMARK = 2', '   Address family = inet6', '   lvs_sched = wrr', '   RIP = fd00:18:1::31, RPORT = 0, WEIGHT = 2', '     alive = no',
    '------< Health checkers >------', ' FWM 1 -> [198.18.0.21]:tcp:0', '   Keepalive method = HTTP_GET', '   Up = yes', '   Has run = yes',
    ' FWM 2 -> [fd00:18:1::31]:tcp:0', '   Keepalive method = TCP_CHECK', '   Up = no', '   Has run = yes', '@@kvrrp'].join('\n'));
  t.deepEqual(dump.virtuals.map((v) => [v.key, v.scheduler, v.reals.map((r) => `${r.address}:${r.port} ${r.alive}`)]), [['FWM 1', 'rr', ['198.18.0.21:0 true']], ['FWM 2 IPv6', 'wrr', ['fd00:18:1::31:0 false']]]);
  // keepalived's checker header says FWM 2 for an IPv6 mark too: named as ipvsadm names it, the real server bracketed
  t.deepEqual(dump.checkers.map((c) => [c.service, c.real, c.up, c.method]), [['FWM 1', '198.18.0.21:0', true, 'HTTP_GET'], ['FWM 2 IPv6', '[fd00:18:1::31]:0', false, 'TCP_CHECK']]);
});

test('targets: the lab\'s web-fwmark is probed on 80 and 443, its record names it VIP:80,443', (t) => {
  const w = serviceTargets(lab).find((x) => x.name === 'web-fwmark')!;
  t.like(w, { fwmark: 1, ports: [80, 443], port: 80, persistence: 300, kind: 'DR', directors: ['dir1', 'dir2'] });
  t.deepEqual(w.backends.map((b) => `${b.label} ${b.address}:${b.port}`), ['rs1 198.18.0.21:0', 'rs2 198.18.0.22:0']);
  t.is(targetAddress(w), '198.18.0.102:80,443');
  t.deepEqual(parseProbeLine('P 2 1000 3 ok rs1 40002 443'), { seq: 2, t: 1000, ms: 3, ok: true, info: 'rs1', port: 40002, dport: 443 });
  t.is(parseProbeLine('P 2 1000 3 ok rs1 40002')!.dport, undefined);
  // several ports need node on the vantage host (curl's fallback probes one URL)
  t.regex(probeScript({ host: '198.18.0.102', port: 80, ports: [80, 443], http: true, path: '/', count: 4, intervalMs: 0, timeoutMs: 500, concurrency: 1, maxMs: 9000 }), /NOPROBER the vantage host has no node \(needed for probing several ports\)/);
});

test('the probe program probes the ports in turn and prints each probe\'s port (real node, loopback servers)', async (t) => {
  const servers: Server[] = [];
  const listen = (name: string) => new Promise<number>((resolve) => {
    const s = createServer((c) => c.end(`HTTP/1.0 200 OK\r\n\r\n${name}\n`));
    servers.push(s);
    s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port));
  });
  const [a, b] = [await listen('rs1'), await listen('rs2')];
  try {
    const script = nodeProbeScript({ host: '127.0.0.1', port: a, ports: [a, b], http: true, path: '/', count: 4, intervalMs: 0, timeoutMs: 2000, concurrency: 1, maxMs: 10000 });
    const out = await new Promise<string>((resolve, reject) => {
      import('node:child_process').then(({ exec }) => exec(script, { shell: '/bin/sh' }, (e, stdout) => (e ? reject(e) : resolve(stdout))));
    });
    const probes = parseNodeProbeOutput(out).probes;
    t.deepEqual(probes.map((p) => `${p.dport} ${p.info}`), [`${a} rs1`, `${b} rs2`, `${a} rs1`, `${b} rs2`]);
  } finally {
    for (const s of servers) s.close();
  }
});

// --- the record of a fwmark service, from recorded outputs
const VIP = '198.18.0.102';
const fwJob = (persistence?: number): VerifyJob => ({
  vantage: 'client',
  http: true,
  check: services({ probes: 40 }),
  target: {
    name: 'web-fwmark', kind: 'DR', vip: VIP, port: 80, fwmark: 1, ports: [80, 443], protocol: 'TCP', scheduler: 'rr', healthCheck: 'HTTP_GET',
    ...(persistence ? { persistence } : {}),
    backends: [
      { label: 'rs1', host: 'rs1', address: '198.18.0.21', port: 0, weight: 1 },
      { label: 'rs2', host: 'rs2', address: '198.18.0.22', port: 0, weight: 1 },
    ],
    directors: ['dir1'],
  },
});

function fwSnapshot(counts: [number, number], persistence?: number) {
  const addr = JSON.stringify([{ ifname: 'eth1', flags: ['UP', 'LOWER_UP'], addr_info: [{ family: 'inet', local: '198.18.0.11', prefixlen: 24 }, { family: 'inet', local: VIP, prefixlen: 32 }] }]);
  return parseSnapshot('dir1', [
    '@@addr', addr,
    '@@list', 'Prot LocalAddress:Port Scheduler Flags', `FWM  1 rr${persistence ? ` persistent ${persistence}` : ''}`,
    '  -> 198.18.0.21:0                Route   1      0          0', '  -> 198.18.0.22:0                Route   1      0          0',
    '@@stats', 'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes', `FWM  1 ${counts[0] + counts[1]} 0 0 0 0`,
    `  -> 198.18.0.21:0 ${counts[0]} 0 0 0 0`, `  -> 198.18.0.22:0 ${counts[1]} 0 0 0 0`,
  ].join('\n') + '\n', 0);
}

/** 40 probes alternating 80/443: `who(port, i)` answers (null: refused). */
function fwRun(who: (port: number, i: number) => string | null) {
  const lines = ['START 1000 42', ...Array.from({ length: 40 }, (_, i) => {
    const port = i % 2 ? 443 : 80;
    const b = who(port, i);
    return b === null ? `P ${i + 1} ${1000 + i} 1 fail ECONNREFUSED ${40000 + i} ${port}` : `P ${i + 1} ${1000 + i} 1 ok ${b} ${40000 + i} ${port}`;
  }), 'END 2000'];
  return parseNodeProbeOutput(lines.join('\n'));
}

test('record: a healthy fwmark service passes with both ports answered, and carries fwmark, family, protocol and ports', (t) => {
  const before = new Map([['dir1', fwSnapshot([0, 0])]]);
  const after = new Map([['dir1', fwSnapshot([20, 20])]]);
  const r = buildRecord({ job: fwJob(), run: fwRun((_, i) => (Math.floor(i / 2) % 2 ? 'rs2' : 'rs1')), before, after });
  t.true(r.pass, r.reasons?.join('; '));
  t.like(r, { vip: '198.18.0.102:80,443', fwmark: 1, family: 4, protocol: 'TCP', master: 'dir1' });
  t.deepEqual(r.ports, [{ port: 80, probes: 20, failed: 0, backends: { rs1: 10, rs2: 10 } }, { port: 443, probes: 20, failed: 0, backends: { rs1: 10, rs2: 10 } }]);
  t.regex(r.notes!.join('\n'), /fwmark 1, ports 80: rs1 10, rs2 10; 443: rs1 10, rs2 10/);
  t.regex(formatVerifyRecord(r), /VERIFY web-fwmark \(198\.18\.0\.102:80,443, fwmark 1, rr, shares/);
});

test('record: a port whose packets are not marked (every probe refused) fails the service, naming the port', (t) => {
  const before = new Map([['dir1', fwSnapshot([0, 0])]]);
  const after = new Map([['dir1', fwSnapshot([10, 10])]]);
  const r = buildRecord({ job: fwJob(), run: fwRun((port, i) => (port === 443 ? null : Math.floor(i / 2) % 2 ? 'rs2' : 'rs1')), before, after });
  t.false(r.pass);
  t.regex(r.reasons!.join('\n'), /fwmark 1: none of the 20 probes to port 443 was answered \(its packets are not marked 1 on the director holding 198\.18\.0\.102/);
  // one 443 probe reused a client port with an old IPVS entry of 443 (forwarded on it): the port still fails
  const one = buildRecord({ job: fwJob(), run: fwRun((port, i) => (port === 443 ? (i === 1 ? 'rs2' : null) : Math.floor(i / 2) % 2 ? 'rs2' : 'rs1')), before, after });
  t.false(one.pass);
  t.regex(one.reasons!.join('\n'), /fwmark 1: only 1 of the 20 probes to port 443 were answered/);
});

test('record: persistence spans the ports (one client, one real server); a split across ports fails', (t) => {
  const before = new Map([['dir1', fwSnapshot([0, 0], 300)]]);
  const sticky = buildRecord({ job: fwJob(300), run: fwRun(() => 'rs2'), before, after: new Map([['dir1', fwSnapshot([0, 40], 300)]]) });
  t.true(sticky.pass, sticky.reasons?.join('; '));
  t.is(sticky.rule, 'sticky');
  const split = buildRecord({ job: fwJob(300), run: fwRun((port) => (port === 80 ? 'rs1' : 'rs2')), before, after: new Map([['dir1', fwSnapshot([20, 20], 300)]]) });
  t.false(split.pass);
  t.regex(split.reasons!.join('\n'), /persistence 300s does not span the ports of fwmark 1: port 80 → rs1, port 443 → rs2/);
});

test('the awk filter keeps a fwmark service\'s entries of every probed port', (t) => {
  const text = ['IPVS connection entries', 'pro expire state       source             virtual            destination',
    'TCP 01:58  FIN_WAIT    198.18.0.10:40000  198.18.0.102:80    198.18.0.21:80', 'TCP 01:58  FIN_WAIT    198.18.0.10:40001  198.18.0.102:443   198.18.0.21:443',
    'TCP 01:58  FIN_WAIT    198.18.0.10:40002  198.18.0.102:22    198.18.0.21:22'].join('\n') + '\n';
  return import('../../src/verify/conn-entries.ts').then(({ connEntriesFilter, parseConnEntries, throughDirectors }) => {
    const out = execFileSync('sh', ['-c', connEntriesFilter([{ protocol: 'TCP', vip: VIP, ports: [80, 443], clientPorts: [40000, 40001, 40002] }])], { input: text, encoding: 'utf8' });
    const got = parseConnEntries(out);
    t.deepEqual(got.map((e) => e.virtual), ['198.18.0.102:80', '198.18.0.102:443']);
    t.is(throughDirectors([40000, 40001], ['198.18.0.102:80', '198.18.0.102:443'], '198.18.0.21:0', [got]), 2);
    t.is(throughDirectors([40000, 40001], ['198.18.0.102:80', '198.18.0.102:443'], '198.18.0.22:0', [got]), 0);
  });
});

test('drill realservers leaves the fwmark service out, and refuses it by name (one server per port on each real server)', async (t) => {
  const { planRealservers } = await import('../../src/drill/realservers.ts');
  t.false(planRealservers(lab, { serial: '1' }).targets.some((x) => x.name === 'web-fwmark'));
  t.throws(() => planRealservers(lab, { serial: '1', only: ['web-fwmark'] }), { message: /drill realservers: web-fwmark is a fwmark service \(ports 80, 443\).*lvsplay drain \/ undrain/ });
});
