import test from 'ava';
import { spawnSync } from 'node:child_process';
import { factSections } from '../../src/engine/apply.ts';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fileFact,
  sysctlFact,
  sysctlPath,
  kernelModuleFact,
  toolsFact,
  initFact,
  osFact,
  interfacesFact,
  routesFact,
  iptablesTableFact,
  iptablesRuleFact,
  ipsetFact,
  ipvsFact,
  parseIpvsSave,
  packagesFact,
  serviceFact,
  pathExistsFact,
  commandExitFact,
  splitSections,
} from '../../src/facts/index.ts';
import type { Fact } from '../../src/engine/types.ts';

/** Run a fact's command with sh (read-only commands only) and parse it, as the engine would. */
function runFact<T>(f: Fact<T>, shell = 'sh'): T {
  const r = spawnSync(shell, ['-c', `(\n${f.command}\n) </dev/null`], { encoding: 'utf8' });
  return f.parse(r.stdout, r.status ?? -1);
}

// ---- captured on this machine (iproute2 6.1.0) inside a throwaway netns with veth0/veth1 ----
const IP_LINK = `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","promiscuity":0,"allmulti":0,"min_mtu":0,"max_mtu":0,"inet6_addr_gen_mode":"eui64","num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536},{"ifindex":2,"link":"veth0","ifname":"veth1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"06:59:07:91:75:af","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"veth"},"inet6_addr_gen_mode":"eui64","num_tx_queues":2,"num_rx_queues":2,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536},{"ifindex":3,"link":"veth1","ifname":"veth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"26:ea:fb:ed:20:86","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"veth"},"inet6_addr_gen_mode":"eui64","num_tx_queues":2,"num_rx_queues":2,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":524280,"tso_max_segs":65535,"gro_max_size":65536}]`;
const IP_ADDR = `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet","local":"10.9.0.100","prefixlen":32,"scope":"global","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":2,"link":"veth0","ifname":"veth1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"06:59:07:91:75:af","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[{"family":"inet6","local":"fe80::459:7ff:fe91:75af","prefixlen":64,"scope":"link","tentative":true,"valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":3,"link":"veth1","ifname":"veth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"26:ea:fb:ed:20:86","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[{"family":"inet","local":"10.9.0.1","prefixlen":24,"scope":"global","label":"veth0","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet","local":"10.9.0.50","prefixlen":24,"scope":"global","secondary":true,"label":"veth0:vip","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fd00::1","prefixlen":64,"scope":"global","nodad":true,"valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fe80::24ea:fbff:feed:2086","prefixlen":64,"scope":"link","tentative":true,"valid_life_time":4294967295,"preferred_life_time":4294967295}]}]`;
const IP_ROUTE4 = `[{"dst":"default","gateway":"10.9.0.254","dev":"veth0","flags":[]},{"dst":"10.9.0.0/24","dev":"veth0","protocol":"kernel","scope":"link","prefsrc":"10.9.0.1","flags":[]},{"dst":"10.20.0.0/16","gateway":"10.9.0.2","dev":"veth0","flags":[]},{"dst":"192.0.2.7","dev":"veth0","scope":"link","flags":[]}]`;
const IP_ROUTE6 = `[{"dst":"fd00::/64","dev":"veth0","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},{"dst":"fe80::/64","dev":"veth1","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},{"dst":"fe80::/64","dev":"veth0","protocol":"kernel","metric":256,"flags":[],"pref":"medium"}]`;

test('interfacesFact parses ip -j -d link + ip -j addr', (t) => {
  const v = interfacesFact.parse(`${IP_LINK}\n@@addr\n${IP_ADDR}\n`, 0);
  t.deepEqual([...v.keys()], ['lo', 'veth1', 'veth0']);
  const veth0 = v.get('veth0')!;
  t.is(veth0.kind, 'veth');
  t.true(veth0.up);
  t.deepEqual(veth0.addresses.map((a) => `${a.address}/${a.prefix} ${a.scope}${a.label ? ` ${a.label}` : ''}`), [
    '10.9.0.1/24 global',
    '10.9.0.50/24 global veth0:vip',
    'fd00::1/64 global',
    'fe80::24ea:fbff:feed:2086/64 link',
  ]);
  // IPv6 duplicate address detection state, from ip -j's flags (a VIP found dadfailed is re-added nodad)
  t.deepEqual(veth0.addresses.map((a) => a.dad ?? '-'), ['-', '-', '-', 'tentative']);
  t.is(v.get('lo')!.kind, undefined);
  t.deepEqual(v.get('lo')!.addresses.find((a) => a.address === '10.9.0.100'), { family: 4, address: '10.9.0.100', prefix: 32, scope: 'global' });
});

