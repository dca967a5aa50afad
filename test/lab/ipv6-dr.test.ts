// Issue 12 point 1 on real hosts (tier 1: namespaces, the machine's kernel has no IPVS): the real server side of an
// IPv6 DR service through the real CLI over SSH. realserver-dr puts the VIP on lo as /128 with DAD off, the backend
// listens on [::]; first run changes, second run and --check change nothing. A director is stood in for by a /128
// route on the client to each real server's link address (DR forwards the unchanged packet to the real server's
// MAC): each real server then answers the VIP itself, over IPv6, as it will behind IPVS (that proof needs the VM).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useLab } from '../helpers/lab.ts';
import { lvsplay, jsonLines } from '../helpers/cli.ts';
import { probeScript } from '../../src/verify/probe-program.ts';
import { parseProbeOutput } from '../../src/verify/probe-output.ts';

const lab = useLab(test, { topology: 'test/fixtures/lab/ipv6-dr.yaml' });
const PB = 'test/fixtures/playbooks/ipv6-realserver.ts';
const VIP = 'fd00:18::100';

async function run(name: string, extra: string[] = []) {
  const json = join(lab().dir, `${name}.jsonl`);
  const r = await lvsplay(['run', PB, '-i', lab().inventory, '--json', json, ...extra]);
  const ev = jsonLines(readFileSync(json, 'utf8'));
  return { ...r, recap: ev.at(-1)!.hosts as Record<string, { ok: number; changed: number; failed: number }> };
}

const STATE = `ip -6 -o addr show dev lo | awk '{print $4, $NF}' | grep -v '^::1/'
sysctl -n net.ipv6.conf.lo.accept_dad net.ipv6.conf.lo.dad_transmits
grep -c 'fd00:18::100/128 dev lo' /etc/rc.local 2>/dev/null || echo no-rc-local`;

test.serial('the lab gives IPv6 ULA addresses only inside its namespaces: the root namespace has none and no route to them', (t) => {
  t.notRegex(execFileSync('ip', ['-6', 'addr', 'show'], { encoding: 'utf8' }), /fd00:18:/);
  t.notRegex(execFileSync('ip', ['-6', 'route', 'show'], { encoding: 'utf8' }), /fd00:18:/);
});

test.serial('--check on fresh hosts plans the VIP and sysctls and changes nothing', async (t) => {
  const before = (await lab().ssh('rs1', STATE)).stdout;
  const r = await run('check', ['--check']);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.true(r.recap.rs1!.changed >= 3, JSON.stringify(r.recap));
  t.is((await lab().ssh('rs1', STATE)).stdout, before);
});

test.serial('first run: VIP on lo as /128 (not dadfailed or tentative), accept_dad=0, dad_transmits=0, rc.local; second run and --check 0 changed', async (t) => {
  const r1 = await run('first');
  t.is(r1.code, 0, r1.stdout + r1.stderr);
  for (const h of ['rs1', 'rs2']) {
    t.true(r1.recap[h]!.changed >= 3, `${h}: ${JSON.stringify(r1.recap[h])}`);
    const s = (await lab().ssh(h, STATE)).stdout;
    t.regex(s, /^fd00:18::100\/128 forever$/m, s);
    t.notRegex(s, /dadfailed|tentative/, s);
    t.regex(s, /^0\n0\n1$/m, s);
  }
  const r2 = await run('second');
  t.is(r2.code, 0, r2.stdout + r2.stderr);
  for (const h of ['rs1', 'rs2']) t.is(r2.recap[h]!.changed, 0, `${h} second run: ${JSON.stringify(r2.recap[h])}`);
  const r3 = await run('check-after', ['--check']);
  for (const h of ['rs1', 'rs2']) t.is(r3.recap[h]!.changed, 0, `${h} --check: ${JSON.stringify(r3.recap[h])}`);
});

test.serial('each real server answers the VIP over IPv6 when packets for it reach its MAC (DR forwarding stood in for by a route)', async (t) => {
  for (const [rs, rip] of [['rs1', 'fd00:18::21'], ['rs2', 'fd00:18::22']] as const) {
    // the client's route only: the root namespace never gets a lab route
    const route = await lab().ssh('client', `ip -6 route replace ${VIP}/128 via ${rip} dev eth1 && curl -sS -g --max-time 5 'http://[${VIP}]/'`);
    t.is(route.code, 0, route.stdout + route.stderr);
    t.is(route.stdout.trim(), rs, `the answer for [${VIP}]:80 came from ${rs}'s backend`);
    // the verification prober (node, else curl) over IPv6: every probe a new connection to [VIP]:80
    const p = await lab().ssh('client', probeScript({ host: VIP, port: 80, http: true, path: '/', count: 10, intervalMs: 0, timeoutMs: 3000, concurrency: 1, maxMs: 30_000 }));
    const out = parseProbeOutput(p.stdout);
    t.is(out.probes.length, 10, p.stdout + p.stderr);
    t.true(out.probes.every((x) => x.ok && x.info === rs), JSON.stringify(out.probes));
  }
  await lab().ssh('client', `ip -6 route del ${VIP}/128`);
});
