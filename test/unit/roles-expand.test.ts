/** Role expansion (pure): given the reference cluster inventory, each role yields the expected steps and options. */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../src/inventory/index.ts';
import { expandPlay, hostInfo } from '../../src/engine/expand.ts';
import type { Fact, PlanContext, Role, Step } from '../../src/engine/types.ts';
import type { Inventory } from '../../src/inventory/types.ts';
import { director, directorDrHa, directorNat, nodeSvc, realserverDr, realserverNat, realserverTun, webBackend } from '../../roles/index.ts';
import { buildsVirtualServices, type LvsRole } from '../../src/cluster/registry.ts';
import { PredictedState } from '../../src/engine/predicted-state.ts';

const inv = loadInventory(fileURLToPath(new URL('../fixtures/roles/cluster.yaml', import.meta.url)));
const dual = loadInventory(fileURLToPath(new URL('../fixtures/roles/ipv6/cluster.yaml', import.meta.url)));
const lab = loadInventory(fileURLToPath(new URL('../../inventory/lab.yaml', import.meta.url)));
const misc = loadInventory(fileURLToPath(new URL('../fixtures/roles/misc-check.yaml', import.meta.url)));

function expand(role: Role, host: string, inventory: Inventory = inv) {
  const e = expandPlay({ hosts: host, roles: [role] }, { host: hostInfo(inventory, host), inventory, playHosts: [host] });
  return { names: e.steps.map((s) => s.step.name), steps: e.steps.map((s) => s.step), handlers: e.handlers, tags: e.steps.map((s) => s.tags) };
}

/** Plan a step on a host where no file exists yet (the facts a fresh host would report for file steps). */
function planFresh(step: Step) {
  const ctx: PlanContext = {
    host: hostInfo(inv, 'dir1'),
    predict: new PredictedState(),
    fact<T>(f: Fact<T>): T {
      if (f.key.startsWith('file:')) return { exists: false } as T;
      // every sysctl key present with 0 (ip_vs loaded); the host has sysctl
      if (f.key.startsWith('sysctl:')) return new Map(f.key.slice(7).split(',').map((k) => [k, '0'])) as T;
      if (f.key === 'host:tools') return { has: (tool: string) => tool === 'sysctl' } as T;
      throw new Error(`fact ${f.key} not faked`);
    },
  };
  return step.plan(ctx);
}

/** The diffs and scripts a step plans on a fresh host, as one text. */
const planText = (step: Step) => planFresh(step).changes.map((c) => `${c.diff ?? ''}${c.script}`).join('\n');

test('director-dr-ha on dir1 (the lab pair, all kinds): packages, IPVS modules, ip_forward for NAT, timeouts, keepalived', (t) => {
  const e = expand(directorDrHa({ kinds: ['NAT', 'DR', 'TUN'] }), 'dir1');
  t.deepEqual(e.names, [
    'pkg keepalived',
    'pkg ipvsadm',
    'kernelModule ip_vs',
    'kernelModule ip_vs_rr',
    'kernelModule ip_vs_wrr',
    'kernelModule ip_vs_sh',
    'sysctl /etc/sysctl.d/90-lvs-director-dr-ha.conf',
    'ipvs timeouts tcp 900 tcpfin 30 udp 300',
    'file /etc/keepalived/handover/.README',
    'file /etc/keepalived/keepalived.conf',
    'file /etc/systemd/system/keepalived.service.d/lvsplay-restart.conf',
    'service keepalived started',
    'ipvs drift 3 keepalived service(s)',
  ]);
  t.deepEqual([...e.handlers.keys()].sort(), ['reload keepalived', 'restart keepalived']);
  t.is(e.handlers.get('reload keepalived')!.name, 'service keepalived reloaded');
  t.true(e.tags.every((tags) => tags.includes('director-dr-ha')), 'steps are tagged with the role');
  // only a keepalived install/upgrade restarts; a config change reloads
  t.deepEqual(e.steps[0]!.notify, ['restart keepalived']);
  t.deepEqual(e.steps[9]!.notify, ['reload keepalived']);
});