test('interfacesFact fails clearly without ip or without JSON support', (t) => {
  t.throws(() => interfacesFact.parse('@@noip\n@@addr\n@@noip\n', 0), { message: /not installed/ });
  t.throws(() => interfacesFact.parse('Segmentation fault\n@@addr\nx\n', 139), { message: /did not print JSON/ });
});

// captured: iproute2 6.1 `ip -o -d link` / `ip -o addr` (the format old iproute2 without -j also prints)
const IP_O_LINK = String.raw`1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 
2: veth1@veth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\    link/ether 66:72:8d:e3:57:81 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 \    veth addrgenmode eui64 numtxqueues 2 numrxqueues 2 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 
3: veth0@veth1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 1000\    link/ether ea:84:68:4b:eb:2c brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 \    veth addrgenmode eui64 numtxqueues 2 numrxqueues 2 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 `;
const IP_O_ADDR = String.raw`1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
1: lo    inet 10.9.0.100/32 scope global lo\       valid_lft forever preferred_lft forever
1: lo    inet6 ::1/128 scope host \       valid_lft forever preferred_lft forever
3: veth0    inet 10.9.0.1/24 scope global veth0\       valid_lft forever preferred_lft forever
3: veth0    inet 10.9.0.50/24 scope global secondary veth0:vip\       valid_lft forever preferred_lft forever
3: veth0    inet6 fd00::1/64 scope global nodad \       valid_lft forever preferred_lft forever`;
// captured: busybox 1.35 `ip -o link` (no -d: no kinds)
const BB_O_LINK = String.raw`1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
3: veth0@veth1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue qlen 1000\    link/ether ea:84:68:4b:eb:2c brd ff:ff:ff:ff:ff:ff`;

test('interfacesFact text fallback: ip -o output (old iproute2, busybox ip)', (t) => {
  const v = interfacesFact.parse(`@@text\n${IP_O_LINK}\n@@addr\n${IP_O_ADDR}\n`, 0);
  t.deepEqual([...v.keys()], ['lo', 'veth1', 'veth0']);
  t.like(v.get('veth0'), { kind: 'veth', up: true, linkType: 'ether' });
  t.like(v.get('veth1'), { kind: 'veth', up: false });
  t.is(v.get('lo')!.kind, undefined);
  t.deepEqual(v.get('veth0')!.addresses.map((a) => `${a.address}/${a.prefix} ${a.scope}${a.label ? ` ${a.label}` : ''}`), ['10.9.0.1/24 global', '10.9.0.50/24 global veth0:vip', 'fd00::1/64 global']);
  t.deepEqual(v.get('lo')!.addresses.map((a) => `${a.address}/${a.prefix} ${a.scope}`), ['127.0.0.1/8 host', '10.9.0.100/32 global', '::1/128 host']);
  const failed = interfacesFact.parse(`@@text\n${IP_O_LINK}\n@@addr\n${IP_O_ADDR.replace('scope global nodad', 'scope global dadfailed tentative')}\n`, 0);
  t.deepEqual(failed.get('veth0')!.addresses.map((a) => a.dad ?? '-'), ['-', '-', 'dadfailed']);
  const bb = interfacesFact.parse(`@@text\n${BB_O_LINK}\n@@addr\n${IP_O_ADDR.replace('scope global nodad', 'scope global flags 02')}\n`, 0);
  t.deepEqual(bb.get('veth0')!.addresses.map((a) => a.label ?? '-'), ['-', 'veth0:vip', '-']);
});

