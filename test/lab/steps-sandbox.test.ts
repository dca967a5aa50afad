/**
 * The generated shell, for real: fact commands and change scripts run inside a throwaway sandbox (new mount, net
 * and pid namespaces, private tmpfs for files), then the same steps are planned again and must report no change.
 */
import test from 'ava';
import { join } from 'node:path';
import {
  address,
  addressAbsent,
  file,
  iptablesChain,
  iptablesRule,
  ipset,
  kernelModule,
  lines,
  route,
  routeAbsent,
  service,
  sysctl,
} from '../../src/steps/index.ts';
import { changeCount, Sandbox } from '../unit/steps-harness.ts';

const canSandbox = process.getuid?.() === 0;
const sbTest = canSandbox ? test.serial : test.serial.skip;

async function sandbox(t: import('ava').ExecutionContext): Promise<Sandbox> {
  const sb = await Sandbox.start();
  t.teardown(() => sb.stop());
  return sb;
}

for (const shell of [['sh'], ['busybox', 'sh']]) {
  sbTest(`file + lines converge, validate failure keeps the old file (${shell.join(' ')})`, async (t) => {
    const sb = await sandbox(t);
    sb.shell = shell;
    const conf = join(sb.workdir, 'keepalived', 'keepalived.conf');
    const v1 = file(conf, { content: 'global_defs {\n  router_id ok1\n}\n', mode: '0640', backup: true, validate: 'grep -q "router_id ok" %s' });
    const first = sb.plan([v1]);
    t.is(changeCount(first), 1);
    sb.apply(first);
    t.is(sb.read(conf), 'global_defs {\n  router_id ok1\n}\n');
    t.is(sb.mode(conf) & 0o7777, 0o640);
    t.is(changeCount(sb.plan([v1])), 0);

    // a content the validator rejects: the step fails with the validator's verdict, the old file stays
    const bad = file(conf, { content: 'global_defs {\n  router_id BROKEN\n}\n', validate: 'grep "router_id ok" %s' });
    const e = t.throws(() => sb.apply(sb.plan([bad])));
    t.regex(e!.message, /validation failed \(grep "router_id ok" %s\): .*keepalived\.conf left unchanged/);
    t.is(sb.read(conf), 'global_defs {\n  router_id ok1\n}\n');
    t.deepEqual(sb.ls(join(sb.workdir, 'keepalived')), ['keepalived.conf'], 'no temp file left behind');

    const v2 = file(conf, { content: 'global_defs {\n  router_id ok2\n}\n', backup: true, validate: 'grep -q "router_id ok" %s' });
    sb.apply(sb.plan([v2]));
    t.is(sb.read(`${conf}.lvsplay-backup`), 'global_defs {\n  router_id ok1\n}\n');
    t.is(sb.mode(conf) & 0o7777, 0o640, 'mode kept on update');
    t.is(changeCount(sb.plan([v2])), 0);

    // rc.local edited by the operator: our block goes before exit 0, the file becomes executable
    const rc = join(sb.workdir, 'rc.local');
    sb.sh(`printf '#!/bin/sh -e\\n# operator\\nexit 0\\n' > ${rc}`);
    const block = lines(rc, { block: ['ip addr add 10.0.0.100/32 dev lo'] });
    sb.apply(sb.plan([block]));
    t.is(sb.read(rc), '#!/bin/sh -e\n# operator\n# BEGIN lvsplay managed block\nip addr add 10.0.0.100/32 dev lo\n# END lvsplay managed block\nexit 0\n');
    t.is(sb.mode(rc) & 0o777, 0o755);
    t.is(changeCount(sb.plan([block])), 0);
    t.is(sb.sh(rc).code, 0, 'rc.local runs');
    t.regex(sb.sh('ip -o addr show dev lo').out, /10\.0\.0\.100\/32/);
  });
}

sbTest('sysctl converges file and live values; missing keys skipped; kernelModule persists', async (t) => {
  const sb = await sandbox(t);
  const path = join(sb.workdir, '90-lvs.conf');
  const step = sysctl(path, { 'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.rp_filter': 2, 'net.ipv4.tcp_tw_recycle': 1, 'net.ipv4.ip_local_port_range': '20000 60999' });
  const p = sb.plan([step]);
  t.deepEqual(p[0]!.warnings, ['net.ipv4.tcp_tw_recycle: skipped, the running kernel has no such key (removed or not built in)']);
  sb.apply(p);
  t.is(sb.sh('cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/rp_filter').out, '1\n2\n');
  t.notRegex(sb.read(path), /tw_recycle/);
  t.is(changeCount(sb.plan([step])), 0);
  // live drift alone is repaired by sysctl -p
  sb.sh('echo 0 > /proc/sys/net/ipv4/ip_forward');
  const drift = sb.plan([step]);
  t.is(drift[0]!.changes[0]!.summary, 'apply (net.ipv4.ip_forward=1)');
  sb.apply(drift);
  t.is(sb.sh('cat /proc/sys/net/ipv4/ip_forward').out, '1\n');

  // /etc/modules-load.d is a private tmpfs here; two modules already present in /sys/module (built in or
  // loaded): only the boot file changes, one line each, in one shared file
  sb.sh('mount -t tmpfs tmpfs /etc/modules-load.d');
  const [m1, m2] = sb.ls('/sys/module').filter((m) => /^[a-z0-9_]+$/.test(m));
  const km = [kernelModule(m1!, { persist: 'lvs' }), kernelModule(m2!, { persist: 'lvs' })];
  const kp = sb.plan(km);
  t.deepEqual(kp.flatMap((x) => x.changes.map((c) => c.summary)), [`load ${m1} at boot (/etc/modules-load.d/lvs.conf)`, `load ${m2} at boot (/etc/modules-load.d/lvs.conf)`]);
  sb.apply(kp);
  t.is(sb.read('/etc/modules-load.d/lvs.conf'), `${m1}\n${m2}\n`);
  t.is(changeCount(sb.plan(km)), 0);
});

