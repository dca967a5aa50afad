import test from 'ava';
import { ValidationError } from '../../src/errors.ts';
import { address, addressAbsent, iptablesChain, iptablesRule, ipset, kernelModule, link, linkAbsent, route, routeAbsent } from '../../src/steps/index.ts';
import { normalizeMember } from '../../src/steps/ipset.ts';
import { shellWords } from '../../src/steps/shellwords.ts';
import { planWith, rawTools } from './steps-harness.ts';
import { PredictedState } from '../../src/engine/predicted-state.ts';

const invalid = (t: import('ava').ExecutionContext, fn: () => unknown, re: RegExp) => {
  const e = t.throws(fn, { instanceOf: ValidationError });
  t.regex(e!.toString(), re);
};

/** ip -j output for interfaces: name → [flags, kind, addresses as 'a/p scope [label]'] */
function rawIfaces(spec: Record<string, { up?: boolean; kind?: string; addrs?: string[] }>): string {
  const links = Object.entries(spec).map(([n, s], i) => ({ ifindex: i + 1, ifname: n, flags: s.up === false ? ['BROADCAST', 'NOARP'] : ['BROADCAST', 'NOARP', 'UP', 'LOWER_UP'], link_type: 'ether', ...(s.kind ? { linkinfo: { info_kind: s.kind } } : {}) }));
  const addrs = Object.entries(spec).map(([n, s]) => ({
    ifname: n,
    addr_info: (s.addrs ?? []).map((a) => {
      const [cidr, scope, label] = a.split(' ');
      const [local, len] = cidr!.split('/');
      // a label of `dadfailed`/`tentative` is the IPv6 DAD flag ip -j prints as a boolean
      const dad = label === 'dadfailed' || label === 'tentative' ? { [label]: true } : undefined;
      return { family: local!.includes(':') ? 'inet6' : 'inet', local, prefixlen: Number(len), scope: scope ?? 'global', ...(dad ?? (label ? { label } : {})) };
    }),
  }));
  return `${JSON.stringify(links)}\n@@addr\n${JSON.stringify(addrs)}\n`;
}

// ---------------- address ----------------
test('address: add, no change, replace a different prefix, missing device, predicted device', (t) => {
  const s = address('lo', '10.0.0.100/32');
  t.is(s.name, 'address 10.0.0.100/32 dev lo');
  t.deepEqual(planWith(s, { 'ip:interfaces': rawIfaces({ lo: { addrs: ['127.0.0.1/8 host'] } }) }).changes.map((c) => c.script), ['ip addr add 10.0.0.100/32 dev lo scope global']);
  t.deepEqual(planWith(s, { 'ip:interfaces': rawIfaces({ lo: { addrs: ['10.0.0.100/32'] } }) }).changes, []);
  const r = planWith(s, { 'ip:interfaces': rawIfaces({ lo: { addrs: ['10.0.0.100/24'] } }) });
  t.is(r.changes[0]!.script, 'ip addr del 10.0.0.100/24 dev lo\nip addr add 10.0.0.100/32 dev lo scope global');
  const d = address('dummy0', '10.96.0.10/32', { label: 'dummy0:svc' });
  t.throws(() => planWith(d, { 'ip:interfaces': rawIfaces({ lo: {} }) }), { message: /device dummy0 does not exist[\s\S]*link\('dummy0', \{type: 'dummy'\}\)/ });
  const state = new PredictedState();
  planWith(link('dummy0', { type: 'dummy' }), { 'ip:interfaces': rawIfaces({ lo: {} }), 'host:tools': rawTools('ip') }, state);
  t.is(planWith(d, { 'ip:interfaces': rawIfaces({ lo: {} }) }, state).changes[0]!.script, 'ip addr add 10.96.0.10/32 dev dummy0 scope global label dummy0:svc');
  t.is(planWith(address('eth0', 'FD00:0::1/64'), { 'ip:interfaces': rawIfaces({ eth0: { addrs: ['fd00::1/64'] } }) }).changes.length, 0);
});