test('interfacesFact and routesFact run for real with busybox ip (no JSON)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-bbip-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync('/bin/busybox', join(dir, 'ip'));
  const env = { ...process.env, PATH: `${dir}:${process.env.PATH}` };
  for (const f of [interfacesFact, routesFact] as const) {
    const r = spawnSync('sh', ['-c', `(\n${f.command}\n) </dev/null`], { encoding: 'utf8', env });
    t.true(r.stdout.startsWith('@@text\n'), r.stdout.slice(0, 80));
  }
  const r = spawnSync('sh', ['-c', interfacesFact.command], { encoding: 'utf8', env });
  const ifaces = interfacesFact.parse(r.stdout, r.status ?? 0);
  t.true(ifaces.get('lo')!.addresses.some((a) => a.address === '127.0.0.1' && a.prefix === 8));
  const rr = spawnSync('sh', ['-c', routesFact.command], { encoding: 'utf8', env });
  const real = spawnSync('sh', ['-c', routesFact.command], { encoding: 'utf8' });
  // the same unicast routes as the JSON path reports (busybox also lists typed routes such as multicast
  // ff00::/8, which the route steps ignore)
  const brief = (rs: ReturnType<typeof routesFact.parse>) => rs.filter((x) => !x.type).map((x) => `${x.dst} ${x.via ?? ''} ${x.dev ?? ''}`).sort();
  t.deepEqual(brief(routesFact.parse(rr.stdout, 0)), brief(routesFact.parse(real.stdout, 0)));
});

test('interfacesFact runs for real with iproute2 JSON: one `ip -j -d addr show`, the same interfaces as link + addr listings', (t) => {
  const r = spawnSync('sh', ['-c', `(\n${interfacesFact.command}\n) </dev/null`], { encoding: 'utf8' });
  t.true(r.stdout.startsWith('@@links+addr\n['), r.stdout.slice(0, 80));
  const one = interfacesFact.parse(r.stdout, r.status ?? 0);
  t.true(one.get('lo')!.addresses.some((a) => a.address === '127.0.0.1' && a.prefix === 8));
  t.is(one.get('lo')!.linkType, 'loopback');
  // the former command's output format (link listing, @@addr, address listing) still parses, to the same result
  const two = spawnSync('sh', ['-c', 'ip -j -d link show; echo @@addr; ip -j addr show'], { encoding: 'utf8' });
  t.deepEqual([...interfacesFact.parse(two.stdout, 0)], [...one]);
});

test('routesFact text fallback', (t) => {
  const text = '@@text\ndefault via 10.9.0.254 dev veth0 \n10.9.0.0/24 dev veth0 proto kernel scope link src 10.9.0.1 linkdown \n10.20.0.0/16 via 10.9.0.2 dev veth0 linkdown \nunreachable 10.99.0.0/16 \n@@inet6\nfd00::/64 dev veth0 proto kernel metric 256 linkdown pref medium\nmulticast ff00::/8 dev veth0  metric 256 \n';
  const r = routesFact.parse(text, 0);
  t.deepEqual(r.map((x) => `${x.dst} ${x.via ?? '-'} ${x.dev ?? '-'} ${x.type ?? ''}`.trim()), [
    '0.0.0.0/0 10.9.0.254 veth0',
    '10.9.0.0/24 - veth0',
    '10.20.0.0/16 10.9.0.2 veth0',
    '10.99.0.0/16 - - unreachable',
    'fd00::/64 - veth0',
    'ff00::/8 - veth0 multicast',
  ]);
  t.is(r[4]!.metric, 256);
});

test('routesFact parses IPv4 and IPv6 main table routes, normalising destinations', (t) => {
  const r = routesFact.parse(`${IP_ROUTE4}\n@@inet6\n${IP_ROUTE6}\n`, 0);
  t.deepEqual(r.slice(0, 4).map((x) => `${x.dst} ${x.via ?? '-'} ${x.dev}`), [
    '0.0.0.0/0 10.9.0.254 veth0',
    '10.9.0.0/24 - veth0',
    '10.20.0.0/16 10.9.0.2 veth0',
    '192.0.2.7/32 - veth0',
  ]);
  t.is(r.filter((x) => x.family === 6).length, 3);
  t.is(r[4]!.metric, 256);
  // a host with IPv6 disabled prints an error for -6: IPv4 routes still parse
  t.is(routesFact.parse(`${IP_ROUTE4}\n@@inet6\nRTNETLINK answers: Address family not supported\n`, 2).length, 4);
});

// ---- iptables v1.8.9 (nf_tables), captured in a netns ----
const IPT_NAT = `-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-N SERVICES
-A PREROUTING -j SERVICES
-A OUTPUT -j SERVICES
-A POSTROUTING -m mark --mark 0x2000/0x2000 -m comment --comment "lvsplay: masquerade marked" -j MASQUERADE
-A SERVICES -m set --match-set svc dst,dst -j MARK --set-xmark 0x2000/0x2000`;

