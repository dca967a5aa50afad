/** The cluster model's schema takes the schedulers the ipvs step and the kernel know (one list). */
import test from 'ava';
import { serviceSchema } from '../../src/cluster/schema.ts';
import { SCHEDULERS } from '../../src/steps/ipvs.ts';
import { ipvs } from '../../src/steps/index.ts';

const service = (scheduler: string) => ({ name: 'web', vip: '198.18.0.100', port: 80, lb_kind: 'DR', scheduler, real_servers: [{ host: 'rs1' }] });

test('every IPVS scheduler, twos included, is a valid lvs_services scheduler and a valid ipvs step scheduler', (t) => {
  t.true(SCHEDULERS.includes('twos'));
  for (const s of SCHEDULERS) {
    t.true(serviceSchema.safeParse(service(s)).success, s);
    t.notThrows(() => ipvs({ services: [{ protocol: 'tcp', address: '198.18.0.100', port: 80, scheduler: s, realServers: [] }] }), s);
  }
});

test('an unknown scheduler names the known ones', (t) => {
  const r = serviceSchema.safeParse(service('wrrr'));
  t.false(r.success);
  t.regex(r.error!.issues[0]!.message, new RegExp(`unknown scheduler "wrrr" \\(known: ${SCHEDULERS.join(', ')}\\)`));
});
