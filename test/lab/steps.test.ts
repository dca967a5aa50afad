// Issue 4 on real hosts (tier 1): every step through the real CLI over SSH. First run changes, second run
// changes nothing, --check changes nothing, drift is repaired, and a validate failure keeps the old file and
// the running keepalived.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useLab } from '../helpers/lab.ts';
import { lvsplay, jsonLines } from '../helpers/cli.ts';

const lab = useLab(test, { topology: 'test/fixtures/lab/pair.yaml' });
const PB = 'test/fixtures/playbooks/steps-tier1.ts';

const SNAPSHOT = `
cat /etc/keepalived/keepalived.conf 2>/dev/null | sha256sum
cat /run/keepalived.pid 2>/dev/null || echo no-pid
cat /etc/sysctl.d/90-steps.conf 2>/dev/null
sysctl -n net.ipv4.ip_forward net.ipv4.conf.eth1.arp_ignore net.ipv4.conf.eth1.arp_announce
grep -c . /etc/rc.local 2>/dev/null || echo no-rc-local
ip -4 -o addr show dev lo | awk '{print $4}'
ip route show 198.18.9.0/24
ipset list lvsplay-svc 2>/dev/null | sed -n '/Members:/,$p' | sort
iptables -t nat -S 2>/dev/null | grep -i lvsplay | sort
ls /etc/lvsplay-steps.flag 2>/dev/null || echo no-flag
`;

async function snapshot(host: string): Promise<string> {
  return (await lab().ssh(host, SNAPSHOT)).stdout;
}

async function run(name: string, extra: string[] = []) {
  const json = join(lab().dir, `${name}.jsonl`);
  const r = await lvsplay(['run', PB, '-i', lab().inventory, '--json', json, ...extra]);
  const ev = jsonLines(readFileSync(json, 'utf8'));
  return { ...r, ev, recap: ev.at(-1)!.hosts as Record<string, { ok: number; changed: number; failed: number }> };
}

test.serial('--check plans every step on fresh hosts and changes nothing', async (t) => {
  const before = await snapshot('alpha');
  const r = await run('check', ['--check']);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.true(r.recap.alpha.changed >= 12, JSON.stringify(r.recap));
  t.is(await snapshot('alpha'), before);
});

test.serial('first run converges every step; the missing sysctl key is skipped with a warning', async (t) => {
  const r = await run('first');
  t.is(r.code, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /WARNING.*tcp_tw_recycle/);
  const s = await snapshot('alpha');
  t.regex(s, /^\d+$/m, 'keepalived runs (pidfile)');
  const pid = /^(\d+)$/m.exec(s)![1];
  t.is((await lab().ssh('alpha', `kill -0 ${pid} && cat /proc/${pid}/comm`)).stdout.trim(), 'keepalived');
  t.regex(s, /net\.ipv4\.ip_forward = 1/);
  t.notRegex(s, /tcp_tw_recycle/, 'a key the kernel lacks is never written');
  t.regex(s, /^1\n1\n2$/m);
  t.regex(s, /198\.18\.0\.200\/32/);
  t.regex(s, /198\.18\.9\.0\/24 via 198\.18\.0\.12 dev eth1/);
  t.regex(s, /198\.18\.0\.200,tcp:80\n198\.18\.0\.200,udp:53/);
  t.regex(s, /-A LVSPLAY-SVC -m set --match-set lvsplay-svc dst,dst -j MARK --set-xmark 0x2000\/0x2000/);
  t.regex(s, /-A POSTROUTING -m mark --mark 0x2000\/0x2000 -m comment --comment "lvsplay masquerade" -j MASQUERADE/);
  t.regex(s, /\/etc\/lvsplay-steps\.flag/);
  const beta = await snapshot('beta');
  t.regex(beta, /198\.18\.9\.0\/24 via 198\.18\.0\.11 dev eth1/);
});

test.serial('second run changes nothing (every step idempotent), --check too', async (t) => {
  const before = await snapshot('alpha');
  const r = await run('second');
  t.is(r.code, 0);
  for (const h of ['alpha', 'beta']) t.is(r.recap[h].changed, 0, r.stdout);
  const changedSteps = r.ev.filter((e) => e.event === 'step' && e.status === 'changed').map((e) => `${e.host}: ${e.step}`);
  t.deepEqual(changedSteps, []);
  t.is(await snapshot('alpha'), before, 'keepalived was not restarted, nothing rewritten');
  const c = await run('check2', ['--check']);
  t.is(c.recap.alpha.changed, 0);
});

test.serial('drift is repaired, exactly: a stray ipset member is pruned, a deleted rule comes back once', async (t) => {
  await lab().ssh('alpha', 'ipset add lvsplay-svc 198.18.0.201,tcp:8080; iptables -t nat -D OUTPUT -j LVSPLAY-SVC; ip addr del 198.18.0.200/32 dev lo');
  const r = await run('drift');
  t.is(r.code, 0, r.stdout);
  t.is(r.recap.alpha.changed, 3, r.stdout);
  t.is(r.recap.beta.changed, 0);
  const s = await snapshot('alpha');
  t.notRegex(s, /198\.18\.0\.201/);
  t.is((s.match(/-A OUTPUT -j LVSPLAY-SVC/g) ?? []).length, 1);
  t.regex(s, /198\.18\.0\.200\/32/);
});

test.serial('a validate failure keeps the old file and the running keepalived, and fails the host (exit 2)', async (t) => {
  const before = await snapshot('alpha');
  const pid = /^(\d+)$/m.exec(before)![1];
  const r = await run('broken', ['-e', 'broken_keepalived=1', '--limit', 'alpha']);
  t.is(r.code, 2, r.stdout + r.stderr);
  const failed = r.ev.find((e) => e.event === 'step' && e.status === 'failed');
  t.regex(failed?.step ?? '', /file \/etc\/keepalived\/keepalived\.conf/);
  t.regex(failed?.error ?? '', /this_is_not_a_keyword|keepalived/i);
  t.is(await snapshot('alpha'), before, 'old config, same keepalived pid, nothing after the failed step ran');
  // no temp file left beside the config (Debian ships keepalived.conf.sample there)
  t.is((await lab().ssh('alpha', `kill -0 ${pid} && echo alive; ls -A /etc/keepalived | grep -v '^keepalived.conf.sample$'`)).stdout.replace(/\s+/g, ' ').trim(), 'alive keepalived.conf');
});

test.serial('a changed config is validated, swapped, backed up, and keepalived is reloaded (SIGHUP, same pid)', async (t) => {
  const before = await snapshot('alpha');
  const pid = /^(\d+)$/m.exec(before)![1];
  await lab().ssh('alpha', "sed -i 's/advert_int 1/advert_int 2/' /etc/keepalived/keepalived.conf");
  const r = await run('reload', ['--limit', 'alpha']);
  t.is(r.code, 0, r.stdout);
  t.true(r.ev.some((e) => e.event === 'step' && e.handler && e.status === 'changed'), 'handler ran');
  const after = await snapshot('alpha');
  t.is(after, before, 'config back to the desired one, same pid');
  const backup = await lab().ssh('alpha', 'grep -c "advert_int 2" /etc/keepalived/keepalived.conf.lvsplay-backup');
  t.is(backup.stdout.trim(), '1');
  t.is((await lab().ssh('alpha', `cat /proc/${pid}/comm`)).stdout.trim(), 'keepalived');
});