test('address: an IPv6 VIP as /128, nodad, and an address that failed duplicate address detection is re-added without DAD', (t) => {
  const s = address('ip6tnl0', 'fd00:18::100/128', { nodad: true });
  t.deepEqual(planWith(s, { 'ip:interfaces': rawIfaces({ ip6tnl0: {} }) }).changes.map((c) => c.script), ['ip addr add fd00:18::100/128 dev ip6tnl0 scope global nodad']);
  t.deepEqual(planWith(s, { 'ip:interfaces': rawIfaces({ ip6tnl0: { addrs: ['fd00:18::100/128 global'] } }) }).changes, []);
  const failed = planWith(s, { 'ip:interfaces': rawIfaces({ ip6tnl0: { addrs: ['fd00:18::100/128 global dadfailed'] } }) }).changes;
  t.is(failed.length, 1);
  t.regex(failed[0]!.summary, /replace fd00:18::100\/128 \(scope global, dadfailed\) on ip6tnl0 with fd00:18::100\/128 \(nodad\)/);
  t.is(failed[0]!.script, 'ip addr del fd00:18::100/128 dev ip6tnl0\nip addr add fd00:18::100/128 dev ip6tnl0 scope global nodad');
  // without nodad a running DAD (tentative) is left to finish
  t.deepEqual(planWith(address('lo', 'fd00:18::100/128'), { 'ip:interfaces': rawIfaces({ lo: { addrs: ['fd00:18::100/128 global tentative'] } }) }).changes, []);
  invalid(t, () => address('lo', '10.0.0.1/32', { nodad: true }), /nodad.*applies to IPv6 addresses only/);
});

test('address: tunl0 exists once an earlier step loads ipip', (t) => {
  const state = new PredictedState();
  planWith(kernelModule('ipip'), { 'kmod:ipip': 'absent\n', 'host:tools': rawTools('modprobe'), 'file:/etc/modules-load.d/ipip.conf': '@@absent\n' }, state);
  t.is(planWith(address('tunl0', '10.0.0.100/32'), { 'ip:interfaces': rawIfaces({ lo: {} }) }, state).changes.length, 1);
});

test('addressAbsent: removes every prefix of the address; absent device is fine', (t) => {
  const s = addressAbsent('lo', '10.0.0.100/32');
  t.deepEqual(planWith(s, { 'ip:interfaces': rawIfaces({ lo: { addrs: ['10.0.0.100/32', '10.0.0.100/24'] } }) }).changes.map((c) => c.script), ['ip addr del 10.0.0.100/32 dev lo', 'ip addr del 10.0.0.100/24 dev lo']);
  t.deepEqual(planWith(s, { 'ip:interfaces': rawIfaces({ lo: {} }) }).changes, []);
  t.deepEqual(planWith(addressAbsent('eth9', '10.0.0.1/32'), { 'ip:interfaces': rawIfaces({ lo: {} }) }).changes, []);
});

test('address: validation', (t) => {
  invalid(t, () => address('lo', '10.0.0.300/32'), /is not an address with prefix/);
  invalid(t, () => address('lo', '10.0.0.1/32', { label: 'eth0:x' }), /labels are IPv4-only and must start with the device name/);
  invalid(t, () => address('a-very-long-interface-name', '10.0.0.1/32'), /not an interface name/);
  invalid(t, () => address('lo', '10.0.0.1/32', { scope: 'universe' } as never), /option "scope"/);
});

