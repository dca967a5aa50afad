/** Validation of LVS cluster inventories: each rule has a broken inventory under test/fixtures/roles/broken/. */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../src/inventory/index.ts';
import type { Problem } from '../../src/engine/types.ts';
import { ValidationError } from '../../src/errors.ts';
import site from '../../playbooks/site.ts';
import { directorDrHa, directorNat, nodeSvc, realserverDr, realserverNat, realserverTun } from '../../roles/index.ts';
import { isLvsRole } from '../../src/cluster/registry.ts';
import { selectHosts } from '../../src/inventory/index.ts';
import { runPlaybookChecks } from '../../src/engine/checks.ts';
import type { Inventory } from '../../src/inventory/types.ts';
import type { Playbook } from '../../src/engine/types.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/roles/${name}`, import.meta.url));

/** Every problem the playbook's checks report for the inventory, as the engine runs them (once, plays with hosts). */
function checkProblems(inv: Inventory, pb: Playbook): Array<Problem & { role: string }> {
  const plays = pb.plays.map((play) => ({ hosts: selectHosts(inv, play.hosts).hosts, roles: play.roles ?? [] })).filter((p) => p.hosts.length > 0);
  return runPlaybookChecks(pb, inv, plays, (_, e) => { throw e; }).map(({ role, problem }) => ({ ...problem, role: role.role }));
}

function problems(inventoryFile: string): Array<Problem & { role: string }> {
  return checkProblems(loadInventory(inventoryFile), site);
}

test('the reference cluster has no problems', (t) => {
  t.deepEqual(problems(fixture('cluster.yaml')), []);
});

interface Case {
  file: string;
  message: RegExp;
  host: string;
  field: string;
  /** the problem points at the YAML line of the variable */
  line?: boolean;
  /** the role that reports it (default: any) */
  role?: string;
  /** problems expected in all (default 1): dr-no-realserver-role also lacks realserver-tun for the TUN service */
  count?: number;
}

