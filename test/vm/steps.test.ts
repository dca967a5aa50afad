// Issue 4 on the VM tier (real IPVS kernel): kernelModule, link dummy/ipip, module-dependent sysctls and the
// ipvs step, through the real CLI over SSH: --check changes nothing, first run changes, second run 0 changed,
// a real server's port change leaves no stale RIP:port, a stray service is pruned.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useLab, vmUnavailable, skipLoudly } from '../helpers/lab.ts';
import { lvsplay, jsonLines } from '../helpers/cli.ts';

const PB = 'test/fixtures/playbooks/steps-vm.ts';
const SNAPSHOT = `grep -E '^(ip_vs|ip_vs_wrr|ipip) ' /proc/modules | cut -d' ' -f1 | sort
cat /etc/modules-load.d/ipvs.conf /etc/modules-load.d/ipip.conf 2>/dev/null
ip -br addr | grep -E '^(lvs0|tunl0)' # by name, ip would make the kernel autoload ipip
sysctl -n net.ipv4.vs.conntrack 2>/dev/null; sysctl -n net.ipv4.conf.tunl0.rp_filter 2>/dev/null
if [ -e /proc/net/ip_vs ]; then ipvsadm -Sn; ipvsadm -Ln --timeout; fi # ipvsadm autoloads ip_vs
cat /etc/ipvsadm.rules 2>/dev/null`;

const why = await vmUnavailable();
if (why) {
  skipLoudly(test, 'VM steps suite', why);
} else {
  const lab = useLab(test, { topology: 'test/fixtures/lab/pair.yaml', vm: true });
  const snap = async () => (await lab().ssh('alpha', SNAPSHOT)).stdout;
  const run = async (name: string, extra: string[] = []) => {
    const json = join(lab().dir, `${name}.jsonl`);
    const r = await lvsplay(['run', PB, '-i', lab().inventory, '--json', json, ...extra]);
    const ev = jsonLines(readFileSync(json, 'utf8'));
    return { ...r, ev, alpha: ev.at(-1)!.hosts.alpha as { changed: number; failed: number } };
  };

  test.serial('--check on a fresh host plans the whole chain (module → link → sysctl → ipvs) and changes nothing', async (t) => {
    const before = await snap();
    const r = await run('check', ['--check']);
    t.is(r.code, 0, r.stdout + r.stderr);
    t.true(r.alpha.changed >= 9, r.stdout);
    t.notRegex(r.stdout, /WARNING.*net\.ipv4\.vs\.conntrack/, 'the key is predicted to exist once ip_vs loads');
    t.is(await snap(), before);
  });

  test.serial('first run converges; second run changes nothing', async (t) => {
    const r = await run('first');
    t.is(r.code, 0, r.stdout + r.stderr);
    const s = await snap();
    t.regex(s, /^ip_vs\nip_vs_wrr\nipip\n/);
    t.regex(s, /ip_vs\nip_vs_wrr\nipip/);
    t.regex(s, /lvs0\s+UNKNOWN\s+198\.18\.0\.150\/32/);
    t.regex(s, /tunl0\S*\s+\S+\s+198\.18\.0\.151\/32/);
    t.regex(s, /^1\n0$/m);
    t.regex(s, /-A -t 198\.18\.0\.150:80 -s wrr/);
    t.regex(s, /-a -t 198\.18\.0\.150:80 -r 198\.18\.0\.12:8080 -m -w 2/);
    t.regex(s, /-a -t 198\.18\.0\.150:80 -r 198\.18\.0\.13:8080 -m -w 1/);
    t.regex(s, /-a -u 198\.18\.0\.150:53 -r 198\.18\.0\.12:53 -g -w 1/);
    t.regex(s, /Timeout \(tcp tcpfin udp\): 900 30 300/);
    t.regex(s, /\/etc\/ipvsadm\.rules|-A -t 198\.18\.0\.150:80 -s wrr[\s\S]*-A -t 198\.18\.0\.150:80 -s wrr/, 'persisted');
    const r2 = await run('second');
    t.is(r2.code, 0);
    t.is(r2.alpha.changed, 0, r2.stdout);
    t.is(await snap(), s);
  });

  test.serial('a real server port change converges exactly: the old RIP:port is removed', async (t) => {
    const r = await run('port', ['-e', 'rs_port=8081']);
    t.is(r.code, 0, r.stdout + r.stderr);
    const s = (await lab().ssh('alpha', 'ipvsadm -Sn')).stdout;
    t.notRegex(s, /:8080/);
    t.regex(s, /-r 198\.18\.0\.12:8081 -m -w 2/);
    t.regex(s, /-r 198\.18\.0\.13:8081 -m -w 1/);
    t.is((await run('port2', ['-e', 'rs_port=8081'])).alpha.changed, 0);
  });

  test.serial('a service and a real server added behind lvsplay\'s back are pruned; a changed weight is restored', async (t) => {
    await lab().ssh('alpha', 'ipvsadm -A -t 198.18.0.150:443 -s rr; ipvsadm -a -t 198.18.0.150:80 -r 198.18.0.14:8081 -m; ipvsadm -e -t 198.18.0.150:80 -r 198.18.0.12:8081 -m -w 5');
    const r = await run('prune', ['-e', 'rs_port=8081']);
    t.is(r.code, 0, r.stdout);
    const s = (await lab().ssh('alpha', 'ipvsadm -Sn')).stdout;
    t.notRegex(s, /:443/);
    t.notRegex(s, /198\.18\.0\.14/);
    t.regex(s, /-r 198\.18\.0\.12:8081 -m -w 2/);
  });
}
