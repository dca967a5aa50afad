// The reference cluster (inventory/lab.yaml) in tier 1: every host up, on the right nets, with its gateway.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { useLab } from '../helpers/lab.ts';
import { loadInventory, connectionSpec } from '../../src/inventory/index.ts';

const lab = useLab(test, { topology: 'inventory/lab.yaml' });

test('the reference cluster: 8 hosts, front and back nets, NAT real servers routed via the directors', async (t) => {
  t.is(lab().up.hosts.length, 8);
  t.is(lab().up.tier, 'ns');
  const checks: Array<[string, string, RegExp]> = [
    ['client', 'busybox ping -c 1 -W 5 198.18.0.21 >/dev/null && echo front-ok', /front-ok/],
    ['dir1', 'busybox ping -c 1 -W 5 198.18.1.31 >/dev/null && echo back-ok; ip -4 -br addr show eth2', /back-ok\neth2\S*\s+UP\s+198\.18\.1\.11\/24/],
    ['nat1', 'ip route show default; busybox ping -c 1 -W 2 198.18.0.10 >/dev/null 2>&1 && echo leak || echo isolated', /default via 198\.18\.1\.1 dev eth1[^\n]*\nisolated/],
    ['node1', 'hostname', /^node1$/],
  ];
  for (const [host, script, re] of checks) {
    const r = await lab().ssh(host, script);
    t.regex(r.stdout.trim(), re, `${host}: ${r.stdout}${r.stderr}`);
  }
});

// Issue 12: the dual-stack nets (ULA fd00:18::/64 front, fd00:18:1::/64 back) exist only inside the lab
test('IPv6: hosts reach each other over the front and back nets, NAT real servers have an IPv6 default route via fd00:18:1::1, the root namespace has no lab address or route', async (t) => {
  const checks: Array<[string, string, RegExp]> = [
    // usable at once (nodad): neither tentative nor dadfailed
    ['client', 'ip -6 -o addr show dev eth1 scope global | grep -c -e tentative -e dadfailed; busybox ping -6 -c 1 -W 5 fd00:18::21 >/dev/null && echo front6-ok', /^0\nfront6-ok$/],
    ['dir1', 'busybox ping -6 -c 1 -W 5 fd00:18:1::31 >/dev/null && echo back6-ok; ip -6 -br addr show eth2', /back6-ok\neth2\S*\s+UP\s+fd00:18:1::11\/64/],
    // a TCP connect over IPv6: the web server of a test on rs2's IPv6 address, curl from rs1
    ['rs2', "busybox httpd -p '[fd00:18::22]:8086' -h /etc && echo listening", /^listening$/],
    ['rs1', "curl -sS -g -o /dev/null -w '%{http_code} %{remote_ip}' --max-time 5 'http://[fd00:18::22]:8086/hostname'", /^200 fd00:18::22$/],
    ['nat1', 'ip -6 route show default; busybox ping -6 -c 1 -W 2 fd00:18::10 >/dev/null 2>&1 && echo leak || echo isolated', /default via fd00:18:1::1 dev eth1[^\n]*\nisolated/],
  ];
  for (const [host, script, re] of checks) {
    const r = await lab().ssh(host, script);
    t.regex(r.stdout.trim(), re, `${host}: ${r.stdout}${r.stderr}`);
  }
  t.notRegex(execFileSync('ip', ['-6', 'addr', 'show'], { encoding: 'utf8' }), /fd00:18:/);
  t.notRegex(execFileSync('ip', ['-6', 'route', 'show'], { encoding: 'utf8' }), /fd00:18:/);
});

test('the lab inventory resolves to the lab key, known_hosts and the jump on 127.0.0.1', (t) => {
  const spec = connectionSpec(loadInventory(lab().inventory), 'dir1');
  t.is(spec.host, '198.19.0.11');
  t.deepEqual(spec.jumps, [{ host: '127.0.0.1', port: lab().port, user: 'root' }]);
  t.is(spec.privateKeyFile, `${lab().dir}/id_ed25519`);
  t.is(spec.knownHostsFile, `${lab().dir}/known_hosts`);
});
