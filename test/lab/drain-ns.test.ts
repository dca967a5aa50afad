/**
 * `lvsplay drain` / `undrain` through the real CLI over real SSH on the namespace lab (tier 1, no IPVS): bad input
 * is a usage error naming the host or service and the fix, and a director that cannot be drained (not converged:
 * no keepalived config declaring the service, no IPVS table) refuses the whole drain before any host is changed.
 * The drain itself (weights, waiting, verify DEGRADED, a run keeping it) needs real IPVS: test/vm/cluster.test.ts.
 */
import test from 'ava';
import { useLab } from '../helpers/lab.ts';
import { lvsplay } from '../helpers/cli.ts';

const lab = useLab(test, { topology: 'inventory/lab.yaml' });

test.serial('unknown host or service, a host that is no real server, undrain with --wait: exit 5 naming it, no host reached', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['drain', 'rs9'], /ERROR: drain: no host "rs9" in the inventory .*\(real servers: nat1, nat2, rs1, rs2\)/],
    [['drain', 'dir1'], /ERROR: drain: dir1 is not a real server of any service/],
    [['drain', 'rs1', '--service', 'web-xx'], /ERROR: drain: no service "web-xx" in the inventory .*fix --service/],
    [['drain', 'rs1', '--service', 'web-nat'], /ERROR: drain: rs1 is not a real server of web-nat \(its pool: nat1, nat2/],
    [['undrain', 'rs1', '--wait', '3s'], /ERROR: undrain: --wait and --no-wait apply to drain only/],
    [['drain', 'rs1', '--wait', 'soon'], /ERROR: drain: --wait must be a duration like 60s or 5m, got "soon"/],
  ];
  for (const [args, re] of cases) {
    const r = await lvsplay([...args, '-i', lab().inventory]);
    t.is(r.code, 5, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    t.regex(r.stderr, re);
  }
});

test.serial('a director that is not converged refuses the drain: exit 2 naming it and the fix, nothing changed on any host (also with --check)', async (t) => {
  const state = async () => (await Promise.all(['dir1', 'dir2'].map((h) => lab().ssh(h, 'ls /etc/keepalived/ 2>/dev/null; echo end')))).map((r) => r.stdout);
  const before = await state();
  for (const extra of [[], ['--check']]) {
    const r = await lvsplay(['drain', 'rs1', '--service', 'web-dr', '-i', lab().inventory, ...extra]);
    t.is(r.code, 2, r.stdout + r.stderr);
    t.regex(r.stderr, /ERROR: drain: dir[12]: drain web-dr rs1 \(198\.18\.0\.21:80\): no keepalived config \(\/etc\/keepalived\/keepalived\.conf, \/etc\/keepalived\/conf\.d\/web-dr\.conf\) declares real server 198\.18\.0\.21:80 of virtual_server 198\.18\.0\.100 80 \(web-dr\)/);
    t.regex(r.stderr, /converge the director with lvsplay run first/);
    t.regex(r.stderr, /Nothing was changed on any host\./);
  }
  t.deepEqual(await state(), before);
});
