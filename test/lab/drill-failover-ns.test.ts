/**
 * drill failover for real on tier 1 of the lab (network namespaces: keepalived VRRP works there, IPVS does not):
 * two directors run keepalived (VRRP only) and a web server answering with their host name, so the VIP holder
 * answers the client's probes. The drill hands the VIP over (the default, planned mode), stops (then SIGKILLs) the MASTER's keepalived, then puts its VRRP link down,
 * and must report the takeover, the lost probes, the longest gap and, for SIGKILL, the split brain (the killed master
 * keeps the VIP).
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useLab } from '../helpers/lab.ts';
import { lvsplay, outputMatches } from '../helpers/cli.ts';
import { startVrrpPair } from '../helpers/vrrp-pair.ts';

const dir = mkdtempSync(join(tmpdir(), 'lvsplay-drill-ns-'));
const topology = join(dir, 'pair.yaml');
writeFileSync(
  topology,
  `all:
  vars:
    ansible_user: root
    ansible_ssh_common_args: -o ProxyJump=root@127.0.0.1:2299
  children:
    clients:
      hosts:
        client: { ansible_host: 198.19.0.10, lab_nics: [{ name: eth1, net: front, address: 198.18.0.10/24 }] }
    directors:
      vars:
        lvs_vrrp:
          instances:
            - { name: VI_1, interface: eth1, virtual_router_id: 51, unicast: true, advert_int: 1, priorities: { dir1: 150, dir2: 100 }, vips: [198.18.0.100/32] }
        # the directors answer on the VIP themselves (no IPVS in tier 1): the probes show who holds it
        lvs_services:
          - { name: web, vip: 198.18.0.100, port: 80, lb_kind: DR, real_servers: [{ host: dir1 }, { host: dir2 }] }
      hosts:
        dir1: { ansible_host: 198.19.0.11, lab_nics: [{ name: eth1, net: front, address: 198.18.0.11/24 }] }
        dir2: { ansible_host: 198.19.0.12, lab_nics: [{ name: eth1, net: front, address: 198.18.0.12/24 }] }
`,
);
const playbook = join(dir, 'pb.mjs');
writeFileSync(playbook, `export default { name: 'drill', plays: [{ hosts: 'directors', steps: [] }] };\n`);
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const lab = useLab(test, { topology });

// after the lab's own before hook (ava runs hooks concurrently): set up once, on first use; dir1 (priority 150)
// holds the VIP before a drill
let ready: Promise<void> | undefined;
const cluster = () => (ready ??= startVrrpPair(lab().ssh));

test.serial('graceful stop: the backup takes over in seconds, the master takes the VIP back', async (t) => {
  await cluster();
  const json = join(dir, 'stop.json');
  const r = await lvsplay(['drill', 'failover', playbook, '-i', lab().inventory, '--mode', 'stop', '--max-takeover', '5s', '--max-lost', '200', '--json', json], { timeoutMs: 240_000 });
  t.log(r.stdout);
  t.is(r.code, 0, r.stderr + r.stdout);
  const res = JSON.parse(readFileSync(json, 'utf8')).results[0];
  t.is(res.master, 'dir1');
  t.is(res.analysis.newMaster, 'dir2');
  t.true(res.analysis.takeoverMs >= 0 && res.analysis.takeoverMs < 5000, `takeover ${res.analysis.takeoverMs} ms`);
  t.true(res.analysis.preemptBackMs >= 0 && res.analysis.preemptBackMs < 30_000, `preempt ${res.analysis.preemptBackMs} ms`);
  t.is(res.analysis.baseline.failed, 0);
  t.true(res.analysis.baseline.sent > 10, 'steady probes before the fault');
  t.true(res.analysis.fault.sent > 10, 'steady probes during the fault');
  t.true(typeof res.analysis.lost === 'number' && res.analysis.lost <= 200);
  t.log(JSON.stringify({ before: res.analysis.baseline.backends, fault: res.analysis.fault.backends }));
  // the probes saw both directors answer: dir1 before, dir2 during the fault
  t.truthy(res.analysis.baseline.backends.dir1);
  t.truthy(res.analysis.fault.backends.dir2);
  t.regex(r.stdout, /DRILL failover/);
  t.regex(r.stdout, /VI_1 +198\.18\.0\.100 +stop +dir1→dir2 .*PASS/);
});

// No probe is lost to the handover itself: no gap without a holder, no probe refused or timed out. Only a probe
// whose connection is in flight at one of the VIP's two moves (handover, preempt back) can be reset: here the
// directors answer on the VIP themselves, with no IPVS behind it for the new holder to carry that connection on (CI
// saw 1 in 178 probes, at the preempt back). test/vm/drills.test.ts proves 0 with mh and sloppy_tcp on real IPVS.
test.serial('planned handover (the default mode): the master lowers its priority through its tracked file, the backup takes the VIP, no probe is lost but one in flight at a move, the priority comes back', async (t) => {
  await cluster();
  const json = join(dir, 'handover.json');
  const r = await lvsplay(['drill', 'failover', playbook, '-i', lab().inventory, '--max-takeover', '10s', '--max-lost', '2', '--json', json], { timeoutMs: 240_000 });
  t.log(r.stdout);
  t.is(r.code, 0, r.stderr + r.stdout);
  const doc = JSON.parse(readFileSync(json, 'utf8'));
  t.is(doc.mode, 'handover');
  const res = doc.results[0];
  const a = res.analysis;
  t.is(a.newMaster, 'dir2');
  t.true(a.lost <= 2, JSON.stringify(a));
  t.is(a.noHolderMs < 1000, true, `no holder for ${a.noHolderMs} ms`);
  // every lost probe was in flight (±1 s of the watchers' SSH jitter) when a director took or gave up the VIP
  const moves = (res.holds as Array<{ t: number }>).filter((e) => e.t >= res.faultAt).map((e) => e.t);
  for (const p of (res.probeLog as Array<{ t: number; ms: number; ok: boolean; info: string }>).filter((x) => !x.ok && x.t >= res.faultAt)) {
    t.true(moves.some((m) => m >= p.t - 1000 && m <= p.t + p.ms + 1000), `probe at ${p.t} (${p.info}) failed away from any move: ${JSON.stringify(moves)}`);
  }
  t.true(a.fault.sent > 10 && a.baseline.failed === 0);
  t.truthy(a.fault.backends.dir2, 'dir2 answered after the handover');
  t.true(a.preemptBackMs >= 0 && a.preemptBackMs < 30_000, `preempt back ${a.preemptBackMs} ms`);
  t.regex(r.stdout, /VI_1 +198\.18\.0\.100 +handover +dir1→dir2 .*PASS/);
  // nothing left behind: the tracked file is gone, dir1 holds the VIP again
  t.is((await lab().ssh('dir1', 'ls /etc/keepalived/handover | wc -l')).stdout.trim(), '0');
});

/** dir1 alone holds the VIP (after a drill the pair may still be settling). */
async function dir1HoldsAlone(): Promise<boolean> {
  for (let i = 0; i < 60; i++) {
    const [a, b] = await Promise.all([lab().ssh('dir1', 'ip -4 -o addr show dev eth1'), lab().ssh('dir2', 'ip -4 -o addr show dev eth1')]);
    if (a.stdout.includes('198.18.0.100/32') && !b.stdout.includes('198.18.0.100/32')) return true;
    await new Promise((res) => setTimeout(res, 500));
  }
  return false;
}

