/**
 * virtual_server_group services without hosts: the data model (vip or virtual_server_group members), the director's
 * IPVS reference table (one service per member, the group's real servers), keepalived's dump of a group (members
 * and checkers named per member, as ipvsadm names them), the verification targets (one per member), and drain
 * (the group's config block, one drain entry for all members).
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../src/inventory/index.ts';
import { serviceSchema } from '../../src/cluster/schema.ts';
import { allServices, realServerVips, serviceMembers } from '../../src/cluster/cluster.ts';
import { directorConfig, keepalivedTable } from '../../roles/lib/director.ts';
import { renderDirectorConfig } from '../../roles/lib/render.ts';
import { serviceTargets } from '../../src/verify/targets.ts';
import { targetAddress } from '../../src/verify/record.ts';
import { parseKeepalivedDump } from '../../src/facts/keepalived-dump.ts';
import { setConfigWeight, withDrained } from '../../src/cluster/drain.ts';
import { planDrain } from '../../src/drill/drain.ts';
import { planRealservers } from '../../src/drill/realservers.ts';
import { backendPorts } from '../../roles/web-backend/index.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const lab = loadInventory(here('../../inventory/lab.yaml'));
const fixture = loadInventory(here('../fixtures/roles/vsg.yaml'));

const base = { name: 'web-group', lb_kind: 'NAT', real_servers: [{ host: 'nat1', port: 8080 }] };
const issues = (x: object) => {
  const r = serviceSchema.safeParse(x);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('data model: members with their ports (own or the service\'s); vip and port are the first member\'s', (t) => {
  const s = serviceSchema.parse({ ...base, virtual_server_group: [{ vip: '198.18.0.111', port: 80 }, { vip: '198.18.0.112', port: 8080 }] });
  t.like(s, { vip: '198.18.0.111', port: 80 });
  t.deepEqual(serviceMembers(s), [{ vip: '198.18.0.111', port: 80 }, { vip: '198.18.0.112', port: 8080 }]);
  const shared = serviceSchema.parse({ ...base, port: 443, virtual_server_group: [{ vip: 'fd00:18::113' }, { vip: 'fd00:18::114', port: 8443 }] });
  t.deepEqual(serviceMembers(shared), [{ vip: 'fd00:18::113', port: 443 }, { vip: 'fd00:18::114', port: 8443 }]);
  t.like(shared, { vip: 'fd00:18::113', port: 443 });
  // a plain service is its own single member
  t.deepEqual(serviceMembers(serviceSchema.parse({ ...base, vip: '198.18.0.110', port: 80 })), [{ vip: '198.18.0.110', port: 80 }]);
  t.regex(issues({ ...base, port: 80 }).join('\n'), /^vip: a service needs a vip \(or virtual_server_group/);
  t.regex(issues({ ...base, vip: '198.18.0.111', virtual_server_group: [{ vip: '198.18.0.111', port: 80 }, { vip: '198.18.0.112', port: 80 }] }).join('\n'), /^vip: a virtual_server_group service lists its VIPs in virtual_server_group, not vip/);
  t.regex(issues({ ...base, virtual_server_group: [{ vip: '198.18.0.111' }, { vip: '198.18.0.112', port: 80 }] }).join('\n'), /^virtual_server_group\.0\.port: member 198\.18\.0\.111 has no port/);
  t.regex(issues({ ...base, port: 80, virtual_server_group: [{ vip: '198.18.0.111' }, { vip: '198.18.0.111', port: 80 }] }).join('\n'), /member 198\.18\.0\.111 port 80 is listed twice/);
  t.regex(issues({ ...base, virtual_server_group: [{ vip: '198.18.0.111', port: 80 }] }).join('\n'), /a virtual_server_group lists at least two members/);
  t.regex(issues({ ...base, fwmark: 1, ports: [80], virtual_server_group: [{ vip: '198.18.0.111', port: 80 }, { vip: '198.18.0.112', port: 80 }] }).join('\n'), /a virtual_server_group takes VIP:port members, not fwmark\/ports/);
});

test('director: one IPVS service per member with the group\'s real servers; the config names the group once', (t) => {
  const config = directorConfig(fixture, 'f1', ['NAT', 'DR', 'TUN'], {});
  const table = keepalivedTable(config);
  t.deepEqual(table.services.map((s) => [s.protocol, s.address, s.port, s.scheduler, s.persistent, s.realServers.map((r) => `${r.address}:${r.port} ${r.method} ${r.weight}`)]), [
    ['tcp', '198.18.0.111', 80, 'rr', undefined, ['198.18.1.31:8080 nat 1', '198.18.1.32:8080 nat 1']],
    ['tcp', '198.18.0.112', 8080, 'rr', undefined, ['198.18.1.31:8080 nat 1', '198.18.1.32:8080 nat 1']],
    ['tcp', 'fd00:18::113', 80, 'wrr', 300, ['fd00:18::21:80 dr 2', 'fd00:18::22:80 dr 1']],
    ['tcp', 'fd00:18::114', 80, 'wrr', 300, ['fd00:18::21:80 dr 2', 'fd00:18::22:80 dr 1']],
  ]);
  const text = renderDirectorConfig('director', config);
  t.is(text.match(/^virtual_server_group web-group \{\n {2}198\.18\.0\.111 80\n {2}198\.18\.0\.112 8080\n\}$/gm)?.length, 1, text);
  t.is(text.match(/^virtual_server group web-group \{$/gm)?.length, 1);
  t.is(text.match(/real_server 198\.18\.1\.31 8080 \{/g)?.length, 1, 'one pool for both members');
  // the DR real servers hold every member VIP on lo
  t.deepEqual(realServerVips(fixture, 'rs1', 'DR'), ['fd00:18::113', 'fd00:18::114']);
});

// keepalived 2.2.7's data dump of a group (check_data.c dump_vsg, dump_vs; check_api.c dump_checker): the group's
// members first, then `VS GROUP = [NAME]:0` and checkers `[NAME]:0 -> [RIP]:tcp:PORT`
const GROUP_DUMP = [
  '@@kcheck',
  '------< LVS Topology >------',
  ' System is compiled with LVS v1.2.1',
  ' ------< Virtual server group >------',
  ' Virtual Server Group = web-group, IPv4 = yes, IPv6 = no',
  '   VIP = 198.18.0.111, VPORT = 80',
  '     Alive: 1 tcp, 0 udp, 0 sctp',
  '     reloaded = False',
  '   VIP = 198.18.0.112, VPORT = 8080',
  '     Alive: 1 tcp, 0 udp, 0 sctp',
  '     reloaded = False',
  ' ------< Virtual server >------',
  ' VS GROUP = [web-group]:0',
  '   Address family = inet',
  '   lvs_sched = rr',
  '   protocol = TCP',
  '   ------< Real servers >------',
  '   RIP = 198.18.1.31, RPORT = 8080, WEIGHT = 1',
  '     alive = yes',
  '   RIP = 198.18.1.32, RPORT = 8080, WEIGHT = 1',
  '     alive = no',
  ' ------< Virtual server >------',
  ' VS VIP = 198.18.0.110, VPORT = 80',
  '   Address family = inet',
  '   lvs_sched = rr',
  '   protocol = TCP',
  '   RIP = 198.18.1.31, RPORT = 8080, WEIGHT = 1',
  '     alive = yes',
  '------< Health checkers >------',
  ' [web-group]:0 -> [198.18.1.32]:tcp:8080',
  '   Keepalive method = HTTP_GET',
  '   Up = no',
  '   Has run = yes',
  '   Checked url = /healthz',
  ' [198.18.0.110]:tcp:80 -> [198.18.1.31]:tcp:8080',
  '   Keepalive method = HTTP_GET',
  '   Up = yes',
  '   Has run = yes',
  '@@kvrrp',
].join('\n');

test('keepalived dump: a group is one virtual and one checker per member, named as ipvsadm names them', (t) => {
  const dump = parseKeepalivedDump(GROUP_DUMP);
  t.deepEqual(dump.virtuals.map((v) => [v.key, v.scheduler, v.reals.map((r) => `${r.address}:${r.port} ${r.alive}`)]), [
    ['TCP 198.18.0.111:80', 'rr', ['198.18.1.31:8080 true', '198.18.1.32:8080 false']],
    ['TCP 198.18.0.112:8080', 'rr', ['198.18.1.31:8080 true', '198.18.1.32:8080 false']],
    ['TCP 198.18.0.110:80', 'rr', ['198.18.1.31:8080 true']],
  ]);
  t.deepEqual(dump.checkers.map((c) => [c.service, c.real, c.up, c.hasRun, c.method, c.url]), [
    ['TCP 198.18.0.111:80', '198.18.1.32:8080', false, true, 'HTTP_GET', '/healthz'],
    ['TCP 198.18.0.112:8080', '198.18.1.32:8080', false, true, 'HTTP_GET', '/healthz'],
    ['TCP 198.18.0.110:80', '198.18.1.31:8080', true, true, 'HTTP_GET', undefined],
  ]);
});

test('verification: one target per member, named by the service; web-backend listens on the pool\'s port', (t) => {
  const targets = serviceTargets(lab).filter((x) => x.name === 'web-group');
  t.deepEqual(targets.map((x) => [targetAddress(x), x.group, x.kind, x.directors.join(','), x.backends.map((b) => `${b.label} ${b.address}:${b.port}`).join(' ')]), [
    ['198.18.0.111:80', 'web-group', 'NAT', 'dir1,dir2', 'nat1 198.18.1.31:8080 nat2 198.18.1.32:8080'],
    ['198.18.0.112:8080', 'web-group', 'NAT', 'dir1,dir2', 'nat1 198.18.1.31:8080 nat2 198.18.1.32:8080'],
  ]);
  t.deepEqual(backendPorts(lab, 'nat1'), [8080]);
  t.true(allServices(lab).some((s) => s.name === 'web-group'));
});

test('drain: the group\'s block (one weight line for all members), one drain entry, every member\'s IPVS service', (t) => {
  const targets = planDrain(lab, ['nat1'], { command: 'drain', services: ['web-group'] });
  t.deepEqual(targets.map((x) => [x.service, x.group, `${x.vip}:${x.port}`, x.real]), [
    ['web-group', 'web-group', '198.18.0.111:80', '198.18.1.31:8080'],
    ['web-group', 'web-group', '198.18.0.112:8080', '198.18.1.31:8080'],
  ]);
  t.deepEqual(withDrained([], targets, '2026-12-02T22:00:00Z').map((e) => `${e.service} ${e.host}`), ['web-group nat1']);
  const config = renderDirectorConfig('director', directorConfig(lab, 'dir1', ['NAT', 'DR', 'TUN'], {}));
  const edited = setConfigWeight(config, { ...targets[0]!, fwmark: undefined }, '198.18.1.31:8080', 0)!;
  t.truthy(edited);
  const changed = edited.split('\n').filter((l, i) => l !== config.split('\n')[i]);
  t.deepEqual(changed, ['    weight 0']);
  // the change is inside the group's block, not web-nat's (the same real server)
  const block = edited.slice(edited.indexOf('virtual_server group web-group {'));
  t.regex(block.slice(0, block.indexOf('# nat2')), /real_server 198\.18\.1\.31 8080 \{\n {4}weight 0/);
  t.is(setConfigWeight(edited, { ...targets[1]!, fwmark: undefined }, '198.18.1.31:8080', 0), edited, 'the second member edits the same line');
  // the rolling drill leaves groups out, and says why when named
  t.false(planRealservers(lab, { serial: '1' }).targets.some((x) => x.name === 'web-group'));
  t.throws(() => planRealservers(lab, { only: ['web-group'], serial: '1' }), { message: /web-group is a virtual_server_group \(its members share one pool\)/ });
});
