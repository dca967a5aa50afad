/**
 * Tier 2 on two plain hosts (test/fixtures/lab/pair.yaml), one VM for both parts (a VM boot costs ~20 s of CI):
 * - issue 4's steps that need a real kernel (kernelModule, link dummy/ipip, module-dependent sysctls and the ipvs
 *   step) through the real CLI over SSH: --check changes nothing, first run changes, second run 0 changed, a real
 *   server's port change leaves no stale RIP:port, a stray service is pruned. They come first, on a kernel that
 *   has loaded no IPVS or ipip module yet (the checks below load them).
 * - the lab itself: the VM boots the Debian kernel and the same fleet runs inside it, with real IPVS per host; a
 *   second lab up is a no-op; lab down stops the VM (last).
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useLab, vmUnavailable, skipLoudly } from '../helpers/lab.ts';
import { lvsplay, jsonLines } from '../helpers/cli.ts';
import { labUp, labStatus } from '../../src/lab/lab.ts';
import { readState } from '../../src/lab/state.ts';
import { labPaths } from '../../src/lab/paths.ts';

const PB = 'test/fixtures/playbooks/steps-vm.ts';
const SNAPSHOT = `grep -E '^(ip_vs|ip_vs_wrr|ipip) ' /proc/modules | cut -d' ' -f1 | sort
cat /etc/modules-load.d/ipvs.conf /etc/modules-load.d/ipip.conf 2>/dev/null
ip -br addr | grep -E '^(lvs0|tunl0)' # by name, ip would make the kernel autoload ipip
sysctl -n net.ipv4.vs.conntrack 2>/dev/null; sysctl -n net.ipv4.conf.tunl0.rp_filter 2>/dev/null
if [ -e /proc/net/ip_vs ]; then ipvsadm -Sn; ipvsadm -Ln --timeout; fi # ipvsadm autoloads ip_vs
cat /etc/ipvsadm.rules 2>/dev/null`;

const why = await vmUnavailable();
if (why) {
  skipLoudly(test, 'VM lab and steps suite', why);
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

  test.serial('the VM boots and a lab host inside shows /proc/net/ip_vs and runs ipvsadm -Ln', async (t) => {
    t.is(lab().up.tier, 'vm');
    t.log(`VM lab up in ${lab().up.seconds.toFixed(1)} s`, lab().up.phases);
    const r = await lab().ssh('alpha', 'uname -r; hostname; cat /proc/net/ip_vs; ipvsadm -Ln');
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /^6\.1\.0-\d+-amd64\nalpha\n/);
    t.regex(r.stdout, /IP Virtual Server version/);
    t.regex(r.stdout, /Prot LocalAddress:Port Scheduler Flags/);
  });

  test.serial('IPVS tables, addresses and /etc stay per host inside the VM; the machine gets no namespace', async (t) => {
    const a = await lab().ssh('alpha', 'ipvsadm -A -t 198.18.0.11:80 -s wrr && ipvsadm -a -t 198.18.0.11:80 -r 198.18.0.12:80 -m -w 2 && ipvsadm -Ln && echo x > /etc/lvsplay-vm-test');
    t.is(a.code, 0, a.stderr);
    t.regex(a.stdout, /TCP\s+198\.18\.0\.11:80 wrr/);
    const b = await lab().ssh('beta', 'ipvsadm -Ln | grep -c TCP; test -e /etc/lvsplay-vm-test && echo present || echo absent; ip -4 -br addr show eth1');
    t.regex(b.stdout, /^0\nabsent\n/);
    t.regex(b.stdout, /198\.18\.0\.12\/24/);
    // the fleet lives inside the VM: no lab namespace on this machine
    const netns = existsSync('/run/netns') ? readdirSync('/run/netns') : [];
    t.deepEqual(netns.filter((n) => n.startsWith(`lvp-${lab().id}`)), []);
    // modules autoload through the busybox modprobe wrapper (ipip, dummy for TUN and node-svc)
    const m = await lab().ssh('alpha', 'ip link add lvt0 type dummy && ip link add name lvtun type ipip remote 198.18.0.12 && ip -br link show lvt0 && ip -br link show tunl0');
    t.is(m.code, 0, m.stderr);
    // and explicitly, as roles do (modprobe + /lib/modules inside a host)
    const mp = await lab().ssh('beta', 'modprobe ip_vs_sh && grep -c "^ip_vs_sh " /proc/modules');
    t.is(mp.stdout.trim(), '1', mp.stderr);
  });

  test.serial('a second lab up is a no-op and status sees every host', async (t) => {
    const log: string[] = [];
    const r = await labUp({ inventory: lab().inventory, dir: lab().dir, vm: true, log: (s) => log.push(s) });
    t.false(r.built);
    const st = await labStatus({ dir: lab().dir });
    t.true(st.up);
    t.deepEqual(st.hosts.map((h) => h.reachable), [true, true]);
  });

  test.serial('lab down stops the VM', async (t) => {
    const vm = readState(labPaths(lab().dir))?.procs.find((p) => p.role === 'vm');
    t.truthy(vm);
    t.true(existsSync(`/proc/${vm!.pid}`));
    await lab().down();
    t.false(existsSync(`/proc/${vm!.pid}`), 'QEMU still runs after lab down');
  });
}