test('iptablesTableFact parses iptables -S', (t) => {
  const f = iptablesTableFact('nat');
  t.is(f.key, 'iptables:nat');
  const v = f.parse(`@@rules\n${IPT_NAT}\n`, 0);
  t.true(v.tool);
  t.is(v.chains.get('PREROUTING'), 'ACCEPT');
  t.is(v.chains.get('SERVICES'), null);
  t.deepEqual(v.rules.get('SERVICES'), ['-m set --match-set svc dst,dst -j MARK --set-xmark 0x2000/0x2000']);
  t.is(v.rules.get('POSTROUTING')!.length, 1);
  t.false(f.parse('@@notool\n', 0).tool);
  t.throws(() => f.parse('@@error 3\niptables v1.8.9 (legacy): can\'t initialize iptables table `nat\': Permission denied\n', 0), { message: /Permission denied/ });
  t.is(iptablesTableFact('filter', 6).key, 'ip6tables:filter');
});

test('iptablesRuleFact reads chain existence and the -C exit code', (t) => {
  const f = iptablesRuleFact('nat', 'SERVICES', '-j ACCEPT');
  t.deepEqual(f.parse('@@chain yes\n@@check 0\n\n', 0), { tool: true, chainExists: true, check: 0, message: '' });
  // captured: -C for an absent rule; -C in a missing chain; a missing jump target
  t.like(f.parse('@@chain yes\n@@check 1\niptables: Bad rule (does a matching rule exist in that chain?).\n', 0), { check: 1, chainExists: true });
  t.like(f.parse('@@chain no\n@@check 1\niptables: Bad rule (does a matching rule exist in that chain?).\n', 0), { check: 1, chainExists: false });
  const r = f.parse("@@chain yes\n@@check 2\niptables v1.8.9 (nf_tables): Chain 'NOPE2' does not exist\nTry `iptables -h' or 'iptables --help' for more information.\n", 0);
  t.is(r.check, 2);
  t.is(r.message, "iptables v1.8.9 (nf_tables): Chain 'NOPE2' does not exist");
  t.false(f.parse('@@notool\n', 0).tool);
});

// ---- ipset v7.17, captured ----
test('ipsetFact parses ipset save, a missing set and a missing tool', (t) => {
  const f = ipsetFact('svc');
  const v = f.parse(
    '@@set\ncreate svc hash:ip,port family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x53d2d488\nadd svc 10.96.0.10,tcp:80\nadd svc 10.96.0.10,udp:53\nadd svc 10.96.0.11,tcp:80\n',
    0,
  );
  t.deepEqual(v, {
    tool: true,
    exists: true,
    type: 'hash:ip,port',
    options: { family: 'inet', hashsize: '1024', maxelem: '65536', bucketsize: '12', initval: '0x53d2d488' },
    members: ['10.96.0.10,tcp:80', '10.96.0.10,udp:53', '10.96.0.11,tcp:80'],
  });
  t.deepEqual(f.parse('@@error 1\nipset v7.17: The set with the given name does not exist\n', 0), { tool: true, exists: false });
  t.deepEqual(f.parse('@@notool\n', 0), { tool: false });
  t.throws(() => f.parse('@@error 1\nipset v7.17: Kernel error received: Operation not permitted\n', 0), { message: /Operation not permitted/ });
  const six = ipsetFact('h6').parse('@@set\ncreate h6 hash:ip family inet6 hashsize 1024 maxelem 65536 bucketsize 12 initval 0x05c12bb1\nadd h6 fd00::1\n', 0);
  t.like(six, { type: 'hash:ip', members: ['fd00::1'] });
});

// ---- ipvsadm 1.31 -Sn format (written from ipvsadm's print_service_entry: this kernel has no IPVS) ----
const IPVS_SAVE = `-A -t 10.0.10.100:80 -s wrr
-a -t 10.0.10.100:80 -r 10.0.20.11:8080 -m -w 2
-a -t 10.0.10.100:80 -r 10.0.20.12:8080 -m -w 1
-A -t 10.0.10.101:443 -s sh -p 300 -M 255.255.255.0 -b sh-fallback,sh-port
-a -t 10.0.10.101:443 -r 10.0.20.11:443 -g -w 1
-A -u [fd00::100]:53 -s rr ops
-a -u [fd00::100]:53 -r [fd00::11]:53 -i -w 1 --tun-type gue --tun-port 6080
-A -f 7 -s lc
-a -f 7 -r 10.0.20.13:0 -g -w 0
-A -f 8 -6 -s rr -p 60 -M 64 --pe sip`;