test('director-dr-ha defaults to DR and TUN: no forwarding sysctl, the drain-safe IPVS sysctls', (t) => {
  const e = expand(directorDrHa(), 'dir2');
  const s = e.steps.find((x) => x.kind === 'sysctl')!;
  t.is(s.name, 'sysctl /etc/sysctl.d/90-lvs-director-dr-ha.conf');
  const plan = planFresh(s);
  const script = plan.changes.map((c) => `${c.diff ?? ''}${c.script}`).join('\n');
  t.regex(script, /net\.ipv4\.vs\.expire_nodest_conn = 1/);
  t.regex(script, /net\.ipv4\.vs\.expire_quiescent_template = 1/);
  t.notRegex(script, /ip_forward/);
  t.deepEqual((directorDrHa() as LvsRole).lbKinds, ['DR', 'TUN']);
});

test('director ipvsSysctls override the defaults; a key outside net.ipv4.vs is refused', (t) => {
  const s = expand(directorDrHa({ ipvsSysctls: { 'net.ipv4.vs.expire_nodest_conn': 0, 'net.ipv4.vs.conn_reuse_mode': 2 } }), 'dir2').steps.find((x) => x.kind === 'sysctl')!;
  const script = planFresh(s).changes.map((c) => `${c.diff ?? ''}${c.script}`).join('\n');
  t.regex(script, /net\.ipv4\.vs\.expire_nodest_conn = 0/);
  t.regex(script, /net\.ipv4\.vs\.conn_reuse_mode = 2/);
  t.regex(script, /net\.ipv4\.vs\.expire_quiescent_template = 1/);
  const e = t.throws(() => directorDrHa({ ipvsSysctls: { 'net.ipv4.ip_forward': 1 } }));
  t.regex(e!.message, /ipvsSysctls.*net\.ipv4\.vs\.\*/);
});

test('lvs_ipvs_sysctls (inventory) is the default of ipvsSysctls for directors and node-svc hosts; the role option wins', (t) => {
  // a copy of the inventory whose two hosts carry the variable (a synchronous test: nothing else sees it)
  const withVar: Inventory = { ...inv, hosts: new Map([...inv.hosts].map(([n, h]) => [n, ['dir2', 'node1'].includes(n) ? { ...h, vars: { ...h.vars, lvs_ipvs_sysctls: { 'net.ipv4.vs.sloppy_tcp': 1 } } } : h])) };
  const script = (role: Role, host: string) => planFresh(expand(role, host, withVar).steps.find((x) => x.kind === 'sysctl')!).changes.map((c) => `${c.diff ?? ''}${c.script}`).join('\n');
  t.regex(script(directorDrHa(), 'dir2'), /net\.ipv4\.vs\.sloppy_tcp = 1/);
  t.regex(script(directorDrHa(), 'dir2'), /net\.ipv4\.vs\.expire_nodest_conn = 1/, 'the drain-safe defaults stay');
  t.regex(script(nodeSvc(), 'node1'), /net\.ipv4\.vs\.sloppy_tcp = 1/);
  t.notRegex(script(directorDrHa({ ipvsSysctls: { 'net.ipv4.vs.conn_reuse_mode': 0 } }), 'dir2'), /sloppy_tcp/);
  t.notRegex(script(directorDrHa(), 'dir2').replace(/sloppy_tcp = 1|\/proc\/sys\/net\/ipv4\/vs\/sloppy_tcp/g, ''), /sloppy/, 'sloppy_tcp only as that one key, set to 1');
});