// ---------------- link ----------------
test('link: dummy add+up; up only; type clash; down; tunl0 via ipip; absent', (t) => {
  const s = link('dummy0', { type: 'dummy' });
  const tools = { 'host:tools': rawTools('modprobe', 'ip') };
  t.deepEqual(planWith(s, { 'ip:interfaces': rawIfaces({ lo: {} }), ...tools }).changes.map((c) => c.script), ['ip link show dev dummy0 >/dev/null 2>&1 || ip link add dummy0 type dummy', 'ip link set dev dummy0 up']);
  t.deepEqual(planWith(s, { 'ip:interfaces': rawIfaces({ dummy0: { kind: 'dummy', up: false } }), ...tools }).changes.map((c) => c.script), ['ip link set dev dummy0 up']);
  t.deepEqual(planWith(s, { 'ip:interfaces': rawIfaces({ dummy0: { kind: 'dummy' } }), ...tools }).changes, []);
  t.throws(() => planWith(s, { 'ip:interfaces': rawIfaces({ dummy0: { kind: 'veth' } }), ...tools }), { message: /exists with type veth, not dummy/ });
  t.deepEqual(planWith(link('dummy0', { type: 'dummy', up: false }), { 'ip:interfaces': rawIfaces({ dummy0: { kind: 'dummy' } }), ...tools }).changes.map((c) => c.script), ['ip link set dev dummy0 down']);
  const tun = planWith(link('tunl0', { type: 'ipip' }), { 'ip:interfaces': rawIfaces({ lo: {} }), ...tools });
  t.deepEqual(tun.changes.map((c) => c.script), ['modprobe ipip', 'ip link set dev tunl0 up']);
  // ip6tnl0 is ip6_tunnel's fallback device (IPv6-in-IPv6, IPVS-TUN for IPv6 services); an address on it plans after it
  const st6 = new PredictedState();
  const tun6 = planWith(link('ip6tnl0', { type: 'ip6tnl' }), { 'ip:interfaces': rawIfaces({ lo: {} }), ...tools }, st6);
  t.deepEqual(tun6.changes.map((c) => c.script), ['modprobe ip6_tunnel', 'ip link set dev ip6tnl0 up']);
  t.is(planWith(address('ip6tnl0', 'fd00:18::101/128', { nodad: true }), { 'ip:interfaces': rawIfaces({ lo: {} }) }, st6).changes.length, 1);
  t.deepEqual(planWith(linkAbsent('dummy0'), { 'ip:interfaces': rawIfaces({ dummy0: { kind: 'dummy' } }) }).changes.map((c) => c.script), ['ip link del dev dummy0']);
  t.deepEqual(planWith(linkAbsent('dummy0'), { 'ip:interfaces': rawIfaces({ lo: {} }) }).changes, []);
  invalid(t, () => linkAbsent('tunl0'), /cannot be deleted/);
  invalid(t, () => link('x0', { type: 'vxlan' } as never), /option "type"/);
  invalid(t, () => link('x0', {} as never), /option "type"/);
});

// ---------------- route ----------------
const ROUTES = `[{"dst":"default","gateway":"10.9.0.254","dev":"veth0","flags":[]},{"dst":"10.9.0.0/24","dev":"veth0","protocol":"kernel","scope":"link","prefsrc":"10.9.0.1","flags":[]},{"dst":"10.20.0.0/16","gateway":"10.9.0.2","dev":"veth0","flags":[]}]\n@@inet6\n[]\n`;

test('route: add, no change, change gateway, absent', (t) => {
  t.deepEqual(planWith(route('10.20.0.0/16', { via: '10.9.0.2' }), { 'ip:routes': ROUTES }).changes, []);
  t.deepEqual(planWith(route('10.20.0.0/16', { via: '10.9.0.3', dev: 'veth0' }), { 'ip:routes': ROUTES }).changes.map((c) => c.script), ['ip route replace 10.20.0.0/16 via 10.9.0.3 dev veth0']);
  t.deepEqual(planWith(route('192.0.2.7', { dev: 'veth0' }), { 'ip:routes': ROUTES }).changes.map((c) => c.script), ['ip route replace 192.0.2.7/32 dev veth0']);
  t.deepEqual(planWith(route('default', { via: '10.9.0.254' }), { 'ip:routes': ROUTES }).changes, []);
  t.deepEqual(planWith(route('fd01::/64', { via: 'fd00::2' }), { 'ip:routes': ROUTES }).changes.map((c) => c.script), ['ip -6 route replace fd01::/64 via fd00::2']);
  t.deepEqual(planWith(routeAbsent('10.20.0.0/16'), { 'ip:routes': ROUTES }).changes.map((c) => c.script), ['ip route del 10.20.0.0/16 via 10.9.0.2 dev veth0']);
  t.deepEqual(planWith(routeAbsent('10.30.0.0/16'), { 'ip:routes': ROUTES }).changes, []);
  invalid(t, () => route('10.20.0.1/16', { via: '10.9.0.2' }), /has host bits set/);
  invalid(t, () => route('10.20.0.0/16', {}), /give via and\/or dev/);
  invalid(t, () => route('10.20.0.0/16', { via: 'fd00::1' }), /not of the same family/);
});

test('route: a route added then removed in the same run', (t) => {
  const state = new PredictedState();
  t.is(planWith(route('10.30.0.0/16', { via: '10.9.0.2' }), { 'ip:routes': ROUTES }, state).changes.length, 1);
  t.is(planWith(routeAbsent('10.30.0.0/16'), { 'ip:routes': ROUTES }, state).changes.length, 1);
  t.is(planWith(route('10.30.0.0/16', { via: '10.9.0.2' }), { 'ip:routes': ROUTES }, state).changes.length, 1);
});