for (const backend of ['nft', 'legacy'] as const) sbTest(`ipset + iptables (${backend}) chains/rules (node-svc layout) converge; prune removes a stale member`, async (t) => {
  const sb = await sandbox(t);
  // iptables here is iptables-nft; for legacy, the sandbox's private mount makes the same name run xtables-legacy
  if (backend === 'legacy') t.regex(sb.sh('mount --bind /usr/sbin/xtables-legacy-multi /usr/sbin/xtables-nft-multi && iptables -V').out, /\(legacy\)/);
  const steps = (members: string[]) => [
    ipset('lvs-svc', 'hash:ip,port', { members }),
    iptablesChain('nat', 'LVS-SERVICES'),
    iptablesRule('nat', 'PREROUTING', '-j LVS-SERVICES'),
    iptablesRule('nat', 'OUTPUT', '-j LVS-SERVICES'),
    iptablesRule('nat', 'LVS-SERVICES', '-m set --match-set lvs-svc dst,dst -j MARK --set-xmark 0x2000/0x2000'),
    iptablesRule('nat', 'POSTROUTING', '-m mark --mark 0x2000/0x2000 -j MASQUERADE', { comment: 'lvsplay: masquerade marked' }),
  ];
  const first = sb.plan(steps(['10.96.0.10,tcp:80', '10.96.0.10,udp:53']));
  t.is(changeCount(first), 7);
  sb.apply(first);
  t.is(changeCount(sb.plan(steps(['10.96.0.10,tcp:80', '10.96.0.10,udp:53']))), 0);
  const nat = sb.sh('iptables -t nat -S').out;
  t.regex(nat, /^-A POSTROUTING -m mark --mark 0x2000\/0x2000 -m comment --comment "lvsplay: masquerade marked" -j MASQUERADE$/m);
  t.is(nat.match(/-j LVS-SERVICES/g)!.length, 2);
  const next = sb.plan(steps(['10.96.0.10,80', '10.96.0.11,tcp:443']));
  t.deepEqual(next.flatMap((x) => x.changes.map((c) => c.summary)), ['add 10.96.0.11,tcp:443; remove 10.96.0.10,udp:53']);
  sb.apply(next);
  t.deepEqual(sb.sh('ipset save lvs-svc').out.split('\n').filter((l) => l.startsWith('add')).sort(), ['add lvs-svc 10.96.0.10,tcp:80', 'add lvs-svc 10.96.0.11,tcp:443']);
  t.is(changeCount(sb.plan(steps(['10.96.0.10,80', '10.96.0.11,tcp:443']))), 0);
  // rule removal
  const del = iptablesRule('nat', 'OUTPUT', '-j LVS-SERVICES', { state: 'absent' });
  sb.apply(sb.plan([del]));
  t.is(sb.sh('iptables -t nat -S OUTPUT').out, '-P OUTPUT ACCEPT\n');
  t.is(changeCount(sb.plan([del])), 0);
});

for (const ipTool of ['iproute2', 'busybox'] as const) sbTest(`address and route converge on a veth pair; absent variants (${ipTool} ip)`, async (t) => {
  const sb = await sandbox(t);
  t.is(sb.sh('ip link add veth0 type veth peer name veth1 && ip link set veth0 up && ip link set veth1 up').code, 0);
  // minimal hosts have busybox ip (no JSON): the facts fall back to its text output, the changes use its syntax
  if (ipTool === 'busybox') t.is(sb.sh('mount --bind /bin/busybox "$(command -v ip)" && ip -j link 2>/dev/null').code, 1);
  const steps = [
    address('veth0', '10.9.0.1/24'),
    address('lo', '10.9.0.100/32'),
    address('veth0', '10.9.0.50/24', { label: 'veth0:vip' }),
    route('10.20.0.0/16', { via: '10.9.0.2' }),
    route('192.0.2.7', { dev: 'veth0' }),
  ];
  const first = sb.plan(steps);
  t.is(changeCount(first), 5);
  sb.apply(first);
  t.is(changeCount(sb.plan(steps)), 0);
  const moved = [route('10.20.0.0/16', { via: '10.9.0.3' })];
  const mp = sb.plan(moved);
  t.regex(mp[0]!.changes[0]!.summary, /change route 10\.20\.0\.0\/16 \(was via 10\.9\.0\.2 dev veth0\)/);
  sb.apply(mp);
  t.regex(sb.sh('ip route show 10.20.0.0/16').out, /via 10\.9\.0\.3/);
  const gone = [addressAbsent('lo', '10.9.0.100/32'), routeAbsent('192.0.2.7')];
  sb.apply(sb.plan(gone));
  t.is(changeCount(sb.plan(gone)), 0);
  t.notRegex(sb.sh('ip -o addr show dev lo').out, /10\.9\.0\.100/);
});

