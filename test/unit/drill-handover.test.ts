/** The planned handover's pieces that need no host: the scripts, the value written, the command's planning. */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handBackScript, handoverScript, planHandover } from '../../src/drill/handover.ts';
import { handoverFile, handoverValue } from '../../src/cluster/handover.ts';
import { UsageError } from '../../src/errors.ts';
import { handoverResetNote } from '../../src/drill/failover.ts';
import type { ServiceTarget } from '../../src/verify/targets.ts';

const pairs = [
  { instance: 'VI_1', vips: ['198.18.0.100'], nopreempt: false, members: [{ host: 'dir1', priority: 150 }, { host: 'dir2', priority: 100 }] },
  { instance: 'VI_2', vips: ['198.18.0.101'], nopreempt: true, members: [{ host: 'dir2', priority: 150 }, { host: 'dir1', priority: 100 }] },
];

test('handoverValue: -253 takes any priority to 1 (keepalived clamps); nopreempt instances go through FAULT (-254)', (t) => {
  t.is(handoverValue(false), -253);
  t.is(handoverValue(true), -254);
  t.is(handoverFile('VI_1'), '/etc/keepalived/handover/VI_1');
});

test('handoverScript refuses (exit 3) when keepalived does not track the file, writes the value when it does; handBackScript removes it', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'lvsplay-handover-'));
  const conf = join(root, 'keepalived');
  mkdirSync(conf);
  writeFileSync(join(conf, 'keepalived.conf'), 'vrrp_instance VI_1 {}\n');
  // run against a copy of the script whose paths point into the temp dir
  const rewrite = (s: string) => s.replaceAll('/etc/keepalived/handover', join(root, 'handover'));
  const sh = (s: string) => {
    try {
      return { code: 0, out: execFileSync('sh', ['-c', s], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
    } catch (e) {
      return { code: (e as { status: number }).status, out: String((e as { stderr: string }).stderr) };
    }
  };
  const untracked = sh(rewrite(handoverScript('VI_1', false, conf)));
  t.is(untracked.code, 3);
  t.regex(untracked.out, /keepalived does not track .*VI_1: converge the director with lvsplay run first/);
  mkdirSync(join(root, 'handover'));
  writeFileSync(join(conf, 'keepalived.conf'), `vrrp_track_file lvsplay_handover_VI_1 {\n  file "${join(root, 'handover', 'VI_1')}"\n}\n`);
  t.is(sh(rewrite(handoverScript('VI_1', false, conf))).code, 0);
  t.is(readFileSync(join(root, 'handover', 'VI_1'), 'utf8'), '-253\n');
  t.is(sh(rewrite(handBackScript('VI_1'))).code, 0);
  t.throws(() => readFileSync(join(root, 'handover', 'VI_1')));
});

test('planHandover: named instances, every instance for --back, unknown names and a --limit leaving out a member refused', (t) => {
  t.deepEqual(planHandover(pairs, ['VI_1'], { back: false }).map((p) => [p.instance, p.vip]), [['VI_1', '198.18.0.100']]);
  t.deepEqual(planHandover(pairs, [], { back: true }).map((p) => p.instance), ['VI_1', 'VI_2']);
  t.is(planHandover(pairs, ['VI_2'], { back: false })[0]!.nopreempt, true);
  t.throws(() => planHandover(pairs, [], { back: false }), { instanceOf: UsageError, message: /name the VRRP instance to move \(instances: VI_1, VI_2\)/ });
  t.throws(() => planHandover(pairs, ['VI_9'], { back: false }), { instanceOf: UsageError, message: /no VRRP instance "VI_9"/ });
  t.throws(() => planHandover(pairs, ['VI_1'], { back: false, limit: ['dir1'] }), { instanceOf: UsageError, message: /--limit leaves out dir2, member\(s\) of VI_1/ });
  t.is(planHandover(pairs, ['VI_1'], { back: false, limit: ['dir1', 'dir2'] }).length, 1);
});

test('handoverResetNote: rr or no sloppy_tcp warns what a lossless handover needs; mh/sh with sloppy_tcp says nothing', (t) => {
  const target = (scheduler: string): ServiceTarget => ({ name: 'web-dr', kind: 'DR', vip: '198.18.0.100', port: 80, protocol: 'TCP', scheduler, healthCheck: 'HTTP_GET', backends: [], directors: ['dir1', 'dir2'] });
  const rr = handoverResetNote(target('rr'), undefined)!;
  t.regex(rr, /^web-dr: a connection in flight when the VIP moves can be reset by the new master/);
  t.regex(rr, /mh with mh-port and mh-fallback, not rr\) and net\.ipv4\.vs\.sloppy_tcp=1 on the directors/);
  t.regex(handoverResetNote(target('wrr'), { 'net.ipv4.vs.sloppy_tcp': 1 })!, /needs a hashing scheduler \(mh with mh-port and mh-fallback, not wrr\)$/);
  t.regex(handoverResetNote(target('mh'), { 'net.ipv4.vs.sloppy_tcp': 0 })!, /needs net\.ipv4\.vs\.sloppy_tcp=1 on the directors \(lvs_ipvs_sysctls\)$/);
  t.is(handoverResetNote(target('mh'), { 'net.ipv4.vs.sloppy_tcp': 1 }), undefined);
  t.is(handoverResetNote(target('sh'), { 'net.ipv4.vs.sloppy_tcp': 1, 'net.ipv4.vs.expire_nodest_conn': 1 }), undefined);
});