// ---------------- iptables ----------------
const NAT_S = '@@rules\n-P PREROUTING ACCEPT\n-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n-P POSTROUTING ACCEPT\n';

test('iptablesChain: created only when absent', (t) => {
  const s = iptablesChain('nat', 'SERVICES');
  t.deepEqual(planWith(s, { 'iptables:nat': NAT_S }).changes.map((c) => c.script), ['iptables -w -t nat -S SERVICES >/dev/null 2>&1 || iptables -w -t nat -N SERVICES']);
  t.deepEqual(planWith(s, { 'iptables:nat': `${NAT_S}-N SERVICES\n` }).changes, []);
  t.throws(() => planWith(s, { 'iptables:nat': '@@notool\n' }), { message: /iptables is not installed/ });
  invalid(t, () => iptablesChain('nat', 'PREROUTING'), /built-in chain/);
  invalid(t, () => iptablesChain('natt', 'X'), /"natt" is not a table/);
});

test('iptablesRule: -C decides; -A/-I guarded by -C; chain and target created earlier in the run', (t) => {
  const s = iptablesRule('nat', 'SERVICES', '-m set --match-set svc dst,dst -j MARK --set-xmark 0x2000/0x2000');
  const key = s.facts[0]!.key;
  t.is(key, 'iptables-check:nat:SERVICES:-m set --match-set svc dst,dst -j MARK --set-xmark 0x2000/0x2000');
  t.deepEqual(planWith(s, { [key]: '@@chain yes\n@@check 0\n' }).changes, []);
  const add = planWith(s, { [key]: '@@chain yes\n@@check 1\niptables: Bad rule (does a matching rule exist in that chain?).\n' });
  t.is(add.changes[0]!.script, 'iptables -w -t nat -C SERVICES -m set --match-set svc dst,dst -j MARK --set-xmark 0x2000/0x2000 2>/dev/null || iptables -w -t nat -A SERVICES -m set --match-set svc dst,dst -j MARK --set-xmark 0x2000/0x2000');
  t.throws(() => planWith(s, { [key]: '@@chain no\n@@check 1\n' }), { message: /chain SERVICES does not exist[\s\S]*iptablesChain\('nat', 'SERVICES'\)/ });
  const state = new PredictedState();
  planWith(iptablesChain('nat', 'SERVICES'), { 'iptables:nat': NAT_S }, state);
  t.is(planWith(s, { [key]: '@@chain no\n@@check 1\n' }, state).changes.length, 1);
  const jump = iptablesRule('nat', 'PREROUTING', ['-j', 'SERVICES'], { position: 'first' });
  const jk = jump.facts[0]!.key;
  t.throws(() => planWith(jump, { [jk]: "@@chain yes\n@@check 2\niptables v1.8.9 (nf_tables): Chain 'SERVICES' does not exist\n" }), { message: /rejected the rule: .*Chain 'SERVICES' does not exist/ });
  t.is(planWith(jump, { [jk]: "@@chain yes\n@@check 2\niptables v1.8.9 (nf_tables): Chain 'SERVICES' does not exist\n" }, state).changes[0]!.script, 'iptables -w -t nat -C PREROUTING -j SERVICES 2>/dev/null || iptables -w -t nat -I PREROUTING 1 -j SERVICES');
});

test('iptablesRule: comment, quoting, ip6tables, absent, validation', (t) => {
  const s = iptablesRule('nat', 'POSTROUTING', '-m mark --mark 0x2000/0x2000 -j MASQUERADE', { comment: "lvsplay: masquerade marked" });
  t.regex(s.facts[0]!.key, /-j MASQUERADE -m comment --comment 'lvsplay: masquerade marked'$/);
  const six = iptablesRule('filter', 'INPUT', '-p tcp --dport 80 -j ACCEPT', { family: 6 });
  t.regex(planWith(six, { [six.facts[0]!.key]: '@@chain yes\n@@check 1\n' }).changes[0]!.script, /^ip6tables -w -t filter -C INPUT/);
  const del = iptablesRule('filter', 'INPUT', '-p tcp --dport 80 -j ACCEPT', { state: 'absent' });
  t.regex(planWith(del, { [del.facts[0]!.key]: '@@chain yes\n@@check 0\n' }).changes[0]!.script, /while iptables -w -t filter -C INPUT .* do iptables -w -t filter -D INPUT/);
  t.deepEqual(planWith(del, { [del.facts[0]!.key]: '@@chain yes\n@@check 1\n' }).changes, []);
  invalid(t, () => iptablesRule('nat', 'X', '-A X -j ACCEPT'), /contains -A/);
  invalid(t, () => iptablesRule('nat', 'X', '-p tcp'), /has no target/);
  invalid(t, () => iptablesRule('nat', 'X', '-j ACCEPT; reboot'), /shell character ; is not allowed/);
  invalid(t, () => iptablesRule('nat', 'X', '-j ACCEPT', { position: 0 }), /option "position"/);
});