test('the keepalived config file is tested with keepalived -t before the swap and written 0644', (t) => {
  const step = expand(directorDrHa(), 'dir1').steps.find((s) => s.name === 'file /etc/keepalived/keepalived.conf')!;
  const plan = planFresh(step);
  const script = plan.changes.map((c) => c.script).join('\n');
  t.regex(script, /keepalived -t -f /);
  t.regex(script, /chmod 0?644/);
  t.notRegex(script, /chmod 0?7/);
});

test('director options: services filter, config path, no install, timeouts override', (t) => {
  const e = expand(directorDrHa({ services: ['web-dr'], configPath: '/etc/keepalived/lvs.conf', install: false, ipvsTimeouts: { tcp: 600, tcpfin: 20, udp: 60 } }), 'dir2');
  t.false(e.names.some((n) => n.startsWith('pkg')));
  t.true(e.names.includes('file /etc/keepalived/lvs.conf'));
  t.true(e.names.includes('ipvs timeouts tcp 600 tcpfin 20 udp 60'));
  t.deepEqual((directorDrHa({ services: ['web-dr'] }) as LvsRole).serviceNames, ['web-dr']);
});

test('director-nat: ip_forward, the scheduler module in use, no timeouts when none are set, DIP held by keepalived', (t) => {
  const e = expand(directorNat(), 'nat1', misc);
  t.deepEqual(e.names, [
    'pkg keepalived',
    'pkg ipvsadm',
    'kernelModule ip_vs',
    'kernelModule ip_vs_rr',
    'kernelModule ip_vs_wrr',
    'kernelModule ip_vs_sh',
    'sysctl /etc/sysctl.d/90-lvs-director-nat.conf',
    'file /etc/keepalived/handover/.README',
    'file /etc/keepalived/keepalived.conf',
    'file /etc/systemd/system/keepalived.service.d/lvsplay-restart.conf',
    'service keepalived started',
    'ipvs drift 1 keepalived service(s)',
  ]);
});

test('director-nat: a DIP that is no VRRP VIP is added as an address', (t) => {
  const e = expand(directorNat({ dip: { address: '198.18.1.3/24', interface: 'eth2' } }), 'nat1', misc);
  t.true(e.names.includes('address 198.18.1.3/24 dev eth2'));
});

