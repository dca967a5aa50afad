import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '../../src/errors.ts';
import { command, editBlock, file, kernelModule, lines, pkg, sysctl } from '../../src/steps/index.ts';
import { planWith, rawAbsent, rawFile, rawTools } from './steps-harness.ts';
import { PredictedState } from '../../src/engine/predicted-state.ts';

const invalid = (t: import('ava').ExecutionContext, fn: () => unknown, re: RegExp) => {
  const e = t.throws(fn, { instanceOf: ValidationError });
  t.regex(e!.toString(), re);
};

// ---------------- file ----------------
test('file: create, then no change when the hash matches, mode-only and owner-only changes', (t) => {
  const s = file('/etc/keepalived/keepalived.conf', { content: 'global_defs {}\n', mode: '0640', notify: 'reload keepalived' });
  t.is(s.name, 'file /etc/keepalived/keepalived.conf');
  t.deepEqual(s.notify, ['reload keepalived']);
  const create = planWith(s, { 'file:/etc/keepalived/keepalived.conf': rawAbsent });
  t.is(create.changes.length, 1);
  t.is(create.changes[0]!.summary, 'create /etc/keepalived/keepalived.conf');
  t.regex(create.changes[0]!.script, /mktemp \/etc\/keepalived\/\.keepalived\.conf\.lvsplay\.XXXXXX/);
  t.regex(create.changes[0]!.script, /chmod 0640 "\$lvs_tmp"/);
  t.regex(create.changes[0]!.script, /mv -f "\$lvs_tmp" \/etc\/keepalived\/keepalived\.conf/);
  t.is(create.changes[0]!.diff, '--- /dev/null\n+++ /etc/keepalived/keepalived.conf\n@@ -0,0 +1 @@\n+global_defs {}\n');
  t.deepEqual(planWith(s, { 'file:/etc/keepalived/keepalived.conf': rawFile('global_defs {}\n', { mode: 0o640 }) }).changes, []);
  const mode = planWith(s, { 'file:/etc/keepalived/keepalived.conf': rawFile('global_defs {}\n', { mode: 0o755 }) });
  t.deepEqual(mode.changes.map((c) => c.script), ['chmod 0640 /etc/keepalived/keepalived.conf']);
  const own = file('/etc/x', { content: 'x', owner: 'nobody', group: 0 });
  t.deepEqual(planWith(own, { 'file:/etc/x': rawFile('x', { owner: 'root', group: 'root' }) }).changes.map((c) => c.script), ["chown nobody:0 /etc/x"]);
  t.deepEqual(planWith(own, { 'file:/etc/x': rawFile('x', { owner: 'nobody', uid: 65534, group: 'root' }) }).changes, []);
});

test('file: update keeps the existing mode/owner, validates on the temp file, backs up, diffs', (t) => {
  const s = file('/etc/keepalived/keepalived.conf', { content: 'a\nB\nc\n', validate: 'keepalived -t -f %s', backup: true });
  const p = planWith(s, { 'file:/etc/keepalived/keepalived.conf': rawFile('a\nb\nc\n', { mode: 0o600, uid: 12, gid: 34 }) });
  const c = p.changes[0]!;
  t.is(c.summary, 'update /etc/keepalived/keepalived.conf');
  t.regex(c.script, /chmod 0600 "\$lvs_tmp"/);
  t.regex(c.script, /chown 12:34 "\$lvs_tmp"/);
  t.regex(c.script, /lvs_out=\$\( \(keepalived -t -f "\$lvs_tmp"\) 2>&1 \)/);
  t.regex(c.script, /cp -p \/etc\/keepalived\/keepalived\.conf \/etc\/keepalived\/keepalived\.conf\.lvsplay-backup/);
  // validation happens before the backup and the rename
  t.true(c.script.indexOf('keepalived -t') < c.script.indexOf('cp -p') && c.script.indexOf('cp -p') < c.script.indexOf('mv -f'));
  t.is(c.diff, '--- /etc/keepalived/keepalived.conf\n+++ /etc/keepalived/keepalived.conf\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n');
});