sbTest('service (plain manager): start, no-op, reload keeps the pid, restart waits for the old process, stop', async (t) => {
  const sb = await sandbox(t);
  const pidfile = '/run/fake-daemon.pid';
  const opts = { start: 'sleep 1000', background: true, pidfile, timeout: 5 };
  const started = service('fake', { ...opts, reloadSignal: 'CONT' });
  sb.apply(sb.plan([started]));
  const pid1 = Number(sb.sh(`cat ${pidfile}`).out);
  t.true(pid1 > 0);
  t.is(sb.sh(`cat /proc/${pid1}/comm`).out, 'sleep\n');
  t.is(changeCount(sb.plan([started])), 0);
  sb.apply(sb.plan([service('fake', { ...opts, state: 'reloaded', reloadSignal: 'CONT' })]));
  t.is(Number(sb.sh(`cat ${pidfile}`).out), pid1, 'reload signals the running process');
  sb.apply(sb.plan([service('fake', { ...opts, state: 'restarted' })]));
  const pid2 = Number(sb.sh(`cat ${pidfile}`).out);
  t.not(pid2, pid1);
  t.not(sb.sh(`kill -0 ${pid1} 2>/dev/null && [ "$(cut -d' ' -f3 /proc/${pid1}/stat)" != Z ]`).code, 0, 'old process gone');
  sb.apply(sb.plan([service('fake', { ...opts, state: 'stopped' })]));
  t.false(sb.sh(`[ -e ${pidfile} ]`).code === 0);
  t.is(changeCount(sb.plan([service('fake', { ...opts, state: 'stopped' })])), 0);
  // a start command that fails reports its output
  const e = t.throws(() => sb.apply(sb.plan([service('broken', { start: 'sh -c "echo no config >&2; exit 1"', pidfile: '/run/broken.pid', process: 'broken' })])));
  t.regex(e!.message, /no config[\s\S]*broken: start command failed/);
});

sbTest('service keepalived (plain manager): start with -D -p, SIGHUP reload keeps the pid, restart', async (t) => {
  const sb = await sandbox(t);
  const conf = join(sb.workdir, 'keepalived.conf');
  sb.sh(`printf 'global_defs {\\n  router_id sandbox\\n}\\n' > ${conf}`);
  const start = `keepalived -D -p /run/keepalived.pid -f ${conf}`;
  const k = (state: 'started' | 'reloaded' | 'restarted' | 'stopped') => service('keepalived', { state, start });
  const first = sb.plan([k('started')]);
  t.is(first[0]!.changes[0]!.summary, `start keepalived (${start})`);
  sb.apply(first);
  const pid1 = Number(sb.sh('cat /run/keepalived.pid').out);
  t.is(sb.sh(`cat /proc/${pid1}/comm`).out, 'keepalived\n');
  t.is(changeCount(sb.plan([k('started')])), 0);
  const reload = sb.plan([k('reloaded')]);
  t.is(reload[0]!.changes[0]!.summary, `reload keepalived (SIGHUP to pid ${pid1})`);
  sb.apply(reload);
  t.is(Number(sb.sh('cat /run/keepalived.pid').out), pid1);
  // a config keepalived -t rejects: the step fails with keepalived's own message, the old config stays, and the
  // reload handler it would notify never runs, so the daemon keeps running on the old config
  const good = sb.read(conf);
  const broken = [file(conf, { content: 'global_defs {\n  router_id sandbox\n}\nbogus_keyword 1\n', validate: 'keepalived -t -f %s', notify: 'reload keepalived' })];
  const e = t.throws(() => sb.apply(sb.plan(broken)));
  t.regex(e!.message, /Unknown keyword 'bogus_keyword'[\s\S]*keepalived\.conf left unchanged/);
  t.is(sb.read(conf), good);
  t.is(sb.sh(`kill -0 ${pid1}`).code, 0, 'keepalived still running');
  sb.apply(sb.plan([k('restarted')]));
  const pid2 = Number(sb.sh('cat /run/keepalived.pid').out);
  t.true(pid2 > 0 && pid2 !== pid1);
  sb.apply(sb.plan([k('stopped')]));
  t.is(sb.sh('[ -e /run/keepalived.pid ]').code, 1);
});
