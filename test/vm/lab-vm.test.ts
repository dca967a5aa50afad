// Tier 2: the VM boots the Debian kernel and the same fleet runs inside it, with real IPVS per host.
import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { useLab, vmUnavailable, skipLoudly } from '../helpers/lab.ts';
import { labUp, labStatus } from '../../src/lab/lab.ts';
import { readState } from '../../src/lab/state.ts';
import { labPaths } from '../../src/lab/paths.ts';

const why = await vmUnavailable();
if (why) {
  skipLoudly(test, 'VM lab suite', why);
} else {
  const lab = useLab(test, { topology: 'test/fixtures/lab/pair.yaml', vm: true });

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