test('ipvsFact parses ipvsadm -Sn and the timeouts', (t) => {
  const v = ipvsFact.parse(`@@rules\n${IPVS_SAVE}\n@@timeouts\nTimeout (tcp tcpfin udp): 900 120 300\n`, 0);
  if (!v.tool || !v.kernel) return t.fail('expected a table');
  t.deepEqual(v.timeouts, { tcp: 900, tcpfin: 120, udp: 300 });
  t.deepEqual(v.services.map((s) => s.id), ['tcp:10.0.10.100:80', 'tcp:10.0.10.101:443', 'udp:[fd00::100]:53', 'fwmark:4:7', 'fwmark:6:8']);
  const [nat, sh, udp6, fw, fw6] = v.services;
  t.deepEqual(nat!.realServers, [
    { address: '10.0.20.11', port: 8080, method: 'nat', weight: 2 },
    { address: '10.0.20.12', port: 8080, method: 'nat', weight: 1 },
  ]);
  t.like(sh, { scheduler: 'sh', persistent: 300, netmask: '255.255.255.0', schedFlags: ['sh-fallback', 'sh-port'] });
  t.like(udp6, { family: 6, address: 'fd00::100', onePacket: true });
  t.deepEqual(udp6!.realServers, [{ address: 'fd00::11', port: 53, method: 'tun', weight: 1 }]);
  t.deepEqual(fw!.realServers, [{ address: '10.0.20.13', port: 0, method: 'dr', weight: 0 }]);
  t.like(fw6, { family: 6, pe: 'sip', persistent: 60, netmask: '64', realServers: [] });
});

test('ipvsFact reports a kernel without IPVS and a missing ipvsadm', (t) => {
  // captured on this machine: ipvsadm without ip_vs in the kernel
  t.deepEqual(ipvsFact.parse('@@error 1\nCan\'t initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n', 0), {
    tool: true,
    kernel: false,
    message: "Can't initialize ipvs: Protocol not available Are you sure that IP Virtual Server is built in the kernel or as module?",
  });
  t.deepEqual(ipvsFact.parse('@@notool\n', 0), { tool: false });
  t.deepEqual(ipvsFact.parse('@@rules\n\n@@timeouts\nTimeout (tcp tcpfin udp): 900 120 300\n', 0), { tool: true, kernel: true, services: [], timeouts: { tcp: 900, tcpfin: 120, udp: 300 } });
  t.throws(() => parseIpvsSave('x', '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 1'), { message: /before its service/ });
  t.throws(() => parseIpvsSave('x', '-A -t 10.0.0.1:80 -s rr --frobnicate'), { message: /unknown ipvsadm -S token/ });
});

