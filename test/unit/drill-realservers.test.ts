import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { planRealservers, setWeightScript, startFromSavedScript, stopByPidfileScript } from '../../src/drill/realservers.ts';
import { planFailover } from '../../src/drill/failover.ts';
import { formatFailover, formatRealservers } from '../../src/drill/report.ts';
import { loadInventory } from '../../src/inventory/index.ts';
import type { ServiceTarget } from '../../src/verify/targets.ts';

const sh = (script: string) => spawnSync('/bin/sh', ['-s'], { input: script, encoding: 'utf8' });
const alive = (pid: number) => sh(`kill -0 ${pid} 2>/dev/null && echo yes`).stdout.trim() === 'yes';

test('a pidfile daemon is stopped and started again with the same command line', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-drill-rs-'));
  const pidfile = join(dir, 'web.pid');
  const saved = join(dir, 'web.cmdline');
  const pids: number[] = [];
  t.teardown(() => {
    for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const start = sh(`setsid sleep 3999 </dev/null >/dev/null 2>&1 & echo $! > ${pidfile}; cat ${pidfile}`);
  const first = Number(start.stdout.trim());
  pids.push(first);
  t.true(alive(first));
  const stop = sh(stopByPidfileScript(pidfile, saved));
  t.is(stop.status, 0, stop.stderr);
  t.false(alive(first));
  t.is(readFileSync(saved, 'utf8'), 'sleep\n3999\n');
  const again = sh(startFromSavedScript(pidfile, saved));
  t.is(again.status, 0, again.stderr);
  const second = Number(readFileSync(pidfile, 'utf8').trim());
  pids.push(second);
  t.not(second, first);
  t.true(alive(second));
  t.is(readFileSync(`/proc/${second}/cmdline`, 'utf8'), 'sleep\u00003999\u0000');
  t.false(existsSync(saved));
  // no pidfile: exit 3, the drill then blocks the port instead
  writeFileSync(pidfile, '');
  t.is(sh(stopByPidfileScript(join(dir, 'none.pid'), saved)).status, 3);
});

test('setWeightScript edits the real server with the service\'s forwarding method only where it exists', (t) => {
  const target = { vip: '198.18.0.101', port: 80, protocol: 'TCP', kind: 'TUN' } as ServiceTarget;
  const s = setWeightScript(target, { label: 'rs1', host: 'rs1', address: '198.18.0.21', port: 80, weight: 1 }, 0);
  t.regex(s, /ipvsadm -Ln -t 198\.18\.0\.101:80 .*grep -q ' 198\\\.18\\\.0\\\.21:80 '/);
  t.regex(s, /ipvsadm -e -t 198\.18\.0\.101:80 -r 198\.18\.0\.21:80 -i -w 0/);
});

test('drills are validated before any host is touched', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-drill-plan-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'inv.yaml');
  writeFileSync(file, `all:
  children:
    clients: { hosts: { c1: {} } }
    directors:
      vars:
        lvs_services:
          - { name: web, vip: 198.18.0.100, port: 80, lb_kind: DR, real_servers: [{ host: rs1 }, { host: rs2 }] }
        lvs_vrrp:
          instances:
            - { name: VI_1, interface: eth1, virtual_router_id: 51, priorities: { d1: 150, d2: 100 }, vips: [198.18.0.100/32] }
      hosts:
        d1: { ansible_host: 198.18.0.11, lab_nics: [{ name: eth1, address: 198.18.0.11/24 }] }
        d2: { ansible_host: 198.19.0.12, lab_nics: [{ name: eth1, address: 198.18.0.12/24 }, { name: eth0, address: 198.19.0.12/24 }] }
    rs: { hosts: { rs1: { lab_nics: [{ name: eth1, address: 198.18.0.21/24 }] }, rs2: { lab_nics: [{ name: eth1, address: 198.18.0.22/24 }] } } }
`);
  const inv = loadInventory(file);
  t.deepEqual(planFailover(inv, { mode: 'stop' }).pairs.map((p) => [p.instance, p.members.map((m) => m.host)]), [['VI_1', ['d1', 'd2']]]);
  t.is(planFailover(inv, { mode: 'stop' }).vantage, 'c1');
  t.throws(() => planFailover(inv, { mode: 'linkdown' }), { message: /d1 is managed over eth1 .* the link the drill would put down/ });
  t.throws(() => planFailover(inv, { mode: 'stop', only: ['VI_9'] }), { message: /no VRRP instance "VI_9"/ });
  t.throws(() => planFailover(inv, { mode: 'stop', from: 'nobody' }), { message: /--from nobody matches no host/ });
  t.deepEqual(planRealservers(inv, { serial: '1' }).targets.map((x) => x.name), ['web']);
  t.throws(() => planRealservers(inv, { serial: '100%' }), { message: /would take all 2 real servers of web out at once/ });
  t.throws(() => planRealservers(inv, { serial: 'many' }), { message: /--serial/ });
});

test('drill tables show the numbers and the verdicts', (t) => {
  const f = formatFailover([
    {
      instance: 'VI_1', vip: '198.18.0.100', mode: 'stop', master: 'dir1', backups: ['dir2'], nopreempt: false, probed: '198.18.0.100:80', vantage: 'client', pass: false,
      reasons: ['15 probes lost (max 0)'], notes: [],
      analysis: {
        takeoverMs: 1890, newMaster: 'dir2', releasedMs: 1260, preemptBackMs: 7990, splitBrain: [], splitBrainMs: 0, noHolderMs: 630,
        baseline: { sent: 56, ok: 56, failed: 0, longestGapMs: 60, errors: {}, backends: { rs1: 28, rs2: 28 } },
        fault: { sent: 86, ok: 72, failed: 14, longestGapMs: 758, errors: { timeout: 14 }, backends: {} },
        restore: { sent: 150, ok: 149, failed: 1, longestGapMs: 90, errors: { ECONNRESET: 1 }, backends: {} },
        lost: 15, longestGapMs: 758,
      },
    },
  ]);
  t.regex(f, /VI_1 +198\.18\.0\.100 +stop +dir1→dir2 +1\.89s +15 +758ms +no +7\.99s +FAIL/);
  t.regex(f, /FAIL VI_1: 15 probes lost \(max 0\)/);
  const r = formatRealservers([{ service: 'web-dr', backend: 'rs1', batch: 1, drainedMs: 1200, stoppedBy: 'pidfile /run/x.pid', removedMs: 9990, rejoinedMs: 21210, answeredMs: 21300, pass: true, reasons: [], notes: [], probes: { sent: 975, ok: 975, failed: 0, longestGapMs: 80, errors: {}, backends: {} } }]);
  t.regex(r, /web-dr +rs1 +1 +1\.20s +pidfile \/run\/x\.pid +9\.99s +21\.21s +21\.30s +975 +0 +PASS/);
  t.notRegex(r, /note/);
  const note = 'dir1: net.ipv4.vs.expire_nodest_conn is 0: …';
  const two = formatRealservers(['rs1', 'rs2'].map((b) => ({ service: 'web-dr', backend: b, batch: 1, pass: false, reasons: ['2 probes failed'], notes: [note] })));
  t.regex(two, /FAIL web-dr\/rs1: 2 probes failed\n  FAIL web-dr\/rs2: 2 probes failed\n  note web-dr: dir1: net\.ipv4\.vs\.expire_nodest_conn is 0: …$/, 'a note shared by the rows of a service is printed once');
});
