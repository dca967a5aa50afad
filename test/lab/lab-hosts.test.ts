// Tier 1: real hosts in namespaces. Each host's /etc, sysctls, addresses and processes are its own.
import test from 'ava';
import { readFileSync, existsSync } from 'node:fs';
import { useLab } from '../helpers/lab.ts';
import { labUp } from '../../src/lab/lab.ts';
import { run } from '../../src/lab/run.ts';

const lab = useLab(test, { topology: 'test/fixtures/lab/pair.yaml' });

test('hosts come up in seconds and answer ssh through the jump on 127.0.0.1', async (t) => {
  t.true(lab().up.seconds < 20, `took ${lab().up.seconds} s`);
  const a = await lab().ssh('alpha', 'hostname; cat /etc/hostname; id -u');
  t.is(a.code, 0, a.stderr);
  t.deepEqual(a.stdout.trim().split('\n'), ['alpha', 'alpha', '0']);
  const b = await lab().ssh('beta', 'hostname');
  t.is(b.stdout.trim(), 'beta');
});

test('a second lab up is a no-op', async (t) => {
  const log: string[] = [];
  const r = await labUp({ inventory: lab().inventory, dir: lab().dir, vm: false, log: (s) => log.push(s) });
  t.false(r.built);
  t.regex(log.join('\n'), /already up .*nothing to do/);
  t.true(r.seconds < 5, `no-op took ${r.seconds} s`);
});

test('/etc written on one host is absent on the others and on the machine', async (t) => {
  const file = `/etc/lvsplay-lab-test-${lab().id}`;
  const w = await lab().ssh('alpha', `echo hello > ${file} && cat ${file}`);
  t.is(w.code, 0, w.stderr);
  t.is(w.stdout.trim(), 'hello');
  const r = await lab().ssh('beta', `test -e ${file} && echo present || echo absent`);
  t.is(r.stdout.trim(), 'absent');
  t.false(existsSync(file));
  // and it lives in alpha's own upper dir
  t.is(readFileSync(`${lab().dir}/hosts/alpha/etc.upper/lvsplay-lab-test-${lab().id}`, 'utf8').trim(), 'hello');
});

test('net.* sysctls are per host; other sysctls are read-only', async (t) => {
  const machineBefore = readFileSync('/proc/sys/net/ipv4/conf/all/arp_ignore', 'utf8').trim();
  const w = await lab().ssh('alpha', 'sysctl -w net.ipv4.conf.all.arp_ignore=1 >/dev/null && sysctl -n net.ipv4.conf.all.arp_ignore');
  t.is(w.code, 0, w.stderr);
  t.is(w.stdout.trim(), '1');
  t.is((await lab().ssh('beta', 'sysctl -n net.ipv4.conf.all.arp_ignore')).stdout.trim(), '0');
  t.is(readFileSync('/proc/sys/net/ipv4/conf/all/arp_ignore', 'utf8').trim(), machineBefore);
  const k = await lab().ssh('alpha', 'sysctl -w kernel.domainname=lab 2>&1; echo rc=$?');
  t.regex(k.stdout, /rc=[1-9]/, 'kernel.* must not be writable from a lab host');
});

test('addresses and routes are the host’s own; the machine has no lab address or route', async (t) => {
  const a = await lab().ssh('alpha', 'ip -4 -br addr show eth1; ip -4 -br addr show eth0');
  t.regex(a.stdout, /eth1\S*\s+UP\s+198\.18\.0\.11\/24/);
  t.regex(a.stdout, /eth0\S*\s+UP\s+198\.19\.0\.11\/24/);
  const b = await lab().ssh('beta', 'ip -4 -br addr');
  t.notRegex(b.stdout, /198\.18\.0\.11/);
  t.regex(b.stdout, /198\.18\.0\.12\/24/);
  const r = await lab().ssh('beta', 'ip route show default');
  t.regex(r.stdout, /default via 198\.18\.0\.11 dev eth1/);
  // the hosts reach each other on the lab net
  const ping = await lab().ssh('beta', 'busybox ping -c 1 -W 3 198.18.0.11 >/dev/null && echo ok');
  t.is(ping.stdout.trim(), 'ok', ping.stderr);
  const addrs = (await run('ip', ['-4', 'addr'])).stdout;
  const routes = (await run('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout;
  t.notRegex(addrs, /198\.1[89]\./);
  t.notRegex(routes, /198\.1[89]\./);
});

test('a host cannot change the machine’s /usr; its /usr/local is its own', async (t) => {
  const f = `lvsplay-lab-test-${lab().id}`;
  const r = await lab().ssh('alpha', `touch /usr/share/${f} 2>&1; echo rc=$?; echo x > /usr/local/${f} && cat /usr/local/${f}`);
  t.regex(r.stdout, /Read-only file system[\s\S]*rc=1\nx\n/);
  t.false(existsSync(`/usr/share/${f}`));
  t.false(existsSync(`/usr/local/${f}`));
  t.is((await lab().ssh('beta', `test -e /usr/local/${f} && echo present || echo absent`)).stdout.trim(), 'absent');
});

test('hosts run the LVS tooling privately (iptables, /root, /run, processes)', async (t) => {
  const tools = await lab().ssh('alpha', 'for c in keepalived ipvsadm iptables ipset curl sysctl sshd; do command -v $c >/dev/null || echo missing $c; done; ls -A /root | wc -l');
  t.is(tools.stdout.trim(), '0', tools.stdout);
  const ipt = await lab().ssh('alpha', `iptables -t nat -N LVP_TEST_${lab().id} && iptables -t nat -S | grep -c LVP_TEST`);
  t.is(ipt.code, 0, ipt.stderr);
  t.is((await lab().ssh('beta', 'iptables -t nat -S | grep -c LVP_TEST || true')).stdout.trim(), '0');
  // own pid namespace: PID 1 is the host's init, the machine's processes are invisible
  const ps = await lab().ssh('beta', 'cat /proc/1/cmdline | tr "\\0" " "; echo; ls /proc | grep -c "^[0-9]"');
  const [init, count] = ps.stdout.trim().split('\n');
  t.regex(init, /^perl /);
  t.true(Number(count) < 20, `beta sees ${count} processes`);
});
