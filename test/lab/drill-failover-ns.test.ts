/**
 * drill failover for real on tier 1 of the lab (network namespaces: keepalived VRRP works there, IPVS does not):
 * two directors run keepalived (VRRP only) and a web server answering with their host name, so the VIP holder
 * answers the client's probes. The drill stops (then SIGKILLs) the MASTER's keepalived, then puts its VRRP link down,
 * and must report the takeover, the lost probes, the longest gap and, for SIGKILL, the split brain (the killed master
 * keeps the VIP).
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useLab } from '../helpers/lab.ts';
import { lvsplay } from '../helpers/cli.ts';
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
