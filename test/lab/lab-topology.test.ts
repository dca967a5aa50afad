// Pure: inventory → lab topology (validation with file/host/field), generated names and scripts, CLI args.
import test from 'ava';
import { ValidationError } from '../../src/errors.ts';
import { readTopology } from '../../src/lab/lab.ts';
import { topologyFromHosts, topologyHash, parseJump, type HostVarsInput } from '../../src/lab/topology.ts';
import { upScript } from '../../src/lab/scripts.ts';
import { bridgeName, switchPort, nsNames } from '../../src/lab/paths.ts';
import { parseLabArgs } from '../../src/lab/cli.ts';

const J = { ansible_ssh_common_args: '-o ProxyJump=root@127.0.0.1:2222' };
const host = (name: string, vars: Record<string, unknown>): HostVarsInput => ({ name, vars: { ...J, ...vars } });

test('the reference inventory: 8 hosts, mgmt/front/back nets, jump on 127.0.0.1:2222, needs IPVS', (t) => {
  const { topology: tp } = readTopology('inventory/lab.yaml');
  t.deepEqual(tp.hosts.map((h) => h.name).sort(), ['client', 'dir1', 'dir2', 'nat1', 'nat2', 'node1', 'rs1', 'rs2']);
  t.deepEqual(tp.nets, ['mgmt', 'front', 'back']);
  t.deepEqual(tp.jump, { user: 'root', port: 2222 });
  t.true(tp.needsIpvs);
  const dir1 = tp.hosts.find((h) => h.name === 'dir1')!;
  t.deepEqual(dir1.nics.map((n) => [n.name, n.net, n.addresses]), [
    ['eth0', 'mgmt', ['198.19.0.11/24']],
    ['eth1', 'front', ['198.18.0.11/24', 'fd00:18::11/64']],
    ['eth2', 'back', ['198.18.1.11/24', 'fd00:18:1::11/64']],
  ]);
  t.true(dir1.needsIpvs);
  t.deepEqual(tp.hosts.find((h) => h.name === 'nat1')!.gateways, ['198.18.1.1', 'fd00:18:1::1']);
  t.false(tp.hosts.find((h) => h.name === 'client')!.needsIpvs);
});

test('jump parsing accepts -o ProxyJump=, -J and a default user', (t) => {
  t.deepEqual(parseJump('-o ProxyJump=root@127.0.0.1:2200'), { user: 'root', host: '127.0.0.1', port: 2200 });
  t.deepEqual(parseJump('-J 127.0.0.1:2201'), { user: 'root', host: '127.0.0.1', port: 2201 });
  t.is(parseJump('-o StrictHostKeyChecking=no'), undefined);
});

function invalid(t: import('ava').ExecutionContext, hosts: HostVarsInput[], re: RegExp, field?: string) {
  const e = t.throws(() => topologyFromHosts(hosts, 'inv.yaml'), { instanceOf: ValidationError }) as ValidationError;
  t.regex(e.toString(), re);
  t.is(e.location.file, 'inv.yaml');
  if (field) t.is(e.location.field, field);
  t.truthy(e.hint ?? /fix/.test(e.toString()));
}

test('refuses hosts without a lab jump host, or with one off loopback', (t) => {
  invalid(t, [{ name: 'a', vars: { ansible_host: '198.19.0.2' } }], /no ProxyJump/, 'ansible_ssh_common_args');
  invalid(t, [{ name: 'a', vars: { ansible_host: '198.19.0.2', ansible_ssh_common_args: '-J root@10.0.0.1:22' } }],
    /must be on 127\.0\.0\.1/);
  invalid(t, [host('a', { ansible_host: '198.19.0.2' }),
    { name: 'b', vars: { ansible_host: '198.19.0.3', ansible_ssh_common_args: '-J root@127.0.0.1:2300' } }],
    /one lab has one jump host|others use/);
});