// Issue 15 point 1: a signal in the drill's phases restores what the drill changed, says so, and exits 130
for (const [mode, sig, phase, when, restored] of [
  ['handover', 'SIGINT', 'after the fault (the backup holds the VIP)', /dir2 holds 198\.18\.0\.100 \d+ ms after the fault/, /restored: dir1's priority for VI_1 \(handover file removed\)/],
  ['stop', 'SIGTERM', 'after the fault', /dir2 holds 198\.18\.0\.100 \d+ ms after the fault/, /restored: keepalived started on dir1/],
  ['handover', 'SIGHUP', 'before the fault (settling)', /probing 198\.18\.0\.100:80 from client/, /^(?![\s\S]*restored:)/],
] as const) {
  test.serial(`${sig} during drill failover --mode ${mode}, ${phase}: everything restored, exit 130`, async (t) => {
    await cluster();
    t.true(await dir1HoldsAlone(), 'dir1 holds the VIP before the drill');
    let second = false;
    const r = await lvsplay(['drill', 'failover', playbook, '-i', lab().inventory, '--mode', mode, '--max-lost', '1000', '--json', join(dir, `${sig}.json`)], {
      timeoutMs: 240_000,
      during: async (pid, out) => {
        await outputMatches(out, when);
        process.kill(pid, sig);
        await new Promise((res) => setTimeout(res, 200));
        // a second signal only reports; with nothing to restore (before the fault) the drill may be gone already
        try {
          process.kill(pid, 'SIGINT');
          second = true;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
        }
      },
    });
    t.log(r.stdout + r.stderr);
    t.is(r.code, 130, r.stdout + r.stderr);
    t.is(r.signal, null);
    t.regex(r.stderr, new RegExp(`${sig} received: stopping the drill and restoring`));
    if (second || !phase.startsWith('before')) t.regex(r.stderr, /SIGINT received: the restore is in progress/);
    t.regex(r.stdout, restored);
    t.regex(r.stdout, new RegExp(`interrupted by ${sig}`));
    // restored: keepalived runs on dir1, no handover file, dir1 holds the VIP again (preempt)
    t.is((await lab().ssh('dir1', 'pidof keepalived >/dev/null && echo running; ls /etc/keepalived/handover | wc -l')).stdout, 'running\n0\n');
    t.true(await dir1HoldsAlone(), 'dir1 took the VIP back');
  });
}

// Issue 15 point 5: the operator's handover for maintenance, and back
test.serial('lvsplay handover VI_1 moves the VIP to dir2 and keeps it there; --check changes nothing; --back gives it to dir1 again', async (t) => {
  await cluster();
  t.true(await dir1HoldsAlone());
  const check = await lvsplay(['handover', 'VI_1', '-i', lab().inventory, '--check']);
  t.is(check.code, 0, check.stdout + check.stderr);
  t.regex(check.stdout, /VI_1: would lower dir1's priority \(handover file\), so dir2 take\(s\) 198\.18\.0\.100/);
  t.is((await lab().ssh('dir1', 'ls /etc/keepalived/handover | wc -l')).stdout.trim(), '0', '--check wrote nothing');
  const r = await lvsplay(['handover', 'VI_1', '-i', lab().inventory]);
  t.log(r.stdout);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /VI_1: dir1 → dir2 \(198\.18\.0\.100\) in [\d.]+ s; it stays there until lvsplay handover --back VI_1/);
  await new Promise((res) => setTimeout(res, 4000));
  t.regex((await lab().ssh('dir2', 'ip -4 -o addr show dev eth1')).stdout, /198\.18\.0\.100\/32/, 'dir2 still holds the VIP');
  t.notRegex((await lab().ssh('dir1', 'ip -4 -o addr show dev eth1')).stdout, /198\.18\.0\.100\/32/);
  const b = await lvsplay(['handover', '--back', '-i', lab().inventory]);
  t.log(b.stdout);
  t.is(b.code, 0, b.stdout + b.stderr);
  t.regex(b.stdout, /VI_1: priorities given back; dir1 holds 198\.18\.0\.100 again after [\d.]+ s/);
  t.true(await dir1HoldsAlone());
  t.is((await lab().ssh('dir1', 'ls /etc/keepalived/handover | wc -l')).stdout.trim(), '0');
});

test.serial('SIGKILL: the killed master keeps the VIP: split brain is detected and the drill exits 2', async (t) => {
  await cluster();
  const json = join(dir, 'kill.json');
  const r = await lvsplay(['drill', 'failover', playbook, '-i', lab().inventory, '--mode', 'kill', '--max-lost', '1000', '--json', json], { timeoutMs: 240_000 });
  t.log(r.stdout);
  t.is(r.code, 2, r.stderr + r.stdout);
  const res = JSON.parse(readFileSync(json, 'utf8')).results[0];
  t.true(res.analysis.takeoverMs > 0 && res.analysis.takeoverMs < 15_000, `takeover ${res.analysis.takeoverMs} ms`);
  t.true(res.analysis.splitBrainMs > 0);
  t.regex(res.reasons.join('\n'), /split brain/);
  // restored: keepalived runs again on dir1
  const k = await lab().ssh('dir1', 'pidof keepalived >/dev/null && echo running');
  t.is(k.stdout.trim(), 'running');
});

test.serial('link down: the master loses its VRRP link, the backup takes over, the master takes the VIP back once the link is up', async (t) => {
  await cluster();
  // after the SIGKILL drill dir1 may still be settling: start from dir1 holding the VIP alone
  for (let i = 0; i < 40; i++) {
    const [a, b] = await Promise.all([lab().ssh('dir1', 'ip -4 -o addr show dev eth1'), lab().ssh('dir2', 'ip -4 -o addr show dev eth1')]);
    if (a.stdout.includes('198.18.0.100/32') && !b.stdout.includes('198.18.0.100/32')) break;
    await new Promise((res) => setTimeout(res, 500));
  }
  const json = join(dir, 'linkdown.json');
  const r = await lvsplay(['drill', 'failover', playbook, '-i', lab().inventory, '--mode', 'linkdown', '--link-down', '6s', '--max-takeover', '10s', '--max-lost', '1000', '--json', json], { timeoutMs: 240_000 });
  t.log(r.stdout);
  const res = JSON.parse(readFileSync(json, 'utf8')).results[0];
  t.is(res.mode, 'linkdown');
  t.is(res.master, 'dir1');
  t.is(res.analysis.newMaster, 'dir2');
  t.true(res.analysis.takeoverMs > 0 && res.analysis.takeoverMs < 10_000, `takeover ${res.analysis.takeoverMs} ms`);
  t.true(res.analysis.preemptBackMs >= 0 && res.analysis.preemptBackMs < 30_000, `preempt back ${res.analysis.preemptBackMs} ms after the link came up`);
  t.true(res.analysis.fault.sent > 10, 'steady probes while the link was down');
  t.truthy(res.analysis.fault.backends.dir2, 'dir2 answered while dir1 was cut off');
  // nobody answered from the fault until the takeover: the client-visible outage is about that long (a probe that
  // started shortly before the takeover may still succeed through a SYN retransmit, hence half)
  t.true(res.analysis.longestGapMs >= res.analysis.takeoverMs / 2, `longest gap ${res.analysis.longestGapMs} ms, takeover ${res.analysis.takeoverMs} ms`);
  t.regex(r.stdout, /eth1 down for 6\.00s on dir1/);
  t.is(r.code, res.pass ? 0 : 2, r.stdout);
  // the link is up again and dir1 holds the VIP
  t.regex((await lab().ssh('dir1', 'ip -o link show dev eth1; ip -4 -o addr show dev eth1')).stdout, /state UP[\s\S]*198\.18\.0\.100\/32/);
});
