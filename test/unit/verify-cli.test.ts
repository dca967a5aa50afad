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
