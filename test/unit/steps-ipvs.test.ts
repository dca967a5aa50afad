import test from 'ava';
import { ValidationError } from '../../src/errors.ts';
import { ipvs, kernelModule } from '../../src/steps/index.ts';
import { planWith, rawAbsent, rawFile, rawTools } from './steps-harness.ts';
import { PredictedState } from '../../src/engine/predicted-state.ts';

const invalid = (t: import('ava').ExecutionContext, fn: () => unknown, re: RegExp) => {
  const e = t.throws(fn, { instanceOf: ValidationError });
  t.regex(e!.toString(), re);
};
const table = (rules: string, timeouts = '900 120 300') => `@@rules\n${rules}\n@@timeouts\nTimeout (tcp tcpfin udp): ${timeouts}\n`;

const web = {
  protocol: 'tcp' as const,
  address: '10.0.10.100',
  port: 80,
  scheduler: 'wrr' as const,
  realServers: [
    { address: '10.0.20.11', port: 8080, method: 'nat' as const, weight: 2 },
    { address: '10.0.20.12', port: 8080, method: 'nat' as const },
  ],
};
const WEB_SAVED = `-A -t 10.0.10.100:80 -s wrr
-a -t 10.0.10.100:80 -r 10.0.20.11:8080 -m -w 2
-a -t 10.0.10.100:80 -r 10.0.20.12:8080 -m -w 1`;

test('ipvs: empty table → add service with its real servers; converged → no change', (t) => {
  const s = ipvs({ services: [web] });
  const p = planWith(s, { ipvs: table('') });
  t.deepEqual(p.changes.map((c) => c.summary), ['add tcp 10.0.10.100:80 (wrr) with 2 real server(s)']);
  t.is(p.changes[0]!.script, ['ipvsadm -A -t 10.0.10.100:80 -s wrr', 'ipvsadm -a -t 10.0.10.100:80 -r 10.0.20.11:8080 -m -w 2', 'ipvsadm -a -t 10.0.10.100:80 -r 10.0.20.12:8080 -m -w 1'].join('\n'));
  t.deepEqual(planWith(s, { ipvs: table(WEB_SAVED) }).changes, []);
});

test('ipvs: a real server whose port changed is added and the stale RIP:port removed', (t) => {
  const moved = { ...web, realServers: [web.realServers[0]!, { address: '10.0.20.12', port: 8081, method: 'nat' as const }] };
  const p = planWith(ipvs({ services: [moved] }), { ipvs: table(WEB_SAVED) });
  t.is(p.changes.length, 1);
  t.is(p.changes[0]!.script, 'ipvsadm -a -t 10.0.10.100:80 -r 10.0.20.12:8081 -m -w 1\nipvsadm -d -t 10.0.10.100:80 -r 10.0.20.12:8080');
  t.regex(p.changes[0]!.summary, /add 10\.0\.20\.12:8081 .*remove stale 10\.0\.20\.12:8080/);
});

test('ipvs: edit scheduler/persistence and weights/method; remove undesired services (prune)', (t) => {
  const want = { ...web, scheduler: 'rr' as const, persistent: 300, realServers: [{ ...web.realServers[0]!, weight: 5 }, web.realServers[1]!] };
  const p = planWith(ipvs({ services: [want] }), { ipvs: table(`${WEB_SAVED}\n-A -u 10.0.10.100:53 -s rr\n-a -u 10.0.10.100:53 -r 10.0.20.11:53 -m -w 1`) });
  t.deepEqual(p.changes.map((c) => c.script), [
    'ipvsadm -E -t 10.0.10.100:80 -s rr -p 300\nipvsadm -e -t 10.0.10.100:80 -r 10.0.20.11:8080 -m -w 5',
    'ipvsadm -D -u 10.0.10.100:53',
  ]);
  const keep = planWith(ipvs({ services: [web], prune: false }), { ipvs: table(`${WEB_SAVED}\n-A -u 10.0.10.100:53 -s rr`) });
  t.deepEqual(keep.changes, []);
});

test('ipvs: DR, fwmark, IPv6 and flags round-trip against the -Sn format', (t) => {
  const s = ipvs({
    services: [
      { address: '10.0.10.101', port: 443, scheduler: 'sh', schedFlags: ['sh-port', 'sh-fallback'], persistent: 300, netmask: '255.255.255.0', realServers: [{ address: '10.0.20.11', method: 'dr' }] },
      { fwmark: 7, scheduler: 'lc', realServers: [{ address: '10.0.20.13', method: 'dr', weight: 0 }] },
      { protocol: 'udp', address: 'fd00::100', port: 53, scheduler: 'rr', onePacket: true, realServers: [{ address: 'FD00::11', method: 'tun' }] },
    ],
  });
  const saved = `-A -t 10.0.10.101:443 -s sh -p 300 -M 255.255.255.0 -b sh-fallback,sh-port
-a -t 10.0.10.101:443 -r 10.0.20.11:443 -g -w 1
-A -u [fd00::100]:53 -s rr -o
-a -u [fd00::100]:53 -r [fd00::11]:53 -i -w 1
-A -f 7 -s lc
-a -f 7 -r 10.0.20.13:0 -g -w 0`;
  t.deepEqual(planWith(s, { ipvs: table(saved) }).changes, []);
  const fresh = planWith(s, { ipvs: table('') });
  t.is(fresh.changes[2]!.script, "ipvsadm -A -u '[fd00::100]:53' -s rr -o\nipvsadm -a -u '[fd00::100]:53' -r '[fd00::11]:53' -i -w 1");
  t.is(fresh.changes[1]!.script, 'ipvsadm -A -f 7 -s lc\nipvsadm -a -f 7 -r 10.0.20.13 -g -w 0');
});