test('refuses addresses outside the lab range, duplicates and gateways off-link', (t) => {
  invalid(t, [host('a', { ansible_host: '10.1.2.3' })], /not a lab management address/, 'ansible_host');
  invalid(t, [host('a', { ansible_host: '198.19.0.254' })], /reserved/, 'ansible_host');
  invalid(t, [host('a', { ansible_host: '198.19.0.2', lab_nics: [{ name: 'eth1', net: 'front', address: '192.168.1.1/24' }] })],
    /outside the lab range/, 'lab_nics[0].address');
  invalid(t, [host('a', { ansible_host: '198.19.0.2', lab_nics: [{ name: 'eth1', net: 'front', address: '198.18.0.1' }] })],
    /not a CIDR/);
  invalid(t, [host('a', { ansible_host: '198.19.0.2', lab_nics: [{ name: 'eth0', net: 'front', address: '198.18.0.1/24' }] })],
    /defined twice.*management NIC/);
  invalid(t, [host('a', { ansible_host: '198.19.0.2', lab_nics: [{ name: 'eth1', net: 'mgmt', address: '198.18.0.1/24' }] })],
    /not a usable net name/);
  invalid(t, [host('a', { ansible_host: '198.19.0.2', lab_nics: [{ name: 'eth1', net: 'front', address: '198.18.0.1/24' }] }),
    host('b', { ansible_host: '198.19.0.3', lab_nics: [{ name: 'eth1', net: 'front', address: '198.18.0.1/24' }] })],
    /used by a and b/);
  invalid(t, [host('a', { ansible_host: '198.19.0.2', lab_gateway: '198.18.5.1', lab_nics: [{ name: 'eth1', net: 'front', address: '198.18.0.1/24' }] })],
    /lab_gateway 198\.18\.5\.1 is not on/, 'lab_gateway');
  invalid(t, [host('a b', { ansible_host: '198.19.0.2' })], /cannot name a lab namespace/);
  invalid(t, [host('a', { ansible_host: '198.19.0.2', lab_writable_usr: 'yes' })], /lab_writable_usr must be true or false/, 'lab_writable_usr');
  invalid(t, [host('a', { ansible_host: '198.19.0.2', lab_init: 'openrc' })], /lab_init must be plain or systemd, got "openrc"/, 'lab_init');
});

test('lab_gateway of a dual-stack host: one default route per family (IPv6 as ::/0), off-link or two of a family refused', (t) => {
  const nics = [{ name: 'eth1', net: 'back', addresses: ['198.18.1.31/24', 'fd00:18:1::31/64'] }];
  const topo = topologyFromHosts([host('n', { ansible_host: '198.19.0.31', lab_gateway: ['FD00:18:1::1', '198.18.1.1'], lab_nics: nics })], 'x.yaml');
  t.deepEqual(topo.hosts[0]!.gateways, ['198.18.1.1', 'fd00:18:1::1']);
  const script = upScript(topo, 't6', { pidsFile: '/p', hostsDir: '/h', binDir: '/b', sshDir: '/s', jumpListen: '127.0.0.1', jumpPort: 2299, jumpReady: '/r', logFile: '/l', readyTimeout: 30 });
  t.regex(script, /route add default via 198\.18\.1\.1\nroute add ::\/0 via fd00:18:1::1\n/);
  invalid(t, [host('n', { ansible_host: '198.19.0.31', lab_gateway: ['198.18.1.1', 'fd00:18:2::1'], lab_nics: nics })], /lab_gateway fd00:18:2::1 is not on/, 'lab_gateway');
  invalid(t, [host('n', { ansible_host: '198.19.0.31', lab_gateway: ['fd00:18:1::1', 'fd00:18:1::2'], lab_nics: nics })], /one default route per address family/, 'lab_gateway');
  // an IPv6 gateway needs an IPv6 address on the NIC (an IPv4 subnet does not make it on-link)
  invalid(t, [host('n', { ansible_host: '198.19.0.31', lab_gateway: 'fd00:18:1::1', lab_nics: [{ name: 'eth1', net: 'back', address: '198.18.1.31/24' }] })], /lab_gateway fd00:18:1::1 is not on/);
});

test('IPv6 lab addresses: ULA (fd00::/8) with a prefix, added without DAD; anything else refused', (t) => {
  const topo = topologyFromHosts([host('a', { ansible_host: '198.19.0.2', lab_nics: [{ name: 'eth1', net: 'front', addresses: ['198.18.0.1/24', 'FD00:18:0::1/64'] }] })], 'x.yaml');
  t.deepEqual(topo.hosts[0]!.nics[1]!.addresses, ['198.18.0.1/24', 'fd00:18::1/64']);
  t.regex(upScript(topo, 't6', { pidsFile: '/p', hostsDir: '/h', binDir: '/b', sshDir: '/s', jumpListen: '127.0.0.1', jumpPort: 2299, jumpReady: '/r', logFile: '/l', readyTimeout: 30 }), /addr add fd00:18::1\/64 dev eth1 nodad\n/);
  for (const a of ['2001:db8::1/64', 'fe80::1/64', 'fd00:18::1/128', 'fd00:18::1'])
    invalid(t, [host('a', { ansible_host: '198.19.0.2', lab_nics: [{ name: 'eth1', net: 'front', address: a }] })], /not a lab IPv6 address|not a CIDR/, 'lab_nics[0].address');
  invalid(t, [host('a', { ansible_host: '198.19.0.2', lab_nics: [{ name: 'eth1', net: 'front', address: 'fd00:18::1/64' }] }),
    host('b', { ansible_host: '198.19.0.3', lab_nics: [{ name: 'eth1', net: 'front', address: 'fd00:18:0::1/64' }] })],
    /address fd00:18::1 is used by a and b/);
});

