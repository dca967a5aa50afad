// Issue 15 point 6, pure parts: which VRRP definitions a config change touches, and which together groups a run
// would reach only in part.
import test from 'ava';
import { partialGroups, describePartial } from '../../src/engine/together.ts';
import type { HostPlan, PlannedStep } from '../../src/engine/plan.ts';
import { vrrpDefinitions } from '../../roles/lib/vrrp-members.ts';

const conf = (vip: string, prio = 150, track = '') => `global_defs {
  router_id x
}
vrrp_script chk_web {
  script "/usr/local/bin/chk"
  interval 2
}
vrrp_instance VI_1 {
  state MASTER
  priority ${prio}
  ${track}
  virtual_ipaddress {
    ${vip}/32 dev eth1
  }
}
vrrp_instance VI_2 {
  priority 100
  virtual_ipaddress {
    198.18.0.9/32
  }
}
virtual_server 198.18.0.1 80 {
  real_server 198.18.0.2 80 {
    weight 1
  }
}
`;

test('vrrpDefinitions: each instance with the scripts it tracks; virtual_servers and comments are not part of it', (t) => {
  const a = vrrpDefinitions(conf('198.18.0.100'));
  t.deepEqual([...a.keys()], ['VI_1', 'VI_2']);
  t.regex(a.get('VI_1')!, /198\.18\.0\.100\/32 dev eth1/);
  t.notRegex(a.get('VI_1')!, /real_server/);
  t.is(vrrpDefinitions(conf('198.18.0.100').replace('weight 1', 'weight 2')).get('VI_1'), a.get('VI_1'), 'a weight change is not a VRRP change');
  t.is(vrrpDefinitions(conf('198.18.0.100') + '# a comment\n').get('VI_1'), a.get('VI_1'));
  t.not(vrrpDefinitions(conf('198.18.0.101')).get('VI_1'), a.get('VI_1'), 'VIP');
  t.not(vrrpDefinitions(conf('198.18.0.100', 120)).get('VI_1'), a.get('VI_1'), 'priority');
  const tracked = vrrpDefinitions(conf('198.18.0.100', 150, 'track_script {\n    chk_web\n  }'));
  t.regex(tracked.get('VI_1')!, /vrrp_script chk_web\n.*interval 2/s, 'a tracked script is part of the instance');
  const retuned = vrrpDefinitions(conf('198.18.0.100', 150, 'track_script {\n    chk_web\n  }').replace('interval 2', 'interval 3'));
  t.not(retuned.get('VI_1'), tracked.get('VI_1'), 'changing the tracked script changes the instance');
  t.is(retuned.get('VI_2'), tracked.get('VI_2'), 'not the untracking one');
});

function plan(groups: string[][] | undefined): HostPlan {
  const step: PlannedStep = { name: 'file', kind: 'file', handler: false, changes: groups ? [{ summary: 'update', script: 'true' }] : [], warnings: [], notify: [] };
  if (groups) step.together = groups.map((hosts) => ({ name: 'VRRP instance VI_1', hosts }));
  return { steps: [step] };
}

test('partialGroups: --limit, serial batches, unreachable members; a member already matching is fine', (t) => {
  const pair = ['d1', 'd2'];
  t.deepEqual(partialGroups({ batches: [['d1', 'd2']], plans: new Map([['d1', plan([pair])], ['d2', plan([pair])]]), unavailable: new Map() }), []);
  // d2 in the run with no change: it already has the definition
  t.deepEqual(partialGroups({ batches: [['d1'], ['d2']], plans: new Map([['d1', plan([pair])], ['d2', plan(undefined)]]), unavailable: new Map() }), []);
  const limited = partialGroups({ batches: [['d1']], plans: new Map([['d1', plan([pair])]]), unavailable: new Map() });
  t.is(limited.length, 1);
  t.is(describePartial(limited[0]!), "VRRP instance VI_1 (members d1, d2) would change on d1 but not reach every member (d2: not in this run (--limit or the play's hosts))");
  const rolled = partialGroups({ batches: [['d1'], ['d2']], plans: new Map([['d1', plan([pair])], ['d2', plan([pair])]]), unavailable: new Map() });
  t.deepEqual(rolled[0]!.missing, { d1: 'changes in serial batch 1 of 2, apart from the other members', d2: 'changes in serial batch 2 of 2, apart from the other members' });
  const down = partialGroups({ batches: [['d1', 'd2']], plans: new Map([['d1', plan([pair])]]), unavailable: new Map([['d2', 'unreachable: refused']]) });
  t.deepEqual(down[0]!.missing, { d2: 'unreachable: refused' });
});
