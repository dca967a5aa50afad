/**
 * keepalived's data dump (recorded on the VM lab with rs1's web server killed) and the drift step on a
 * keepalived-managed director: what keepalived would not fix is planned, a server failing its check is not re-added.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { ipvsKeepalived } from '../../src/steps/index.ts';
import { parseKeepalivedDump, checkerOf, describeChecker } from '../../src/facts/keepalived-dump.ts';
import { planWith } from './steps-harness.ts';
import { PredictedState } from '../../src/engine/predicted-state.ts';

const checkData = readFileSync(new URL('../fixtures/keepalived/dir1-check.data', import.meta.url), 'utf8');
const vrrpData = readFileSync(new URL('../fixtures/keepalived/dir1-vrrp.data', import.meta.url), 'utf8');
const dump = `@@kcheck\n${checkData}\n@@kvrrp\n${vrrpData}\n`;
const table = (rules: string) => `@@rules\n${rules}\n@@timeouts\nTimeout (tcp tcpfin udp): 900 30 300\n`;

test('keepalived dump: virtual and real servers with alive and weights, checkers with type and URL, VRRP states', (t) => {
  const d = parseKeepalivedDump(dump);
  t.true(d.running);
  t.is(d.error, undefined);
  t.deepEqual(d.virtuals.map((v) => `${v.key} ${v.scheduler} ${v.reals.map((r) => `${r.address}:${r.port}/${r.weight}/${r.effectiveWeight}/${r.alive ? 'up' : 'down'}`).join(',')}`), [
    'TCP 198.18.0.110:80 rr 198.18.1.31:8080/1/1/up,198.18.1.32:8080/1/1/up',
    'TCP 198.18.0.100:80 rr 198.18.0.21:80/1/1/down,198.18.0.22:80/1/1/up',
    'TCP 198.18.0.101:80 wrr 198.18.0.21:80/1/1/down,198.18.0.22:80/2/2/up',
  ]);
  const ck = checkerOf(d, 'TCP 198.18.0.100:80', '198.18.0.21:80')!;
  t.like(ck, { up: false, hasRun: true, method: 'HTTP_GET', url: '/healthz', dest: '198.18.0.21:80' });
  t.is(describeChecker(ck), 'HTTP_GET http://198.18.0.21:80/healthz');
  t.is(describeChecker(checkerOf(d, 'TCP 198.18.0.101:80', '198.18.0.21:80')!), 'TCP_CHECK connect 198.18.0.21:80');
  t.deepEqual(d.vrrp.map((i) => [i.name, i.state]), [['VI_1', 'MASTER'], ['VI_2', 'BACKUP']]);
  t.true(d.vrrp[0]!.lastTransition! > 1.7e9);
  t.deepEqual(d.vrrp.map((i) => i.vips), [['198.18.0.100', '198.18.0.110', '198.18.1.1'], ['198.18.0.101']]);
  t.deepEqual(parseKeepalivedDump('@@kdown\n'), { running: false, virtuals: [], checkers: [], vrrp: [] });
  t.regex(parseKeepalivedDump('@@kcheck\n@@kvrrp\n').error!, /no data dump/);
});

const services = [
  { protocol: 'tcp' as const, address: '198.18.0.110', port: 80, scheduler: 'rr' as const, realServers: [{ address: '198.18.1.31', port: 8080, method: 'nat' as const, weight: 1 }, { address: '198.18.1.32', port: 8080, method: 'nat' as const, weight: 1 }] },
  { protocol: 'tcp' as const, address: '198.18.0.100', port: 80, scheduler: 'rr' as const, realServers: [{ address: '198.18.0.21', port: 80, method: 'dr' as const, weight: 1 }, { address: '198.18.0.22', port: 80, method: 'dr' as const, weight: 1 }] },
  { protocol: 'tcp' as const, address: '198.18.0.101', port: 80, scheduler: 'wrr' as const, realServers: [{ address: '198.18.0.21', port: 80, method: 'tun' as const, weight: 1 }, { address: '198.18.0.22', port: 80, method: 'tun' as const, weight: 2 }] },
];
const step = () => ipvsKeepalived({ services, configPath: '/etc/keepalived/keepalived.conf' });
// the live table keepalived built: rs1 out of web-dr and web-tun (its checks fail)
const LIVE = [
  '-A -t 198.18.0.110:80 -s rr', '-a -t 198.18.0.110:80 -r 198.18.1.31:8080 -m -w 1', '-a -t 198.18.0.110:80 -r 198.18.1.32:8080 -m -w 1',
  '-A -t 198.18.0.100:80 -s rr', '-a -t 198.18.0.100:80 -r 198.18.0.22:80 -g -w 1',
  '-A -t 198.18.0.101:80 -s wrr', '-a -t 198.18.0.101:80 -r 198.18.0.22:80 -i -w 2',
];

test('converged with a failing server: no change, and the failing server is a warning, never re-added', (t) => {
  const p = planWith(step(), { ipvs: table(LIVE.join('\n')), 'keepalived-dump': dump });
  t.deepEqual(p.changes, []);
  t.deepEqual(p.warnings, [
    '198.18.0.21:80 of tcp 198.18.0.100:80 fails its health check (HTTP_GET http://198.18.0.21:80/healthz): not re-added',
    '198.18.0.21:80 of tcp 198.18.0.101:80 fails its health check (TCP_CHECK connect 198.18.0.21:80): not re-added',
  ]);
});

test('drift keepalived would not fix: a weight set behind its back, a missing healthy server, strays, a scheduler', (t) => {
  const drifted = LIVE.map((l) => l.replace('-r 198.18.0.22:80 -g -w 1', '-r 198.18.0.22:80 -g -w 0').replace('-r 198.18.1.32:8080 -m -w 1', 'X').replace('198.18.0.110:80 -s rr', '198.18.0.110:80 -s wlc'))
    .filter((l) => !l.endsWith('X'))
    .concat(['-a -t 198.18.0.100:80 -r 198.18.0.23:80 -g -w 1', '-A -t 198.18.0.200:80 -s rr']);
  const p = planWith(step(), { ipvs: table(drifted.join('\n')), 'keepalived-dump': dump });
  t.deepEqual(p.changes.map((c) => c.summary), [
    'tcp 198.18.0.110:80: options -s wlc → -s rr; add missing 198.18.1.32:8080 (nat, weight 1)',
    'tcp 198.18.0.100:80: edit 198.18.0.22:80 (dr/0 → dr/1); remove 198.18.0.23:80 (no configuration declares it)',
    'remove tcp 198.18.0.200:80 (no configuration declares it)',
  ]);
  t.deepEqual(p.changes.map((c) => c.script), [
    'ipvsadm -E -t 198.18.0.110:80 -s rr\nipvsadm -a -t 198.18.0.110:80 -r 198.18.1.32:8080 -m -w 1',
    'ipvsadm -e -t 198.18.0.100:80 -r 198.18.0.22:80 -g -w 1\nipvsadm -d -t 198.18.0.100:80 -r 198.18.0.23:80',
    'ipvsadm -D -t 198.18.0.200:80',
  ]);
});

test('skipped while keepalived is not running or its configuration changes in this run', (t) => {
  t.regex(planWith(step(), { ipvs: table(''), 'keepalived-dump': '@@kdown\n' }).skipped!, /keepalived is not running/);
  const state = new PredictedState();
  state.file('/etc/keepalived/keepalived.conf').set('new');
  t.regex(planWith(step(), { ipvs: table(''), 'keepalived-dump': dump }, state).skipped!, /changes in this run: keepalived's reload converges the table/);
});