test('file: ejs templates render at construction; template errors and bad options are validation errors', (t) => {
  const s = file('/etc/motd', { template: 'vip <%= vip %>\n<% for (const r of rs) { %>rs <%= r %>\n<% } %>', vars: { vip: '10.0.0.1', rs: ['a', 'b'] } });
  t.regex(planWith(s, { 'file:/etc/motd': rawAbsent }).changes[0]!.diff!, /\+vip 10\.0\.0\.1\n\+rs a\n\+rs b\n/);
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-tpl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'k.conf.ejs'), 'router_id <%= id %>\n');
  t.deepEqual(planWith(file('/etc/k', { templateFile: join(dir, 'k.conf.ejs'), vars: { id: 'lb1' } }), { 'file:/etc/k': rawFile('router_id lb1\n') }).changes, []);
  invalid(t, () => file('/etc/motd', { template: '<%= missing %>' }), /template error: [\s\S]*missing is not defined/);
  invalid(t, () => file('/etc/motd', { templateFile: join(dir, 'nope.ejs') }), /cannot read templateFile/);
  invalid(t, () => file('/etc/motd', { content: 'x', mdoe: '0644' } as never), /unknown option "mdoe"[\s\S]*fix: use one of: .*mode/);
  invalid(t, () => file('/etc/motd', { content: 'x', mode: '999' }), /option "mode": must be an octal mode/);
  invalid(t, () => file('/etc/motd', { content: 'x', validate: 'keepalived -t' }), /must contain %s/);
  invalid(t, () => file('/etc/motd', {} as never), /exactly one of content, template or templateFile/);
  invalid(t, () => file('etc/motd', { content: 'x' }), /path must be absolute/);
});

test('file: a directory in the way fails the plan', (t) => {
  t.throws(() => planWith(file('/etc/x', { content: '' }), { 'file:/etc/x': '@@directory\n' }), { message: /is a directory/ });
});

// ---------------- lines ----------------
test('editBlock: insert before exit 0, replace in place, no duplicates, absent, shebang', (t) => {
  const rc = '#!/bin/sh -e\n# operator line\nexit 0\n';
  const once = editBlock(rc, ['ip addr add 10.0.0.100/32 dev lo'], '# BEGIN x', '# END x', 'present', '#!/bin/sh');
  t.is(once.content, '#!/bin/sh -e\n# operator line\n# BEGIN x\nip addr add 10.0.0.100/32 dev lo\n# END x\nexit 0\n');
  t.is(editBlock(once.content, ['ip addr add 10.0.0.100/32 dev lo'], '# BEGIN x', '# END x', 'present').content, once.content);
  const changed = editBlock(once.content, ['ip addr add 10.0.0.101/32 dev lo'], '# BEGIN x', '# END x', 'present');
  t.is(changed.content, once.content.replace('10.0.0.100', '10.0.0.101'));
  t.is(editBlock(once.content, [], '# BEGIN x', '# END x', 'absent').content, rc);
  t.is(editBlock('', ['a'], '# BEGIN x', '# END x', 'present', '#!/bin/sh').content, '#!/bin/sh\n# BEGIN x\na\n# END x\n');
  t.deepEqual(editBlock('a\n', ['a'], '# BEGIN x', '# END x', 'present').duplicates, ['a']);
  // a lone BEGIN marker (cut-short edit) is repaired, not duplicated
  t.is(editBlock('# BEGIN x\nb\n', ['a'], '# BEGIN x', '# END x', 'present').content, 'b\n# BEGIN x\na\n# END x\n');
});

