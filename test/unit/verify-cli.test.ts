/** The verify and drill commands' option handling and exit codes (no host is reached in these tests). */
import test from 'ava';
import { lvsplay } from '../helpers/cli.ts';

const F = 'test/fixtures/cli';

test('verify and drill --help exit 0 and document the rule and the thresholds', async (t) => {
  const v = await lvsplay(['verify', '--help']);
  t.is(v.code, 0);
  t.regex(v.stdout, /chi-square at p = 0\.001/);
  const d = await lvsplay(['drill', '--help']);
  t.is(d.code, 0);
  t.regex(d.stdout, /--max-takeover T/);
  t.regex((await lvsplay(['--help'])).stdout, /lvsplay drill failover\|realservers/);
});

test('bad verify/drill options exit 5 with the reason', async (t) => {
  for (const [args, re] of [
    [['verify', `${F}/noop.ts`], /-i INVENTORY is required/],
    [['verify', '-i', `${F}/inv.yaml`], /expected exactly one PLAYBOOK/],
    [['drill', 'explode', `${F}/noop.ts`, '-i', `${F}/inv.yaml`], /failover or realservers/],
    [['drill', 'failover', `${F}/noop.ts`, '-i', `${F}/inv.yaml`, '--mode', 'nuke'], /--mode must be handover, stop, kill, linkdown/],
    [['drill', 'failover', `${F}/noop.ts`, '-i', `${F}/inv.yaml`, '--max-takeover', 'soon'], /--max-takeover must be a duration/],
    [['drill', 'failover', `${F}/noop.ts`, '-i', `${F}/inv.yaml`], /no VRRP instance with two or more members/],
    [['drill', 'realservers', `${F}/noop.ts`, '-i', `${F}/inv.yaml`], /no TCP LVS service/],
  ] as const) {
    const r = await lvsplay([...args]);
    t.is(r.code, 5, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, re);
  }
});

test('verify of a playbook that builds no service and has no verify entries: nothing to do, said, exit 0', async (t) => {
  const r = await lvsplay(['verify', `${F}/noop.ts`, '-i', `${F}/inv.yaml`]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /no verification: the playbook has no verify entries and builds no virtual service/);
  t.regex(r.stdout, /0 of 0 services passed/);
});

test('verify --service: only the named services of the entries; an unknown or unchecked name is an option error before any host', async (t) => {
  const { planVerification } = await import('../../src/verify/targets.ts');
  const { loadInventory } = await import('../../src/inventory/index.ts');
  const { services } = await import('../../src/verify/spec.ts');
  const { UsageError } = await import('../../src/errors.ts');
  const inv = loadInventory('inventory/lab.yaml');
  const site = (await import('../../playbooks/site.ts')).default;
  const names = (p: { jobs: { target: { name: string; vip: string; port: number } }[] }) => p.jobs.map((j) => `${j.target.name} ${j.target.vip}:${j.target.port}`);
  const all = planVerification(site, inv);
  t.true(all.jobs.length >= 11, names(all).join(', '));
  // the default entry (every service) narrowed to two; a group's members both stay
  t.deepEqual(names(planVerification(site, inv, { services: ['web-tun', 'web-dr'] })), ['web-dr 198.18.0.100:80', 'web-tun 198.18.0.101:80']);
  t.deepEqual(names(planVerification(site, inv, { services: ['web-group'] })), ['web-group 198.18.0.111:80', 'web-group 198.18.0.112:8080']);
  // entries with only: lists: intersected; an entry left with nothing is dropped
  const pb = { ...site, verify: [services({ only: ['web-dr'], probes: 50 }), services({ only: ['web-nat', 'web-tun'] })] };
  const narrowed = planVerification(pb, inv, { services: ['web-tun'] });
  t.deepEqual(names(narrowed), ['web-tun 198.18.0.101:80']);
  t.deepEqual(narrowed.jobs[0]!.check.only, ['web-tun']);
  t.throws(() => planVerification(site, inv, { services: ['web-typo'] }), { instanceOf: UsageError, message: /--service "web-typo" is not a service of the inventory \(services: web-nat, web-dr, / });
  t.throws(() => planVerification(pb, inv, { services: ['echo-udp'] }), { instanceOf: UsageError, message: /--service "echo-udp": no verify entry of the playbook checks it/ });
  // through the CLI: exit 5, nothing reached (the lab's hosts are not up in the unit tier)
  const r = await lvsplay(['verify', 'playbooks/site.ts', '-i', 'inventory/lab.yaml', '--service', 'nope']);
  t.is(r.code, 5, r.stderr);
  t.regex(r.stderr, /--service "nope" is not a service of the inventory/);
});
