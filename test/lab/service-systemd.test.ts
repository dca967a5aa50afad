// Issue 4: the service step's systemd branch on a real systemd (a tier-1 lab host whose PID 1 is systemd,
// lab_init: systemd), beside a plain host running the same playbook through pidfiles. Through the real CLI over
// SSH: --check changes nothing, the first run writes the unit, daemon-reloads, starts and enables it, the second
// run changes nothing, drift (stopped + disabled) is repaired, a config change reloads keepalived through
// systemctl (same MainPID, new VIP), a validate failure keeps the old config and the running keepalived, a unit
// whose condition fails is reported as not started, and `stopped` stops it.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useLab } from '../helpers/lab.ts';
import { jsonLines, lvsplay } from '../helpers/cli.ts';

const lab = useLab(test, { topology: 'test/fixtures/lab/systemd.yaml' });
const PB = 'test/fixtures/playbooks/service-systemd.ts';

async function run(name: string, extra: string[] = []) {
  const json = join(lab().dir, `${name}.jsonl`);
  const r = await lvsplay(['run', PB, '-i', lab().inventory, '--json', json, ...extra], { timeoutMs: 300_000 });
  const ev = jsonLines(readFileSync(json, 'utf8'));
  return { ...r, ev, recap: ev.at(-1)!.hosts as Record<string, { ok: number; changed: number; failed: number }> };
}

/** systemd's view of a unit on sdhost: "ActiveState UnitFileState MainPID" */
async function unit(name: string): Promise<string> {
  const r = await lab().ssh('sdhost', `systemctl show -p ActiveState -p UnitFileState -p MainPID ${name}`);
  const p = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return `${p.ActiveState} ${p.UnitFileState} ${p.MainPID}`;
}

const sh = async (host: string, script: string) => (await lab().ssh(host, script)).stdout;

test.serial('the systemd host really runs systemd, the plain host does not', async (t) => {
  t.is(await sh('sdhost', 'cat /proc/1/comm; test -d /run/systemd/system && echo booted; systemctl is-system-running'), 'systemd\nbooted\nrunning\n');
  t.regex(await sh('plainhost', 'cat /proc/1/comm; test -d /run/systemd/system && echo booted || echo not-booted'), /^(perl|sh)\nnot-booted\n$/);
});

test.serial('--check plans the unit, the start and the enable, and changes nothing', async (t) => {
  const r = await run('check', ['--check']);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /\[sdhost\] service lvsplay-web started[\s\S]*?systemctl daemon-reload[\s\S]*?start lvsplay-web\.service[\s\S]*?enable lvsplay-web\.service/);
  t.is(await unit('lvsplay-web'), 'inactive  0', 'no unit file, nothing running');
  t.regex(await unit('keepalived'), /^inactive enabled 0$/);
});

test.serial('first run: unit written, daemon-reloaded, started, enabled; keepalived started by systemd; the plain host by pidfile', async (t) => {
  const r = await run('first');
  t.is(r.code, 0, r.stdout + r.stderr);
  t.true(r.recap.sdhost!.changed >= 4, JSON.stringify(r.recap));
  const web = await unit('lvsplay-web');
  t.regex(web, /^active enabled [1-9]\d*$/);
  t.is(await sh('sdhost', 'busybox wget -q -O - http://127.0.0.1:8081/index.html'), 'sdhost\n');
  t.regex(await unit('keepalived'), /^active enabled [1-9]\d*$/);
  // keepalived (started by systemd, Type=notify) holds its VIP
  t.regex(await sh('sdhost', 'for i in $(seq 50); do ip -4 -o addr show dev eth1 | grep -q 198.18.0.240/ && break; sleep 0.2; done; ip -4 -o addr show dev eth1'), /198\.18\.0\.240\/24/);
  // the plain host took the pidfile branch with the same playbook
  t.regex(await sh('plainhost', 'kill -0 $(cat /run/lvsplay-web.pid) && echo web-up; kill -0 $(cat /run/keepalived.pid) && echo ka-up; busybox wget -q -O - http://127.0.0.1:8081/'), /^web-up\nka-up\nplainhost\n$/);
  t.regex(r.stdout, /\[WARNING\] \[plainhost\] service lvsplay-web started: enabled ignored/);
});

test.serial('second run: 0 changed on both hosts', async (t) => {
  const r = await run('second');
  t.is(r.code, 0, r.stdout + r.stderr);
  t.is(r.recap.sdhost!.changed, 0, r.stdout);
  t.is(r.recap.plainhost!.changed, 0, r.stdout);
});