test('lab_writable_usr and lab_init: per host, passed to the host init, plain and read-only by default', (t) => {
  const tp = topologyFromHosts([
    host('sd', { ansible_host: '198.19.0.2', lab_init: 'systemd', lab_writable_usr: true }),
    host('plain', { ansible_host: '198.19.0.3' }),
  ], 'x.yaml');
  t.like(tp.hosts[0], { init: 'systemd', writableUsr: true });
  t.like(tp.hosts[1], { init: 'plain', writableUsr: false });
  const s = upScript(tp, 'abc123', {
    binDir: '/L/bin', sshDir: '/L/ssh', hostsDir: '/L/hosts', pidsFile: '/L/pids', logFile: '/L/log',
    jumpListen: '127.0.0.1', jumpPort: 2222, jumpReady: '/L/jr', readyTimeout: 30,
  });
  t.regex(s, /host-init\.sh \/L\/hosts\/sd sd 198\.19\.0\.2 \/L\/ssh rw systemd lvsplay-abc123-sd </);
  t.regex(s, /host-init\.sh \/L\/hosts\/plain plain 198\.19\.0\.3 \/L\/ssh ro plain lvsplay-abc123-plain </);
  t.true(s.includes('/L/hosts/sd/usr.upper') && !s.includes('/L/hosts/plain/usr.upper'), 'an upper dir for /usr only where it is writable');
});

test('generated names fit the kernel limit and the script builds what the topology says', (t) => {
  const tp = topologyFromHosts([
    host('alpha', { ansible_host: '198.19.0.2', lab_nics: [{ name: 'eth1', net: 'a-very-long-net-name', addresses: ['198.18.0.2/24', '198.18.0.3/24'] }] }),
    host('beta', { ansible_host: '198.19.0.4', lab_gateway: '198.18.0.2', lab_nics: [{ name: 'eth1', net: 'a-very-long-net-name', address: '198.18.0.4/24' }] }),
  ], 'x.yaml');
  t.is(bridgeName('a-very-long-net-name', 1), 'br1');
  t.is(bridgeName('front', 1), 'br-front');
  t.true(switchPort(999, 9).length <= 15);
  const ns = nsNames('abc123');
  const s = upScript(tp, 'abc123', {
    binDir: '/L/bin', sshDir: '/L/ssh', hostsDir: '/L/hosts', pidsFile: '/L/pids', logFile: '/L/log',
    jumpListen: '127.0.0.1', jumpPort: 2222, jumpReady: '/L/jr', readyTimeout: 30,
  });
  for (const n of [ns.switch, ns.ctl, ns.host('alpha'), ns.host('beta')]) t.true(s.includes(`\nnetns add ${n}\n`), n);
  t.true(s.includes('addr add 198.18.0.2/24 dev eth1') && s.includes('addr add 198.18.0.3/24 dev eth1'));
  t.true(s.includes('route add default via 198.18.0.2'));
  t.true(s.includes(`link add h1n1 type veth peer name eth1 netns ${ns.host('beta')}`));
  t.true(s.includes('jump.pl 127.0.0.1 2222'));
  t.notRegex(s, /ip (-4 )?addr add .* dev (?!eth|lo)/, 'no address outside a lab namespace');
  // everything in the root namespace is an `ip netns …`, `ip -n NS …` or a process started inside a namespace
  t.notRegex(s, /^ip (link|addr|route) /m);
  t.not(topologyHash(tp), topologyHash({ ...tp, jump: { user: 'root', port: 2223 } }));
});

test('lab CLI arguments', (t) => {
  t.like(parseLabArgs(['up', '-i', 'inv.yaml', '--no-vm']), { cmd: 'up', inventory: 'inv.yaml', vm: false });
  t.like(parseLabArgs(['up', '--inventory=x', '--vm', '--dir', 'D']), { cmd: 'up', inventory: 'x', vm: true, dir: 'D' });
  t.deepEqual(parseLabArgs(['ssh', 'dir1', 'ip', '-br', 'a']).rest, ['dir1', 'ip', '-br', 'a']);
  t.throws(() => parseLabArgs(['up', '--bogus']), { message: /unknown option --bogus/ });
  t.throws(() => parseLabArgs(['up', '-i']), { message: /-i needs a value/ });
});