test('sysctlFact maps keys to /proc/sys paths and parses present/missing', (t) => {
  t.is(sysctlPath('net.ipv4.ip_forward'), '/proc/sys/net/ipv4/ip_forward');
  t.is(sysctlPath('net/ipv4/conf/eth0.100/rp_filter'), '/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
  const f = sysctlFact(['net.ipv4.tcp_tw_recycle', 'net.ipv4.ip_forward']);
  const v = f.parse('/proc/sys/net/ipv4/ip_forward:1\n', 0);
  t.is(v.get('net.ipv4.ip_forward'), '1');
  t.is(v.get('net.ipv4.tcp_tw_recycle'), null);
  t.throws(() => f.parse('/proc/sys/net/ipv4/ip_forward:1\njunk\n', 0), { message: /unexpected line "junk"/ });
  t.throws(() => f.parse('@@nogrep\n', 0), { message: /no grep/ });
  // several lines of one file: joined with spaces
  t.is(sysctlFact(['kernel.core_modes']).parse('/proc/sys/kernel/core_modes:file\n/proc/sys/kernel/core_modes:pipe\n', 0).get('kernel.core_modes'), 'file pipe');
});

test('sysctlFact command runs for real (dash and busybox sh): tabs collapse, missing and write-only keys reported', (t) => {
  const f = sysctlFact(['net.ipv4.ip_local_port_range', 'net.ipv4.tcp_tw_recycle', 'kernel.ostype', 'net.ipv4.route.flush', 'net.ipv4.tcp_fin_timeout']);
  const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
  for (const sh of ['sh', 'busybox']) {
    const v = sh === 'busybox' ? runFactBusybox(f) : runFact(f);
    // the whole value: /proc/sys integer files answer only a read at offset 0 (a byte-wise shell read gets "3")
    t.is(v.get('net.ipv4.ip_local_port_range'), `${lo} ${hi}`);
    t.is(v.get('net.ipv4.tcp_fin_timeout'), readFileSync('/proc/sys/net/ipv4/tcp_fin_timeout', 'utf8').trim());
    t.is(v.get('net.ipv4.tcp_tw_recycle'), null);
    t.is(v.get('net.ipv4.route.flush'), null, 'write-only: unreadable counts as missing');
    t.is(v.get('kernel.ostype'), 'Linux');
  }
});

function runFactBusybox<T>(f: Fact<T>): T {
  const r = spawnSync('busybox', ['sh', '-c', `(\n${f.command}\n) </dev/null`], { encoding: 'utf8' });
  return f.parse(r.stdout, r.status ?? -1);
}

test('fileFact runs for real: content, mode, hash; absent; directory (dash and busybox)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-facts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const p = join(dir, "we ird'name.conf");
  writeFileSync(p, 'a = 1\nb = 2\n');
  chmodSync(p, 0o640);
  for (const run of [runFact, runFactBusybox]) {
    const v = run(fileFact(p));
    if (!v.exists) return t.fail('expected a file');
    t.like(v, { type: 'file', mode: 0o640, uid: process.getuid!(), size: 12, content: 'a = 1\nb = 2\n', sha256: createHash('sha256').update('a = 1\nb = 2\n').digest('hex') });
    t.deepEqual(run(fileFact(join(dir, 'nope'))), { exists: false });
    t.like(run(fileFact(dir)), { exists: true, type: 'directory' });
  }
  writeFileSync(p, '');
  t.like(runFact(fileFact(p)), { exists: true, size: 0, content: '', sha256: createHash('sha256').update('').digest('hex') });
  // above the content limit: hashed on the host, no content fetched
  const big = Buffer.alloc(1024 * 1024 + 1, 'x');
  writeFileSync(p, big);
  for (const run of [runFact, runFactBusybox]) {
    const v = run(fileFact(p));
    t.like(v, { exists: true, type: 'file', size: big.length, sha256: createHash('sha256').update(big).digest('hex') });
    t.false('content' in v && v.content !== undefined, 'no content above the limit');
  }
});

test('kernelModuleFact: built-in via /sys/module, absent otherwise (this kernel has no /proc/modules)', (t) => {
  t.is(runFact(kernelModuleFact('bridge')), 'builtin');
  t.is(runFact(kernelModuleFact('ip_vs')), 'absent');
  t.is(kernelModuleFact('ip-vs').key, 'kmod:ip_vs');
  t.is(kernelModuleFact('ip_vs').parse('loaded\n', 0), 'loaded');
  t.throws(() => kernelModuleFact('ip_vs').parse('', 0));
});

test('host facts: tools, init, os-release (real run)', (t) => {
  const tools = runFact(toolsFact);
  t.true(tools.has('ip'));
  t.true(tools.has('busybox'));
  t.true(tools.has('busybox-modprobe'));
  t.true(tools.has('busybox-sysctl'));
  t.false(tools.has('modprobe')); // kmod is not installed on this machine (lab notes)
  t.deepEqual(runFact(initFact), { systemd: false });
  const os = runFact(osFact);
  t.is(os.id, 'debian');
  t.deepEqual(osFact.parse('NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n', 0), { id: 'ubuntu', family: ['ubuntu', 'debian'], versionId: '22.04' });
  t.deepEqual(osFact.parse('', 0), { id: '', family: [], versionId: '' });
});

test('packagesFact (real run on Debian) and dnf output', (t) => {
  const v = runFact(packagesFact(['ipvsadm', 'lvsplay-no-such-package']));
  t.is(v.manager, 'apt');
  t.true(v.installed.has('ipvsadm'));
  t.true(v.missing.has('lvsplay-no-such-package'));
  const d = packagesFact(['ipvsadm']).parse('@@dnf\nmissing ipvsadm\n', 0);
  t.is(d.manager, 'dnf');
  t.deepEqual(packagesFact(['x']).parse('@@none\n', 0), { installed: new Set(), missing: new Set() });
});