test('lines: rc.local gets shebang and 0755; second run no change; absent removes', (t) => {
  const s = lines('/etc/rc.local', { block: ['ip addr add 10.0.0.100/32 dev lo'] });
  const first = planWith(s, { 'file:/etc/rc.local': rawAbsent });
  t.is(first.changes.length, 1);
  t.regex(first.changes[0]!.script, /chmod 0755/);
  t.regex(first.changes[0]!.diff!, /\+#!\/bin\/sh\n\+# BEGIN lvsplay managed block\n\+ip addr add 10\.0\.0\.100\/32 dev lo\n\+# END lvsplay managed block\n/);
  const after = '#!/bin/sh\n# BEGIN lvsplay managed block\nip addr add 10.0.0.100/32 dev lo\n# END lvsplay managed block\n';
  t.deepEqual(planWith(s, { 'file:/etc/rc.local': rawFile(after, { mode: 0o755 }) }).changes, []);
  const notExec = planWith(s, { 'file:/etc/rc.local': rawFile(after, { mode: 0o644 }) });
  t.is(notExec.changes[0]!.summary, 'mode 755 on /etc/rc.local');
  const absent = lines('/etc/rc.local', { block: 'x', state: 'absent' });
  t.deepEqual(planWith(absent, { 'file:/etc/rc.local': rawAbsent }).changes, []);
  t.regex(planWith(absent, { 'file:/etc/rc.local': rawFile(after, { mode: 0o755 }) }).changes[0]!.diff!, /-ip addr add/);
  const dup = planWith(lines('/etc/hosts.x', { block: 'a b' }), { 'file:/etc/hosts.x': rawFile('a b\n') });
  t.deepEqual(dup.warnings, ['line also present outside the managed block (left as is): a b']);
  invalid(t, () => lines('/etc/rc.local', { block: 'x', marker: '# lvsplay' }), /option "marker": must be one line containing \{mark\}/);
  invalid(t, () => lines('/etc/rc.local', { block: 'x', shebang: '/bin/sh' }), /must start with #!/);
});

test('lines: two steps on one file plan against each other', (t) => {
  const state = new PredictedState();
  const a = lines('/etc/rc.local', { block: 'a', marker: '# {mark} A' });
  const b = lines('/etc/rc.local', { block: 'b', marker: '# {mark} B' });
  planWith(a, { 'file:/etc/rc.local': rawAbsent }, state);
  const pb = planWith(b, { 'file:/etc/rc.local': rawAbsent }, state);
  t.regex(pb.changes[0]!.diff!, /^ # BEGIN A\n a\n # END A\n\+# BEGIN B\n\+b\n\+# END B$/m);
});

// ---------------- sysctl ----------------
const SYS = '/etc/sysctl.d/90-lvs.conf';
const sysKey = (keys: string[]) => `sysctl:${[...keys].sort().join(',')}`;
const tools = { 'host:tools': rawTools('sysctl', 'ip') };

test('sysctl: writes file and applies; no change when file and live values match', (t) => {
  const s = sysctl('90-lvs', { 'net.ipv4.ip_forward': 1, 'net.ipv4.tcp_fin_timeout': 30 });
  t.is(s.name, `sysctl ${SYS}`);
  const k = sysKey(['net.ipv4.ip_forward', 'net.ipv4.tcp_fin_timeout']);
  const p = planWith(s, { [k]: '/proc/sys/net/ipv4/ip_forward:0\n/proc/sys/net/ipv4/tcp_fin_timeout:60\n', [`file:${SYS}`]: rawAbsent, ...tools });
  t.is(p.changes.length, 1);
  t.is(p.changes[0]!.summary, 'write 90-lvs.conf and apply (net.ipv4.ip_forward=1, net.ipv4.tcp_fin_timeout=30)');
  t.regex(p.changes[0]!.script, /\nprintf '%s\\n' 1 > \/proc\/sys\/net\/ipv4\/ip_forward \|\| \{ echo 'cannot set net\.ipv4\.ip_forward = 1' >&2; exit 1; \}\nprintf '%s\\n' 30 > \/proc\/sys\/net\/ipv4\/tcp_fin_timeout \|\|/);
  t.notRegex(p.changes[0]!.script, /sysctl -p/, 'no sysctl process');
  const content = '# managed by lvsplay: changes here are overwritten\nnet.ipv4.ip_forward = 1\nnet.ipv4.tcp_fin_timeout = 30\n';
  t.is(p.changes[0]!.diff, `--- /dev/null\n+++ ${SYS}\n@@ -0,0 +1,3 @@\n${content.split('\n').filter(Boolean).map((l) => `+${l}`).join('\n')}\n`);
  const live = '/proc/sys/net/ipv4/ip_forward:1\n/proc/sys/net/ipv4/tcp_fin_timeout:30\n';
  t.deepEqual(planWith(s, { [k]: live, [`file:${SYS}`]: rawFile(content), ...tools }).changes, []);
  // file right, live value drifted: apply only (no file write)
  const drift = planWith(s, { [k]: '/proc/sys/net/ipv4/ip_forward:0\n/proc/sys/net/ipv4/tcp_fin_timeout:30\n', [`file:${SYS}`]: rawFile(content), ...tools });
  t.is(drift.changes[0]!.summary, 'apply (net.ipv4.ip_forward=1)');
  t.notRegex(drift.changes[0]!.script, /tcp_fin_timeout/, 'only the drifted value is written');
  t.notRegex(drift.changes[0]!.script, /mktemp/);
  // live right, file edited by hand: rewrite
  t.regex(planWith(s, { [k]: live, [`file:${SYS}`]: rawFile('net.ipv4.ip_forward = 0\n'), ...tools }).changes[0]!.summary, /^write/);
});

test('sysctl: a key the kernel lacks is skipped with a warning and not written', (t) => {
  const s = sysctl(SYS, { 'net.ipv4.tcp_tw_recycle': 1, 'net.ipv4.tcp_timestamps': 0 });
  const k = sysKey(['net.ipv4.tcp_tw_recycle', 'net.ipv4.tcp_timestamps']);
  const p = planWith(s, { [k]: '/proc/sys/net/ipv4/tcp_timestamps:1\n', [`file:${SYS}`]: rawAbsent, ...tools });
  t.deepEqual(p.warnings, ['net.ipv4.tcp_tw_recycle: skipped, the running kernel has no such key (removed or not built in)']);
  t.notRegex(p.changes[0]!.diff!, /tw_recycle/);
  t.regex(p.changes[0]!.diff!, /\+net\.ipv4\.tcp_timestamps = 0/);
});

test('sysctl: net.ipv4.vs.* needs ip_vs: skipped unless an earlier kernelModule step loads it', (t) => {
  const s = sysctl(SYS, { 'net.ipv4.vs.conntrack': 1 });
  const raw = { 'sysctl:net.ipv4.vs.conntrack': '', [`file:${SYS}`]: rawAbsent, ...tools };
  const alone = planWith(s, raw);
  t.deepEqual(alone.changes, []);
  t.regex(alone.warnings![0]!, /module ip_vs not loaded; load it with kernelModule\('ip_vs'\) before this step/);
  const state = new PredictedState();
  const km = kernelModule('ip_vs', { persist: 'ipvs' });
  const kmPlan = planWith(km, { 'kmod:ip_vs': 'absent\n', 'host:tools': rawTools('busybox', 'busybox-modprobe', 'sysctl'), 'file:/etc/modules-load.d/ipvs.conf': rawAbsent }, state);
  t.deepEqual(kmPlan.changes.map((c) => c.summary), ['load module ip_vs', 'load ip_vs at boot (/etc/modules-load.d/ipvs.conf)']);
  t.is(kmPlan.changes[0]!.script, 'busybox modprobe ip_vs');
  const after = planWith(s, raw, state);
  t.deepEqual(after.warnings, []);
  t.regex(after.changes[0]!.diff!, /\+net\.ipv4\.vs\.conntrack = 1/);
});

test('sysctl: per-interface keys resolve against the host interfaces (and links created earlier)', (t) => {
  const s = sysctl(SYS, { 'net.ipv4.conf.tunl0.rp_filter': 0, 'net.ipv4.conf.all.rp_filter': 0 });
  const k = sysKey(['net.ipv4.conf.tunl0.rp_filter', 'net.ipv4.conf.all.rp_filter']);
  const raw = { [k]: '/proc/sys/net/ipv4/conf/all/rp_filter:0\n', [`file:${SYS}`]: rawAbsent, ...tools };
  const p = planWith(s, raw);
  t.deepEqual(p.warnings, ['net.ipv4.conf.tunl0.rp_filter: skipped, interface tunl0 does not exist on this host']);
  const ipipLoaded = new PredictedState();
  ipipLoaded.module('ipip').set(true);
  const withIpip = planWith(s, raw, ipipLoaded);
  t.deepEqual(withIpip.warnings, []);
  t.regex(withIpip.changes[0]!.diff!, /tunl0\.rp_filter = 0/);
});

test('sysctl: validation errors name the key and the fix', (t) => {
  invalid(t, () => sysctl(SYS, {}), /at least one key/);
  invalid(t, () => sysctl(SYS, { 'net ipv4': 1 }), /net ipv4: is not a sysctl key/);
  invalid(t, () => sysctl(SYS, { 'net.ipv4.ip_forward': '1\nkernel.x = 2' }), /value must be/);
  invalid(t, () => sysctl('/etc/sysctl.d/x', { 'net.ipv4.ip_forward': 1 }), /ending in .conf/);
  invalid(t, () => sysctl(SYS, { 'net.ipv4.ip_forward': 1 }, { tag: ['x'] } as never), /unknown option "tag"/);
});

test('sysctl: live values are written with shell builtins: no sysctl command needed (busybox-only hosts too)', (t) => {
  const s = sysctl(SYS, { 'net.ipv4.ip_forward': 1 });
  t.false(s.facts.some((f) => f.key === 'host:tools'), 'the step does not ask which tools the host has');
  const p = planWith(s, { 'sysctl:net.ipv4.ip_forward': '/proc/sys/net/ipv4/ip_forward:0\n', [`file:${SYS}`]: rawAbsent });
  t.regex(p.changes[0]!.script, /printf '%s\\n' 1 > \/proc\/sys\/net\/ipv4\/ip_forward/);
});

// ---------------- kernelModule ----------------
test('kernelModule: loaded/builtin need nothing; persist line added once; fails clearly without modprobe', (t) => {
  const s = kernelModule('ip_vs_rr', { persist: 'ipvs' });
  const conf = 'file:/etc/modules-load.d/ipvs.conf';
  t.deepEqual(planWith(s, { 'kmod:ip_vs_rr': 'loaded\n', 'host:tools': rawTools('modprobe'), [conf]: rawFile('ip_vs\nip_vs_rr\n') }).changes, []);
  const p = planWith(s, { 'kmod:ip_vs_rr': 'builtin\n', 'host:tools': rawTools('modprobe'), [conf]: rawFile('ip_vs') });
  t.deepEqual(p.changes.map((c) => c.summary), ['load ip_vs_rr at boot (/etc/modules-load.d/ipvs.conf)']);
  t.regex(p.changes[0]!.script, /grep -qx ip_vs_rr \/etc\/modules-load\.d\/ipvs\.conf/);
  t.is(planWith(kernelModule('ipip', { persist: false }), { 'kmod:ipip': 'absent\n', 'host:tools': rawTools('modprobe') }).changes[0]!.script, 'modprobe ipip');
  t.throws(() => planWith(kernelModule('ipip', { persist: false }), { 'kmod:ipip': 'absent\n', 'host:tools': rawTools('ip') }), { message: /neither modprobe nor busybox modprobe[\s\S]*install kmod/ });
  t.is(kernelModule('dummy').facts.find((f) => f.key.startsWith('file:'))!.key, 'file:/etc/modules-load.d/dummy.conf');
  invalid(t, () => kernelModule('ip_vs; rm -rf /'), /must be a module name/);
  invalid(t, () => kernelModule('ip_vs', { persist: '../x' }), /must be a file name/);
});

test('kernelModule: two modules sharing a conf file in one run', (t) => {
  const state = new PredictedState();
  const conf = 'file:/etc/modules-load.d/ipvs.conf';
  const raw = { 'kmod:ip_vs': 'loaded\n', 'kmod:ip_vs_wrr': 'loaded\n', 'host:tools': rawTools('modprobe'), [conf]: rawAbsent };
  t.is(planWith(kernelModule('ip_vs', { persist: 'ipvs' }), raw, state).changes.length, 1);
  t.is(planWith(kernelModule('ip_vs_wrr', { persist: 'ipvs' }), raw, state).changes.length, 1);
  t.is(planWith(kernelModule('ip_vs', { persist: 'ipvs' }), raw, state).changes.length, 0);
});

// ---------------- pkg ----------------
test('pkg: installs only what is missing, never upgrades; dnf/yum; no manager', (t) => {
  const s = pkg(['ipvsadm', 'keepalived']);
  const k = 'pkg:ipvsadm,keepalived';
  t.deepEqual(planWith(s, { [k]: '@@apt\ninstalled ipvsadm\ninstalled keepalived\n' }).changes, []);
  const apt = planWith(s, { [k]: '@@apt\ninstalled ipvsadm\nmissing keepalived\n' });
  t.is(apt.changes[0]!.summary, 'install keepalived (apt)');
  t.regex(apt.changes[0]!.script, /apt-get install -y -q --no-upgrade keepalived/);
  t.regex(planWith(s, { [k]: '@@dnf\nmissing ipvsadm\nmissing keepalived\n' }).changes[0]!.script, /^dnf install -y -q ipvsadm keepalived/);
  t.regex(planWith(pkg('x', { updateCache: true }), { 'pkg:x': '@@yum\nmissing x\n' }).changes[0]!.script, /yum makecache -q[\s\S]*yum install -y -q x/);
  t.throws(() => planWith(s, { [k]: '@@none\nmissing ipvsadm\nmissing keepalived\n' }), { message: /no supported package manager/ });
  invalid(t, () => pkg([]), /at least one package/);
  invalid(t, () => pkg('ipvsadm; reboot'), /is not a package name/);
});

// ---------------- command ----------------
test('command: guards decide; no guard warns', (t) => {
  const s = command('ipvsadm --start-daemon master', { unless: 'ipvsadm -L --daemon | grep -q master', creates: '/run/x' });
  t.deepEqual(s.facts.map((f) => f.key), ['exists:/run/x', 'exit:ipvsadm -L --daemon | grep -q master']);
  t.deepEqual(planWith(s, { 'exists:/run/x': 'yes\n', 'exit:ipvsadm -L --daemon | grep -q master': 'rc 1\n' }), { changes: [], skipped: '/run/x exists' });
  t.regex(planWith(s, { 'exists:/run/x': 'no\n', 'exit:ipvsadm -L --daemon | grep -q master': 'rc 0\n' }).skipped!, /unless/);
  t.is(planWith(s, { 'exists:/run/x': 'no\n', 'exit:ipvsadm -L --daemon | grep -q master': 'rc 1\n' }).changes[0]!.script, 'ipvsadm --start-daemon master');
  const o = command('touch /x', { onlyIf: 'test -d /etc/keepalived' });
  t.regex(planWith(o, { 'exit:test -d /etc/keepalived': 'rc 1\n' }).skipped!, /onlyIf: .* exited 1/);
  t.deepEqual(planWith(command('date'), {}).warnings, ['no creates/unless/onlyIf guard: runs and reports a change on every run']);
  invalid(t, () => command(''), /non-empty/);
  invalid(t, () => command('x', { creates: 'relative' }), /option "creates": must be an absolute path/);
});