test.serial('drift: a stopped and disabled unit is started and enabled again', async (t) => {
  await sh('sdhost', 'systemctl stop lvsplay-web && systemctl disable lvsplay-web 2>/dev/null');
  t.regex(await unit('lvsplay-web'), /^inactive disabled 0$/);
  const r = await run('drift');
  t.is(r.code, 0, r.stdout + r.stderr);
  t.is(r.recap.sdhost!.changed, 1);
  t.regex(await unit('lvsplay-web'), /^active enabled [1-9]\d*$/);
  t.is((await run('drift-again')).recap.sdhost!.changed, 0);
});

test.serial('a keepalived config change reloads it through systemd: same MainPID, the new VIP', async (t) => {
  const before = await unit('keepalived');
  const r = await run('reload', ['-e', 'vip_offset=5']);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /changed: \[sdhost\] handler: reload keepalived\n +- reload keepalived\.service\n/);
  t.is(await unit('keepalived'), before, 'reloaded (SIGHUP through ExecReload), not restarted');
  t.regex(await sh('sdhost', 'for i in $(seq 50); do ip -4 -o addr show dev eth1 | grep -q 198.18.0.245/ && break; sleep 0.2; done; ip -4 -o addr show dev eth1'), /198\.18\.0\.245\/24/);
});

test.serial('a config keepalived -t rejects is not installed; keepalived keeps running with the old one', async (t) => {
  const before = await unit('keepalived');
  const conf = await sh('sdhost', 'sha256sum /etc/keepalived/keepalived.conf');
  const r = await run('broken', ['-e', 'vip_offset=5', '-e', 'broken_keepalived=1']);
  t.is(r.code, 2, r.stdout + r.stderr);
  t.is(r.recap.sdhost!.failed, 1);
  t.is(await sh('sdhost', 'sha256sum /etc/keepalived/keepalived.conf'), conf);
  t.is(await unit('keepalived'), before);
  t.is(await sh('sdhost', 'ls /etc/keepalived/ | grep -c lvsplay-tmp || true'), '0\n', 'no temp file left behind');
});

test.serial('a unit whose condition fails is reported as not started (systemctl start alone would say 0)', async (t) => {
  await sh('sdhost', 'systemctl stop lvsplay-web');
  const r = await run('condition', ['-e', 'web_condition=/nonexistent', '--limit', 'sdhost']);
  t.is(r.code, 2, r.stdout + r.stderr);
  t.regex(r.stdout + r.stderr, /lvsplay-web\.service is not active after the (re)?start/);
  t.regex(await unit('lvsplay-web'), /^inactive enabled 0$/);
});

test.serial('state stopped stops the unit; again: 0 changed', async (t) => {
  const start = await run('restore', ['--limit', 'sdhost']);
  t.is(start.code, 0, start.stdout + start.stderr);
  t.regex(await unit('lvsplay-web'), /^active enabled [1-9]\d*$/);
  const r = await run('stop', ['-e', 'web_state=stopped', '--limit', 'sdhost']);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.is(r.recap.sdhost!.changed, 1);
  t.regex(await unit('lvsplay-web'), /^inactive enabled 0$/);
  t.is((await run('stop-again', ['-e', 'web_state=stopped', '--limit', 'sdhost'])).recap.sdhost!.changed, 0);
});

test.serial('realserver-dr with persist: systemd: a oneshot unit started and enabled that puts the VIP back (as at boot)', async (t) => {
  const pb = 'test/fixtures/playbooks/realserver-systemd.ts';
  const first = await lvsplay(['run', pb, '-i', lab().inventory], { timeoutMs: 300_000 });
  t.is(first.code, 0, first.stdout + first.stderr);
  t.regex(first.stdout, /changed: \[sdhost\] service lvsplay-realserver-dr started\n +- systemctl daemon-reload\n +- start lvsplay-realserver-dr\.service\n +- enable lvsplay-realserver-dr\.service/);
  t.regex(await unit('lvsplay-realserver-dr'), /^active enabled 0$/, 'oneshot, RemainAfterExit');
  t.is(await sh('sdhost', 'ip -4 -o addr show dev lo | grep -c 198.18.0.250/32; sysctl -n net.ipv4.conf.eth1.arp_ignore net.ipv4.conf.eth1.arp_announce'), '1\n1\n2\n');
  const again = await lvsplay(['run', pb, '-i', lab().inventory], { timeoutMs: 300_000 });
  t.regex(again.stdout, /sdhost +\d+ +0 +0 /, 'second run: 0 changed');
  // what a reboot does: the address is gone, the unit (enabled for multi-user.target) runs again and restores it
  await sh('sdhost', 'ip addr del 198.18.0.250/32 dev lo');
  t.is(await sh('sdhost', 'systemctl restart lvsplay-realserver-dr && ip -4 -o addr show dev lo | grep -c 198.18.0.250/32'), '1\n');
  t.is(await sh('sdhost', 'systemctl list-dependencies --plain multi-user.target | grep -c lvsplay-realserver-dr'), '1\n');
});