const cases: Case[] = [
  { file: 'dr-port-mapping', message: /service web-dr \(lb_kind DR\): real server rs2 port 8080 differs from the virtual port 80; DR cannot map ports/, host: 'dir1', field: 'lvs_services[1].real_servers[1].port', line: true },
  { file: 'tun-port-mapping', message: /service web-tun \(lb_kind TUN\): real server rs1 port 8080 .* TUN cannot map ports/, host: 'dir1', field: 'lvs_services[2].real_servers[0].port', line: true },
  { file: 'dr-vip-own-address', message: /the DR VIP 198\.18\.0\.11 is dir1's own address/, host: 'dir1', field: 'lvs_services[1].vip', line: true },
  { file: 'vrid-reused', message: /virtual_router_id 51 is used by VRRP instances VI_1 \(dir1\) and VI_2 \(dir1\) on the same network 198\.18\.0\.0\/24/, host: 'dir1', field: 'lvs_vrrp.instances[1].virtual_router_id', line: true },
  { file: 'vrrp-disagree', message: /members of VRRP instance VI_1 disagree: virtual_router_id 51 on dir1, 53 on dir2; auth_pass differs .*; vips \[.*198\.18\.1\.1\/24 dev eth2\] on dir1, \[198\.18\.0\.100\/32 198\.18\.0\.110\/32\] on dir2/, host: 'dir2', field: 'lvs_vrrp.instances[0]', line: true },
  { file: 'track-weight-gap', message: /VRRP instance VI_1: tracking maint with weight -50 can never change mastership: the priority gap between dir1 \(150\) and dir2 \(100\) is 50, and \|-50\| <= 50/, host: 'dir1', field: 'lvs_vrrp.instances[0].track.files[0].weight', line: true },
  { file: 'equal-priorities', message: /VRRP instance VI_1: dir1 and dir2 have the same priority 100/, host: 'dir1', field: 'lvs_vrrp.instances[0].priorities', line: true },
  { file: 'unknown-scheduler', message: /unknown scheduler "wrrr" \(known: rr, wrr/, host: 'rs1', field: 'lvs_services[2].scheduler', line: true },
  { file: 'unknown-lb-kind', message: /unknown lb_kind "DIRECT" \(use NAT, DR or TUN\)/, host: 'rs1', field: 'lvs_services[2].lb_kind', line: true },
  { file: 'malformed-address', message: /"198\.18\.0\.310" is not an IP address/, host: 'rs1', field: 'lvs_services[0].vip', line: true },
  { file: 'malformed-prefix', message: /"198\.18\.0\.101\/33" is not a VIP/, host: 'dir1', field: 'lvs_vrrp.instances[1].vips[0]', line: true },
  { file: 'malformed-port', message: /lvs_services\[1\]\.port: a port is an integer 1-65535/, host: 'rs1', field: 'lvs_services[1].port', line: true },
  { file: 'unknown-key', message: /unknown key\(s\) "persistance_timeout"/, host: 'rs1', field: 'lvs_services[1]', line: true },
  { file: 'dr-no-realserver-role', message: /service web-dr \(DR\) uses rs2 as a real server, but no play applies the realserver-dr role to rs2/, host: 'rs2', field: 'lvs_services[1].real_servers[1]', role: 'realserver-dr', count: 2 },
  // fwmark services (issue 12): real servers take every port of ports; a mark's ports and the mark are the service's alone
  { file: 'fwmark-real-server-port', message: /service web-fwmark \(fwmark 1\): real server rs2 names port 8080, but a fwmark service forwards every port of ports/, host: 'dir1', field: 'lvs_services[3].real_servers[1].port', line: true },
  { file: 'fwmark-port-overlap', message: /services web-dr and web-fwmark both receive TCP 198\.18\.0\.100:80 \(the fwmark 1 rule would take web-dr's packets\)/, host: 'dir1', field: 'lvs_services[3].ports', line: true },
  { file: 'fwmark-reused', message: /services web-fwmark and mail-fwmark both use fwmark 1 IPv4: IPVS would balance both services' packets over one pool/, host: 'dir1', field: 'lvs_services[4].fwmark', line: true },
  // virtual_server_group services (issue 12): DR members share the real servers' port, every member VIP is held, a
  // member is the service's alone, and vip or virtual_server_group, not both
  { file: 'group-dr-ports', message: /service web-group \(lb_kind DR\): group member 198\.18\.0\.112 port 8080 differs from the first member's port 80; DR forwards each packet unchanged/, host: 'dir1', field: 'lvs_services[3].virtual_server_group[1].port', line: true },
  { file: 'group-vip-not-held', message: /service web-group: VIP 198\.18\.0\.113 is not a VIP of any VRRP instance dir1 is a member of/, host: 'dir1', field: 'lvs_services[3].virtual_server_group', line: true, count: 2 },
  { file: 'group-member-overlap', message: /services web-nat and web-group both receive TCP 198\.18\.0\.110:80/, host: 'dir1', field: 'lvs_services[3].virtual_server_group', line: true },
  { file: 'group-and-vip', message: /a virtual_server_group service lists its VIPs in virtual_server_group, not vip \(move 198\.18\.0\.111 into the list\)/, host: 'rs1', field: 'lvs_services[3].vip', line: true },
  { file: 'nat-no-route-back', message: /NAT real server nat2 routes through 198\.18\.1\.254, which is not an address of its directors dir1, dir2/, host: 'nat2', field: 'lvs_nat_gateway', line: true, role: 'realserver-nat' },
  // health checks and keepalived's LVS options (src/cluster/rules/checks.ts, src/cluster/health-checks.ts)
  { file: 'quorum-above-weights', message: /service web-tun: quorum 4 is more than the sum of its real servers' weights \(3\): the service never gains its quorum/, host: 'dir1', field: 'lvs_services[2].quorum', line: true },
  { file: 'udp-tcp-check', message: /service web-tun is UDP but its health check is TCP_CHECK, which checks a TCP port/, host: 'dir1', field: 'lvs_services[2].health_check.type', line: true },
  { file: 'sorry-is-real-server', message: /service web-dr: the sorry server is also its real server rs2 \(198\.18\.0\.22:80\): keepalived never re-adds it/, host: 'dir1', field: 'lvs_services[1].sorry_server', line: true },
  { file: 'director-own-real-server', message: /service web-dr \(DR\): director dir2 is listed as a real server of its own VIP 198\.18\.0\.100 \(198\.18\.0\.12 is dir2's address\)/, host: 'dir2', field: 'lvs_services[1].real_servers[1]', line: true },
  { file: 'sched-flags-mismatch', message: /service web-tun: scheduler flag sh-port needs scheduler sh, not wrr/, host: 'dir1', field: 'lvs_services[2].scheduler_flags[0]', line: true },
  { file: 'ops-on-tcp', message: /service web-tun: ops \(one-packet scheduling\) applies to UDP services only, this one is TCP/, host: 'dir1', field: 'lvs_services[2].ops', line: true },
  { file: 'ssl-sni-name', message: /lvs_services\[1\]\.health_check\.sni_name: needs keepalived after 2\.3\.4 .*keepalived 2\.2\.7 \(Debian 12\) does not have it/, host: 'rs1', field: 'lvs_services[1].health_check.sni_name', line: true },
  // IPv6 (src/cluster/rules/families.ts): broken variants of the dual-stack reference cluster
  { file: 'ipv6/mixed-real-server', message: /service web6-dr: VIP fd00:18::100 is IPv6 but real server rs2 198\.18\.0\.22 is IPv4; a virtual service forwards only within its address family/, host: 'dir1', field: 'lvs_services[3].real_servers[1].address', line: true },
  { file: 'ipv6/no-ipv6-address', message: /real server rs2 of service web6-dr has no IPv6 address in the inventory \(the service's VIP fd00:18::100 is IPv6\)/, host: 'rs2', field: 'lvs_rip', count: 2 },
  { file: 'ipv6/vrrp-mixed', message: /VRRP instance VI_2 holds IPv4 VIPs \(198\.18\.0\.101\/32\) and IPv6 VIPs \(fd00:18::101\/128\): keepalived runs one instance per address family/, host: 'dir1', field: 'lvs_vrrp.instances[1].vips', line: true },
  { file: 'ipv6/no-sync-group', message: /IPv6 VRRP instance VI_2_v6 and its IPv4 sibling VI_2 \(same members and priorities, interface eth1\) are in no sync group/, host: 'dir1', field: 'lvs_vrrp.instances[3]', line: true },
  { file: 'ipv6/node-svc', message: /node-svc service web: VIP fd00:18::120 is IPv6, and node-svc builds IPv4 only/, host: 'node1', field: 'lvs_node_svc.services[0].vip', line: true },
  { file: 'ipv6/nat-dip-family', message: /NAT service web6-nat is IPv6 \(VIP fd00:18::110\) but dir1's inner address \(DIP\) 198\.18\.1\.1 is IPv4/, host: 'dir1', field: 'lvs_nat_dip.address', line: true, count: 2 },
  { file: 'nat-not-realserver-nat', message: /service web-nat \(NAT\) uses nat2 as a real server, but no play applies realserver-nat to it/, host: 'nat2', field: 'lvs_services[0].real_servers[1]', role: 'realserver-nat' },
];

for (const c of cases) {
  test(`broken inventory ${c.file}: a problem naming host ${c.host} and field ${c.field}`, (t) => {
    // a file with a directory (ipv6/...) is a variant of another reference cluster than broken/'s
    const file = fixture(c.file.includes('/') ? `${c.file}.yaml` : `broken/${c.file}.yaml`);
    const ps = problems(file);
    t.is(ps.length, c.count ?? 1, `each problem reported once: ${JSON.stringify(ps, null, 1)}`);
    const p = ps[0]!;
    if (c.role) t.is(p.role, c.role);
    t.regex(p.message, c.message);
    t.is(p.host, c.host);
    t.is(p.field, c.field);
    t.truthy(p.hint, 'every problem carries a fix');
    if (c.line) {
      t.is(p.file, file);
      t.true((p.line ?? 0) > 0);
    }
  });
}

test('the lab cluster (inventory/lab.yaml, dual stack: IPv6 NAT and DR services, DIPs of both families, VI_1_v6 in a sync group with VI_1) has no problems with playbooks/site.ts', (t) => {
  t.deepEqual(problems(fileURLToPath(new URL('../../inventory/lab.yaml', import.meta.url))), []);
});

test('lvs_nat_dip and lvs_nat_gateway: at most one address per family; an IPv6 NAT service on directors with only an IPv4 DIP names the DIP', (t) => {
  const lab = () => loadInventory(fileURLToPath(new URL('../../inventory/lab.yaml', import.meta.url)));
  const withVars = (inv: Inventory, hosts: string[], vars: Record<string, unknown>) => {
    for (const h of hosts) inv.hosts.get(h)!.vars = { ...inv.hosts.get(h)!.vars, ...vars };
    return inv;
  };
  const two = checkProblems(withVars(lab(), ['dir1', 'dir2'], { lvs_nat_dip: [{ address: '198.18.1.1/24', interface: 'eth2' }, { address: '198.18.1.2/24', interface: 'eth2' }] }), site);
  t.true(two.length >= 1, JSON.stringify(two));
  t.regex(two[0]!.message, /lvs_nat_dip lists more than one IPv4 address \(198\.18\.1\.1\/24, 198\.18\.1\.2\/24\): one per address family/);
  t.is(two[0]!.field, 'lvs_nat_dip');
  const gw = checkProblems(withVars(lab(), ['nat1'], { lvs_nat_gateway: ['fd00:18:1::1', 'fd00:18:1::2'] }), site);
  t.regex(gw[0]!.message, /lvs_nat_gateway lists more than one IPv6 address/);
  t.is(gw[0]!.host, 'nat1');
  const v4only = checkProblems(withVars(lab(), ['dir1', 'dir2'], { lvs_nat_dip: { address: '198.18.1.1/24', interface: 'eth2' } }), site);
  t.deepEqual(v4only.map((p) => [p.host, p.field]), [['dir1', 'lvs_nat_dip.address'], ['dir2', 'lvs_nat_dip.address']], 'the cause once per director, not a missing gateway per real server too');
  t.regex(v4only[0]!.message, /NAT service web6-nat is IPv6 \(VIP fd00:18::110\) but dir1's inner address \(DIP\) 198\.18\.1\.1 is IPv4/);
  t.regex(v4only[0]!.hint!, /a list, one per family/);
});

test('the dual-stack reference cluster (IPv6 DR and TUN services, IPv6 VRRP instances in sync groups) has no problems', (t) => {
  t.deepEqual(problems(fixture('ipv6/cluster.yaml')), []);
});

test('real server roles leave hosts no service lists alone (one play can cover every real server)', (t) => {
  const inv = loadInventory(fixture('cluster.yaml'));
  const role = realserverDr();
  t.deepEqual(role.vipsFor!(inv, 'nat1'), []);
  t.deepEqual(role.steps({ host: { name: 'nat1', vars: inv.hosts.get('nat1')!.vars, groups: [] }, inventory: inv, playHosts: ['nat1'] }), []);
  t.deepEqual(realserverTun().vipsFor!(inv, 'rs1'), ['198.18.0.101']);
});

test('the lab inventory and the production example validate clean with their playbooks', async (t) => {
  const lab = loadInventory(fileURLToPath(new URL('../../inventory/lab.yaml', import.meta.url)));
  const prod = loadInventory(fileURLToPath(new URL('../../inventory/prod.example.yaml', import.meta.url)));
  const dr = (await import('../../playbooks/dr.ts')).default;
  for (const [inv, pb] of [[lab, site], [prod, dr]] as const) {
    t.deepEqual(checkProblems(inv, pb), [], inv.file);
  }
});

test('a typo in a role option is a ValidationError when the playbook is built', (t) => {
  const e = t.throws(() => directorDrHa({ confgPath: '/x' } as never), { instanceOf: ValidationError });
  t.regex(e!.message, /unknown option "confgPath"/);
  t.throws(() => realserverNat({ gateway: '10.0.0.300' }), { instanceOf: ValidationError, message: /gateway/ });
  t.throws(() => realserverTun({ persist: 'init.d' } as never), { instanceOf: ValidationError });
  t.throws(() => nodeSvc({ mark: '8192' }), { instanceOf: ValidationError });
  t.throws(() => directorNat({ dip: { address: '198.18.1.1', interface: 'eth2' } }), { instanceOf: ValidationError, message: /dip/ });
  t.throws(() => directorDrHa({ kinds: ['DSR'] } as never), { instanceOf: ValidationError, message: /kinds/ });
});

test('every role of the site playbook is an LVS role or the web backend', (t) => {
  const names = site.plays.flatMap((p) => (p.roles ?? []).map((r) => r.role));
  t.deepEqual([...new Set(names)].sort(), ['director-dr-ha', 'node-svc', 'realserver-dr', 'realserver-nat', 'realserver-tun', 'web-backend']);
  t.true(site.plays.every((p) => (p.roles ?? []).every((r) => isLvsRole(r) || r.role === 'web-backend')));
});

test('through the CLI: a broken inventory exits 4 with the problem, before any connection', async (t) => {
  const { lvsplay } = await import('../helpers/cli.ts');
  // the fixture hosts exist nowhere: a connection attempt would fail with exit 3, not 4
  const r = await lvsplay(['run', 'playbooks/site.ts', '-i', fixture('broken/dr-port-mapping.yaml')]);
  t.is(r.code, 4, r.stdout + r.stderr);
  t.regex(r.stderr, /dr-port-mapping\.yaml:\d+, host dir1, field lvs_services\[1\]\.real_servers\[1\]\.port: director-dr-ha: .*DR cannot map ports/);
  t.regex(r.stderr, /fix: make the real server listen on 80/);
});