test('serviceFact: systemd and pidfile states', (t) => {
  const f = serviceFact('keepalived.service', '/run/keepalived.pid', 'keepalived');
  t.deepEqual(f.parse('@@active active\n@@enabled enabled\n', 0), { manager: 'systemd', active: 'active', enabled: 'enabled' });
  t.deepEqual(f.parse('@@active inactive\n@@enabled \n', 0), { manager: 'systemd', active: 'inactive', enabled: 'not-found' });
  t.deepEqual(f.parse('@@pid 4242\n', 0), { manager: 'plain', pid: 4242, stalePidfile: false });
  t.deepEqual(f.parse('@@stale\n', 0), { manager: 'plain', stalePidfile: true });
  t.deepEqual(f.parse('@@nopidfile\n', 0), { manager: 'plain', stalePidfile: false });
  // real run: a pidfile naming this very test's sh process is "foreign" (comm is not keepalived)
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-svc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'k.pid'), `${process.pid}\n`);
  t.deepEqual(runFact(serviceFact('k', join(dir, 'k.pid'), 'keepalived')), { manager: 'plain', stalePidfile: true });
  t.deepEqual(runFact(serviceFact('k', join(dir, 'k.pid'), 'node')), { manager: 'plain', pid: process.pid, stalePidfile: false });
});

test('guard facts run for real', (t) => {
  t.true(runFact(pathExistsFact('/etc/os-release')));
  t.false(runFact(pathExistsFact('/nonexistent/lvsplay')));
  t.is(runFact(commandExitFact('grep -q root /etc/passwd')), 0);
  t.is(runFact(commandExitFact('exit 3')), 3);
  t.is(runFact(commandExitFact('echo "rc 0"; false')), 1);
});

test('splitSections', (t) => {
  t.deepEqual(splitSections('junk\n@@a 1\nx\n\n@@b\n'), [
    { name: 'a', arg: '1', lines: ['x'] },
    { name: 'b', arg: '', lines: [] },
  ]);
});

test('file facts of several paths share one section (one stat): each parses exactly as its own command (dash and busybox)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-files-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const p = (n: string) => join(dir, n);
  writeFileSync(p("we ird'name.conf"), 'a = 1\nb = 2\n');
  chmodSync(p("we ird'name.conf"), 0o640);
  writeFileSync(p('empty'), '');
  writeFileSync(p('binary'), Buffer.from([0, 1, 2, 255, 10, 0]));
  writeFileSync(p('big'), Buffer.alloc(1024 * 1024 + 1, 'y'));
  writeFileSync(p('$HOME `x` \\n'), 'dollar\n');
  symlinkSync(p('empty'), p('link'));
  symlinkSync(p('nowhere'), p('dangling'));
  mkdirSync(p('sub'));
  const paths = ["we ird'name.conf", 'empty', 'binary', 'big', '$HOME `x` \\n', 'link', 'dangling', 'sub', 'absent'].map(p);
  const facts = paths.map(fileFact);
  const sections = factSections(facts);
  t.is(sections.length, 1, 'one section for all of them');
  for (const shell of [['sh', '-c'], ['busybox', 'sh', '-c']]) {
    const r = spawnSync(shell[0]!, [...shell.slice(1), `(\n${sections[0]!.command}\n) </dev/null`], { encoding: 'utf8' });
    const parts = sections[0]!.split(r.stdout);
    t.is(parts.length, paths.length);
    facts.forEach((f, i) => t.deepEqual(f.parse(parts[i]!, r.status ?? -1), runFact(f), `${shell[0]}: ${paths[i]}`));
  }
  // one file fact alone keeps its own command; a path the batch cannot match (space at an end) keeps its own too
  t.is(factSections([fileFact(p('empty'))])[0]!.command, fileFact(p('empty')).command);
  const odd = factSections([fileFact(p('empty')), fileFact(p('big')), fileFact(p('trailing '))]);
  t.is(odd.length, 2);
  t.is(odd[1]!.command, fileFact(p('trailing ')).command);
  // a truncated output: the parts before the cut only
  t.is(sections[0]!.split('@@@file 0\n@@absent\n@@@file 2\n@@absent\n').length, 1);
});
