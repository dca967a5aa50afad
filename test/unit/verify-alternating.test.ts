// Issue 11's alternating configurations (test/helpers/alternating.ts, used by the VM loop test and
// scripts/verify-loop.ts): what each run writes as extra vars, and what is read back from a run's output.
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natPort, readAlternatingRun, tunShareRs1, variantLabel, writeVariant } from '../helpers/alternating.ts';

const dir = mkdtempSync(join(tmpdir(), 'lvsplay-alt-'));
const base = [
  { name: 'web-nat', real_servers: [{ host: 'nat1', port: 8080 }, { host: 'nat2', port: 8080 }] },
  { name: 'web-dr', real_servers: [{ host: 'rs1' }, { host: 'rs2' }] },
  { name: 'web-tun', real_servers: [{ host: 'rs1', weight: 1 }, { host: 'rs2', weight: 2 }] },
];

test('even runs: wrr 3:1 and NAT port 8081; odd runs: the inventory\'s 1:2 and 8080; other services untouched', (t) => {
  const at = (i: number) => JSON.parse(readFileSync(writeVariant(join(dir, `v${i}.json`), base, i), 'utf8')).lvs_services;
  const even = at(0);
  t.deepEqual(even[2].real_servers, [{ host: 'rs1', weight: 3 }, { host: 'rs2', weight: 1 }]);
  t.deepEqual(even[0].real_servers.map((r: { port: number }) => r.port), [8081, 8081]);
  t.deepEqual(even[1], base[1]);
  const odd = at(1);
  t.deepEqual(odd[2].real_servers, base[2]!.real_servers);
  t.deepEqual(odd[0].real_servers, base[0]!.real_servers);
  t.deepEqual([tunShareRs1(0), tunShareRs1(1), natPort(0), natPort(1)], [0.75, 1 / 3, 8081, 8080]);
  t.is(variantLabel(2), 'wrr 3:1, NAT 8081');
});

test('a run\'s settle report, verdicts and every service\'s shares are read from its stdout and --json recap', (t) => {
  const json = join(dir, 'run.jsonl');
  const verify = [
    { service: 'web-tun', verdict: 'PASS', detail: 'ok', expected: { rs1: 0.75, rs2: 0.25 }, observed: { rs1: 0.7634, rs2: 0.2366 }, p: 0.43219 },
    { service: 'web-nat', verdict: 'FAIL', detail: 'stale', expected: { nat1: 0.5, nat2: 0.5 }, observed: { nat1: 0.5, nat2: 0.5 } },
  ];
  writeFileSync(json, `${JSON.stringify({ event: 'task' })}\n${JSON.stringify({ event: 'recap', verify })}\n`);
  const r = readAlternatingRun('…\nverify: settled in 4.1 s after keepalived was reloaded or started on dir1, dir2\nVERIFY …', json);
  t.is(r.settleSeconds, 4.1);
  t.regex(r.settled, /^settled in 4\.1 s after keepalived was reloaded/);
  t.deepEqual(r.verdicts, { 'web-tun': 'PASS', 'web-nat': 'FAIL' });
  t.deepEqual(r.tunExpected, { rs1: 0.75, rs2: 0.25 });
  t.deepEqual(r.shares['web-tun'], { expected: { rs1: 0.75, rs2: 0.25 }, observed: { rs1: 0.76, rs2: 0.24 }, p: 0.43 });
  t.false('p' in r.shares['web-nat']!);

  const late = readAlternatingRun('verify: the cluster did not settle within 90.0 s after …: dir2: VRRP VI_2 is FAULT', json);
  t.is(late.settleSeconds, 90);
  const none = readAlternatingRun('no settling here', json);
  t.is(none.settled, 'no settling reported');
  t.false('settleSeconds' in none);
});
