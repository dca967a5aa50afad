// The reference cluster (inventory/lab.yaml) in tier 1: every host up, on the right nets, with its gateway.
import test from 'ava';
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

test('the lab inventory resolves to the lab key, known_hosts and the jump on 127.0.0.1', (t) => {
  const spec = connectionSpec(loadInventory(lab().inventory), 'dir1');
  t.is(spec.host, '198.19.0.11');
  t.deepEqual(spec.jumps, [{ host: '127.0.0.1', port: lab().port, user: 'root' }]);
  t.is(spec.privateKeyFile, `${lab().dir}/id_ed25519`);
  t.is(spec.knownHostsFile, `${lab().dir}/known_hosts`);
});