test('ipvs: DR/TUN port mapping is refused before anything is touched', (t) => {
  invalid(t, () => ipvs({ services: [{ address: '10.0.10.100', port: 80, realServers: [{ address: '10.0.20.11', port: 8080, method: 'dr' }] }] }), /services\[0\]\.realServers\[0\]: method dr cannot map port 80 to 8080[\s\S]*fix: use port 80 on the real server, or method 'nat'/);
  invalid(t, () => ipvs({ services: [{ address: '10.0.10.100', port: 80, realServers: [{ address: '10.0.20.11', port: 8080, method: 'tun' }] }] }), /method tun cannot map/);
  invalid(t, () => ipvs({ services: [web, web] }), /listed twice/);
  invalid(t, () => ipvs({ services: [{ ...web, scheduler: 'fastest' as never }] }), /option "services.0.scheduler"/);
  invalid(t, () => ipvs({ services: [{ ...web, realServers: [{ address: 'fd00::1', method: 'nat' }] }] }), /not of the service's address family/);
  invalid(t, () => ipvs({ services: [{ address: '10.0.10.100', realServers: [] }] }), /a port \(1-65535\) is required/);
  invalid(t, () => ipvs({ services: [{ ...web, weight: 3 } as never] }), /unknown option "services.0.weight"/);
});

test('ipvs: no IPVS in the kernel fails unless ip_vs is loaded by an earlier step; timeouts', (t) => {
  const noKernel = "@@error 1\nCan't initialize ipvs: Protocol not available\n";
  const s = ipvs({ services: [web], timeouts: { tcpfin: 30 } });
  t.throws(() => planWith(s, { ipvs: noKernel }), { message: /kernel has no IPVS[\s\S]*kernelModule\('ip_vs'\)/ });
  t.throws(() => planWith(s, { ipvs: '@@notool\n' }), { message: /ipvsadm is not installed/ });
  const state = new PredictedState();
  planWith(kernelModule('ip_vs', { persist: false }), { 'kmod:ip_vs': 'absent\n', 'host:tools': rawTools('modprobe') }, state);
  const p = planWith(s, { ipvs: noKernel }, state);
  t.deepEqual(p.changes.map((c) => c.summary), ['add tcp 10.0.10.100:80 (wrr) with 2 real server(s)', 'timeouts tcp - tcpfin 30 udp -']);
  t.is(p.changes[1]!.script, 'ipvsadm --set 0 30 0');
  t.deepEqual(planWith(s, { ipvs: table(WEB_SAVED, '900 30 300') }).changes, []);
});

test('ipvs: persist on Debian writes /etc/ipvsadm.rules and turns AUTO on; nothing when saved table matches', (t) => {
  const s = ipvs({ services: [web], persist: true });
  const debian = 'ID=debian\nVERSION_ID="12"\n';
  const defaults = rawFile('# ipvsadm\nAUTO="false"\nDAEMON="none"\n');
  const p = planWith(s, { ipvs: table(WEB_SAVED), 'host:os': debian, 'file:/etc/ipvsadm.rules': rawAbsent, 'file:/etc/sysconfig/ipvsadm': rawAbsent, 'file:/etc/default/ipvsadm': defaults });
  t.deepEqual(p.changes.map((c) => c.summary), ['save the table to /etc/ipvsadm.rules', 'restore IPVS rules at boot (AUTO="true" in /etc/default/ipvsadm)']);
  t.regex(p.changes[0]!.script, /\{ ipvsadm -Sn\n\} > "\$lvs_tmp"/);
  // saved file in another order still matches the live table
  const reordered = `-A -t 10.0.10.100:80 -s wrr\n-a -t 10.0.10.100:80 -r 10.0.20.12:8080 -m -w 1\n-a -t 10.0.10.100:80 -r 10.0.20.11:8080 -m -w 2\n`;
  const ok = planWith(s, { ipvs: table(WEB_SAVED), 'host:os': debian, 'file:/etc/ipvsadm.rules': rawFile(reordered), 'file:/etc/sysconfig/ipvsadm': rawAbsent, 'file:/etc/default/ipvsadm': rawFile('AUTO="true"\n') });
  t.deepEqual(ok.changes, []);
  // any table change re-saves
  const changed = planWith(s, { ipvs: table(''), 'host:os': debian, 'file:/etc/ipvsadm.rules': rawFile(reordered), 'file:/etc/sysconfig/ipvsadm': rawAbsent, 'file:/etc/default/ipvsadm': rawFile('AUTO="true"\n') });
  t.deepEqual(changed.changes.map((c) => c.summary), ['add tcp 10.0.10.100:80 (wrr) with 2 real server(s)', 'save the table to /etc/ipvsadm.rules']);
  const rh = planWith(s, { ipvs: table(WEB_SAVED), 'host:os': 'ID="rocky"\nID_LIKE="rhel centos fedora"\n', 'file:/etc/ipvsadm.rules': rawAbsent, 'file:/etc/sysconfig/ipvsadm': rawAbsent, 'file:/etc/default/ipvsadm': rawAbsent });
  t.deepEqual(rh.changes.map((c) => c.summary), ['save the table to /etc/sysconfig/ipvsadm']);
  t.deepEqual(rh.warnings, ['enable ipvsadm.service so that /etc/sysconfig/ipvsadm is restored at boot']);
  t.throws(() => planWith(s, { ipvs: table(WEB_SAVED), 'host:os': 'ID=alpine\n', 'file:/etc/ipvsadm.rules': rawAbsent, 'file:/etc/sysconfig/ipvsadm': rawAbsent, 'file:/etc/default/ipvsadm': rawAbsent }), { message: /do not know where alpine restores/ });
});
