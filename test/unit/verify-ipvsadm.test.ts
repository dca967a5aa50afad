import test from 'ava';
import { connDeltas, parseIpvsList, parseIpvsStats, serviceKey } from '../../src/verify/ipvsadm.ts';

const LIST = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  198.18.0.100:80 rr
  -> 198.18.0.21:80               Route   1      0          3
  -> 198.18.0.22:80               Route   1      2          4
TCP  198.18.0.101:80 wrr persistent 300
  -> 198.18.1.31:8080             Masq    2      0          0
UDP  198.18.0.102:53 rr
FWM  7 rr
  -> 198.18.0.23:0                Route   1      0          0
`;

const STATS0 = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  198.18.0.100:80                    10       60        0     4040        0
  -> 198.18.0.21:80                      5       30        0     2020        0
  -> 198.18.0.22:80                      5       30        0     2020        0
`;
const STATS1 = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  198.18.0.100:80                   110      660        0    44440        0
  -> 198.18.0.21:80                     55      330        0    22220        0
  -> 198.18.0.22:80                     55      330        0    22220        0
  -> 198.18.0.23:80                      7       42        0     2828        0
`;

test('parseIpvsList: scheduler, persistence, weights and connections', (t) => {
  const m = parseIpvsList(LIST);
  t.deepEqual([...m.keys()], ['TCP 198.18.0.100:80', 'TCP 198.18.0.101:80', 'UDP 198.18.0.102:53', 'FWM 7']);
  const s = m.get(serviceKey({ protocol: 'tcp', vip: '198.18.0.100', port: 80 }))!;
  t.is(s.scheduler, 'rr');
  t.is(s.persistent, undefined);
  t.deepEqual(s.reals.get('198.18.0.22:80'), { forward: 'Route', weight: 1, active: 2, inactive: 4 });
  const p = m.get('TCP 198.18.0.101:80')!;
  t.is(p.scheduler, 'wrr');
  t.is(p.persistent, 300);
  t.is(p.reals.get('198.18.1.31:8080')!.weight, 2);
  t.is(m.get('UDP 198.18.0.102:53')!.reals.size, 0);
});

test('parseIpvsList rejects what it does not understand', (t) => {
  t.throws(() => parseIpvsList('TCP  1.2.3.4:80 rr\nsomething else\n'), { message: /cannot parse ipvsadm -Ln line/ });
});

test('parseIpvsStats and connDeltas: new connections per real server, a new real server counts from 0', (t) => {
  const a = parseIpvsStats(STATS0).get('TCP 198.18.0.100:80')!;
  const b = parseIpvsStats(STATS1).get('TCP 198.18.0.100:80')!;
  t.is(b.total.conns, 110);
  t.is(b.reals.get('198.18.0.21:80')!.inBytes, 22220);
  const d = connDeltas(a, b);
  t.deepEqual(Object.fromEntries(d), { '198.18.0.21:80': 50, '198.18.0.22:80': 50, '198.18.0.23:80': 7 });
  // counters reset (service re-created): count from zero rather than going negative
  t.deepEqual(Object.fromEntries(connDeltas(b, a)), { '198.18.0.21:80': 5, '198.18.0.22:80': 5 });
  t.is(connDeltas(a, undefined).size, 0);
});

test('parseIpvsStats refuses K/M suffixes (needs --exact)', (t) => {
  t.throws(() => parseIpvsStats('TCP  1.2.3.4:80  10K 1 0 1 0\n'), { message: /--exact/ });
});

// ipvsadm prints an IPv6 service and real server in brackets, the port after them (print_service_entry)
const LIST6 = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  [fd00:18::100]:80 rr
  -> [fd00:18::21]:80             Route   1      0          3
  -> [fd00:18::22]:80             Route   2      1          0
TCP  198.18.0.100:80 rr
  -> 198.18.0.21:80               Route   1      0          0
`;
const STATS6 = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  [fd00:18::100]:80                  12       72        0     4848        0
  -> [fd00:18::21]:80                    6       36        0     2424        0
  -> [fd00:18::22]:80                    6       36        0     2424        0
`;

test('parseIpvsList/parseIpvsStats: IPv6 services and real servers ([fd00::..]:port), keyed by serviceKey and hostPort', (t) => {
  const m = parseIpvsList(LIST6);
  t.is(serviceKey({ protocol: 'tcp', vip: 'fd00:18::100', port: 80 }), 'TCP [fd00:18::100]:80');
  const s = m.get(serviceKey({ protocol: 'tcp', vip: 'fd00:18::100', port: 80 }))!;
  t.is(s.scheduler, 'rr');
  t.deepEqual([...s.reals.keys()], ['[fd00:18::21]:80', '[fd00:18::22]:80']);
  t.deepEqual(s.reals.get('[fd00:18::22]:80'), { forward: 'Route', weight: 2, active: 1, inactive: 0 });
  t.truthy(m.get('TCP 198.18.0.100:80'), 'IPv4 services of the same table still parse');
  const st = parseIpvsStats(STATS6).get('TCP [fd00:18::100]:80')!;
  t.is(st.total.conns, 12);
  t.deepEqual([...connDeltas(undefined, st)], [['[fd00:18::21]:80', 6], ['[fd00:18::22]:80', 6]]);
});