test('shellWords', (t) => {
  t.deepEqual(shellWords(`-m comment --comment "a b" -j 'X Y' c\\ d`), { words: ['-m', 'comment', '--comment', 'a b', '-j', 'X Y', 'c d'] });
  t.deepEqual(shellWords('"$(x)"'), { error: 'expansions ($, `) are not allowed' });
  t.deepEqual(shellWords("'x"), { error: 'unterminated single quote' });
});

// ---------------- ipset ----------------
test('ipset: create + add; converge exactly with prune; keep extras without prune', (t) => {
  const s = ipset('svc', 'hash:ip,port', { members: ['10.96.0.10,tcp:80', '10.96.0.10,udp:53', '10.96.0.11,80'] });
  const created = planWith(s, { 'ipset:svc': '@@error 1\nipset v7.17: The set with the given name does not exist\n' });
  t.deepEqual(created.changes.map((c) => c.summary), ['create set svc (hash:ip,port, inet)', 'add 10.96.0.10,tcp:80 10.96.0.10,udp:53 10.96.0.11,tcp:80']);
  t.is(created.changes[0]!.script, 'ipset -exist create svc hash:ip,port family inet');
  t.regex(created.changes[1]!.script, /\| ipset -exist restore$/);
  const full = '@@set\ncreate svc hash:ip,port family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x53d2d488\nadd svc 10.96.0.10,tcp:80\nadd svc 10.96.0.10,udp:53\nadd svc 10.96.0.11,tcp:80\n';
  t.deepEqual(planWith(s, { 'ipset:svc': full }).changes, []);
  const extra = full + 'add svc 10.96.0.99,tcp:443\n';
  const pruned = planWith(s, { 'ipset:svc': extra });
  t.deepEqual(pruned.changes.map((c) => c.summary), ['remove 10.96.0.99,tcp:443']);
  t.true(Buffer.from(/'([A-Za-z0-9+/=]+)'/.exec(pruned.changes[0]!.script)![1]!, 'base64').toString() === 'del svc 10.96.0.99,tcp:443\n');
  t.deepEqual(planWith(ipset('svc', 'hash:ip,port', { members: ['10.96.0.10,tcp:80'], prune: false }), { 'ipset:svc': extra }).changes, []);
  t.throws(() => planWith(s, { 'ipset:svc': '@@set\ncreate svc hash:ip family inet hashsize 1024\n' }), { message: /exists with type hash:ip, not hash:ip,port[\s\S]*cannot change type/ });
  invalid(t, () => ipset('svc', 'hash:ip,port', { members: ['10.96.0.10'] }), /"10.96.0.10" is not a hash:ip,port member/);
  invalid(t, () => ipset('svc', 'hash:ip', { members: ['fd00::1'] }), /not a hash:ip member/);
  invalid(t, () => ipset('svc', 'list:set'), /not supported/);
});

test('normalizeMember matches ipset save output', (t) => {
  t.is(normalizeMember('hash:ip,port', '10.96.0.11,80'), '10.96.0.11,tcp:80');
  t.is(normalizeMember('hash:ip,port', '10.96.0.10,UDP:053'), '10.96.0.10,udp:53');
  t.is(normalizeMember('hash:net', '10.1.0.1/32'), '10.1.0.1');
  t.is(normalizeMember('hash:net', '10.0.0.0/24'), '10.0.0.0/24');
  t.is(normalizeMember('hash:ip', 'fd00::0:1'), 'fd00::1');
  t.is(normalizeMember('hash:ip,port', '10.0.0.1,tcp:99999'), undefined);
});