test('realserver-dr: arp sysctls, the VIPs of its DR services on lo /32, rc.local by default', (t) => {
  const role = realserverDr();
  t.deepEqual(role.vipsFor!(inv, 'rs1'), ['198.18.0.100']);
  const e = expand(role, 'rs1');
  t.deepEqual(e.names, ['sysctl /etc/sysctl.d/90-lvs-realserver-dr.conf', 'address 198.18.0.100/32 dev lo', 'rc.local realserver-dr']);
  const diff = planText(e.steps[2]!);
  t.regex(diff, /ip addr replace 198\.18\.0\.100\/32 dev lo/);
  t.regex(diff, /#!\/bin\/sh/);
});

test('realserver-dr with persist: systemd writes a oneshot unit and enables it', (t) => {
  const e = expand(realserverDr({ persist: 'systemd', vips: ['198.18.0.100', '198.18.0.102'] }), 'rs2');
  t.deepEqual(e.names, [
    'sysctl /etc/sysctl.d/90-lvs-realserver-dr.conf',
    'address 198.18.0.100/32 dev lo',
    'address 198.18.0.102/32 dev lo',
    'file /etc/systemd/system/lvsplay-realserver-dr.service',
    'service lvsplay-realserver-dr started',
  ]);
});

test('realserver-tun: ipip, tunl0 up, rp_filter/arp sysctls, the VIP on tunl0, persistence', (t) => {
  const e = expand(realserverTun(), 'rs2');
  t.deepEqual(e.names, [
    'kernelModule ipip',
    'link tunl0',
    'sysctl /etc/sysctl.d/90-lvs-realserver-tun.conf',
    'address 198.18.0.101/32 dev tunl0',
    'rc.local realserver-tun',
  ]);
});

test('IPv6 real servers: DR VIP on lo /128 with DAD off; TUN through ip6_tunnel and ip6tnl0, VIPs nodad', (t) => {
  const dr = expand(realserverDr(), 'rs1', dual);
  t.deepEqual(dr.names, ['sysctl /etc/sysctl.d/90-lvs-realserver-dr.conf', 'address 198.18.0.100/32 dev lo', 'address fd00:18::100/128 dev lo', 'rc.local realserver-dr']);
  const sysctls = planText(dr.steps[0]!);
  t.regex(sysctls, /net\.ipv6\.conf\.lo\.accept_dad = 0/);
  t.regex(sysctls, /net\.ipv6\.conf\.lo\.dad_transmits = 0/);
  t.regex(planText(dr.steps[3]!), /ip addr replace fd00:18::100\/128 dev lo/);
  const tun = expand(realserverTun(), 'rs2', dual);
  t.deepEqual(tun.names, [
    'kernelModule ipip',
    'link tunl0',
    'kernelModule ip6_tunnel',
    'link ip6tnl0',
    'sysctl /etc/sysctl.d/90-lvs-realserver-tun.conf',
    'address 198.18.0.101/32 dev tunl0',
    'address fd00:18::101/128 dev ip6tnl0',
    'rc.local realserver-tun',
  ]);
  const rc = planText(tun.steps[7]!);
  t.regex(rc, /\+ip link set ip6tnl0 up\n\+ip addr replace fd00:18::101\/128 dev ip6tnl0 nodad/);
  // a dual-stack real server is reached at its address of the service's family
  const d = expand(directorDrHa({ kinds: ['NAT', 'DR', 'TUN'] }), 'dir1', dual);
  const drift = d.steps.find((x) => x.name.startsWith('ipvs drift'))!;
  t.is(drift.name, 'ipvs drift 5 keepalived service(s)');
});

test('realserver-nat: default route via the director DIP, NAT tuning only when asked', (t) => {
  const role = realserverNat();
  t.is(role.gatewayFor!(inv, 'nat1'), '198.18.1.1');
  t.deepEqual(expand(role, 'nat1').names, ['route default via 198.18.1.1', 'rc.local realserver-nat']);
  t.deepEqual(expand(role, 'rs1').names, [], 'a host no NAT service lists is left alone');
  const tuned = expand(realserverNat({ routes: ['198.18.0.10/24'], tcpTimestamps: false, finTimeout: 30, persist: 'none' }), 'nat2');
  t.deepEqual(tuned.names, ['route 198.18.0.0/24 via 198.18.1.1', 'sysctl /etc/sysctl.d/90-lvs-realserver-nat.conf']);
  t.is(realserverNat({ gateway: '198.18.1.9' }).gatewayFor!(inv, 'nat1'), '198.18.1.9');
});

test('realserver-nat on a dual-stack NAT real server (inventory/lab.yaml): a default route per family, each via that family\'s DIP', (t) => {
  const lab = loadInventory(fileURLToPath(new URL('../../inventory/lab.yaml', import.meta.url)));
  const role = realserverNat();
  t.is(role.gatewayFor!(lab, 'nat1', 4), '198.18.1.1');
  t.is(role.gatewayFor!(lab, 'nat1', 6), 'fd00:18:1::1');
  const e = expand(role, 'nat1', lab);
  t.deepEqual(e.names, ['route default via 198.18.1.1', 'route ::/0 via fd00:18:1::1', 'rc.local realserver-nat']);
  t.regex(planText(e.steps[2]!), /\+ip route replace default via 198\.18\.1\.1\n\+ip route replace ::\/0 via fd00:18:1::1\n/);
  // client networks go via the gateway of their own family; a gateway option serves only its family
  t.deepEqual(expand(realserverNat({ routes: ['198.18.0.0/24', 'fd00:18::/64'], persist: 'none' }), 'nat2', lab).names, ['route 198.18.0.0/24 via 198.18.1.1', 'route fd00:18::/64 via fd00:18:1::1']);
  t.deepEqual(expand(realserverNat({ gateway: 'fd00:18:1::9', persist: 'none' }), 'nat2', lab).names, ['route default via 198.18.1.1', 'route ::/0 via fd00:18:1::9']);
  // the directors: IPv6 forwarding for the IPv6 NAT service; both DIPs are VRRP VIPs (keepalived adds them)
  const d = expand(directorDrHa({ kinds: ['NAT', 'DR', 'TUN'] }), 'dir1', lab);
  t.false(d.names.some((n) => n.startsWith('address')), d.names.join('\n'));
  t.regex(planText(d.steps.find((x) => x.name.startsWith('sysctl'))!), /net\.ipv6\.conf\.all\.forwarding = 1/);
  // DIPs that are no VRRP VIP: one address step per family
  const v = lab.hosts.get('dir1')!.vars;
  const plain = { ...v, lvs_nat_dip: [{ address: '198.18.1.3/24', interface: 'eth2' }, { address: 'fd00:18:1::3/64', interface: 'eth2' }] };
  const own = expandPlay({ hosts: 'dir1', roles: [directorNat()] }, { host: { ...hostInfo(lab, 'dir1'), vars: plain }, inventory: { ...lab, hosts: new Map([...lab.hosts, ['dir1', { ...lab.hosts.get('dir1')!, vars: plain }]]) }, playHosts: ['dir1'] });
  t.deepEqual(own.steps.map((x) => x.step.name).filter((n) => n.startsWith('address')), ['address 198.18.1.3/24 dev eth2', 'address fd00:18:1::3/64 dev eth2']);
});

test('node-svc: dummy device with the VIPs, ipset, kube-proxy chains, vs.conntrack, keepalived conf.d', (t) => {
  const e = expand(nodeSvc(), 'node1');
  for (const n of [
    'kernelModule nf_conntrack',
    'link lvs-svc0',
    'address 198.18.0.120/32 dev lvs-svc0',
    'sysctl /etc/sysctl.d/90-lvs-node-svc.conf',
    'ipset LVS-CLUSTER-IP',
    'iptablesRule nat LVS-SERVICES -m set --match-set LVS-CLUSTER-IP dst,dst -j LVS-MARK-MASQ',
    'iptablesRule nat LVS-MARK-MASQ -j MARK --set-xmark 0x2000/0x2000',
    'iptablesRule nat LVS-POSTROUTING -m mark --mark 0x2000/0x2000 -j MASQUERADE',
    'iptablesRule nat PREROUTING -j LVS-SERVICES',
    'iptablesRule nat OUTPUT -j LVS-SERVICES',
    'iptablesRule nat POSTROUTING -j LVS-POSTROUTING',
    'file /etc/keepalived/conf.d/web.conf',
    'prune /etc/keepalived/conf.d',
    'file /etc/keepalived/keepalived.conf',
  ]) {
    t.true(e.names.includes(n), `missing step ${n}`);
  }
  // chains are created before rules use them, service files before the main config that includes them
  t.true(e.names.indexOf('iptablesChain nat LVS-SERVICES') < e.names.indexOf('iptablesRule nat PREROUTING -j LVS-SERVICES'));
  t.true(e.names.indexOf('file /etc/keepalived/conf.d/web.conf') < e.names.indexOf('file /etc/keepalived/keepalived.conf'));
  const custom = expand(nodeSvc({ device: 'kube-ipvs0', ipset: 'KUBE-CLUSTER-IP', chains: { services: 'KUBE-SERVICES' }, mark: '0x4000' }), 'node1');
  t.true(custom.names.includes('link kube-ipvs0'));
  t.true(custom.names.includes('iptablesRule nat KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j LVS-MARK-MASQ'));
  t.true(custom.names.includes('iptablesRule nat LVS-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000'));
});

test('web-backend: a busybox httpd per TCP port the host serves (real server and sorry server ports), one UDP responder for its UDP ports', (t) => {
  t.deepEqual(expand(webBackend(), 'nat2').names, [
    'file /var/lib/lvsplay/www/index.html',
    'file /var/lib/lvsplay/www/healthz',
    'service lvsplay-httpd-8080 started',
  ]);
  // a UDP service's real server: no httpd on its port (a TCP server says nothing to a UDP client), the responder
  t.deepEqual(expand(webBackend(), 'dns2', misc).names.slice(2), ['file /usr/local/lib/lvsplay/udp-responder.js', 'file /usr/local/lib/lvsplay/udp-responder.json', 'service lvsplay-udp started']);
  t.deepEqual(expand(webBackend(), 'rs1').names.slice(2), ['service lvsplay-httpd-80 started']);
  // the reference lab's rs1: DR web on 80, web-fwmark on 80 and 443, echo-udp on UDP 5353
  t.deepEqual(expand(webBackend(), 'rs1', lab).names.slice(2), ['service lvsplay-httpd-80 started', 'service lvsplay-httpd-443 started', 'file /usr/local/lib/lvsplay/udp-responder.js', 'file /usr/local/lib/lvsplay/udp-responder.json', 'service lvsplay-udp started']);
});

test('tracking: each track_script body is written root-owned 0700 before the keepalived config, reloading keepalived', (t) => {
  const tracking = loadInventory(fileURLToPath(new URL('../fixtures/roles/tracking.yaml', import.meta.url)));
  const e = expand(directorDrHa({ install: false }), 't1', tracking);
  const web = e.names.indexOf('file /etc/keepalived/scripts/chk_web.sh');
  t.true(web >= 0 && e.names.includes('file /etc/keepalived/scripts/chk_disk.sh'), e.names.join(', '));
  t.true(web < e.names.indexOf('file /etc/keepalived/keepalived.conf'));
  const s = e.steps[web]!;
  t.deepEqual(s.notify, ['reload keepalived']);
  const c = planFresh(s).changes[0]!;
  t.regex(c.script, /chmod 0700/);
  t.regex(c.script, /chown root:root "\$lvs_tmp"/);
  t.regex(c.diff ?? '', /\+busybox wget -q -T 1 -O \/dev\/null http:\/\/127\.0\.0\.1\//);
});

test('director is the one director role: director-nat and director-dr-ha are it with their name and default kinds', (t) => {
  t.deepEqual((director() as LvsRole).lbKinds, ['NAT', 'DR', 'TUN']);
  t.deepEqual((directorNat() as LvsRole).lbKinds, ['NAT']);
  for (const [alias, kinds] of [[directorDrHa(), ['DR', 'TUN']], [directorNat(), ['NAT']]] as const) {
    for (const host of ['dir1', 'dir2']) {
      const a = expand(alias, host);
      const d = expand(director({ kinds: [...kinds] }), host);
      t.true(a.steps.length > 0);
      t.deepEqual(a.names.map((n) => n.replaceAll(alias.role, 'director')), d.names, `${alias.role} on ${host}`);
      // the same keepalived.conf, but for the role named in its header
      const conf = (e: typeof a) => planFresh(e.steps.find((s) => s.name.includes('keepalived.conf'))!).changes.map((c) => c.diff ?? c.script).join('\n');
      t.is(conf(a).replace(`role ${alias.role},`, 'role director,'), conf(d));
      t.regex(conf(a), new RegExp(`# Managed by lvsplay, role ${alias.role}, host ${host}`));
    }
  }
});

test('the roles that build virtual services (the default verification checks them) are the directors and node-svc', (t) => {
  t.deepEqual([director(), directorNat(), directorDrHa(), nodeSvc(), realserverDr(), realserverTun(), realserverNat(), webBackend()].map(buildsVirtualServices),
    [true, true, true, true, false, false, false, false]);
});
