/**
 * The "done when", on the VM tier (real IPVS): playbooks/site.ts converges the lab cluster and its
 * verification passes; a weight changed behind lvsplay's back and a web server stopped without a health check
 * make `lvsplay verify` exit 2 with a clear table; `drill failover` reports takeover and lost probes for dir1/dir2;
 * `drill realservers` rolls through the DR real servers with 0 failed probes. Generous bounds: TCG is slow and the
 * machine is shared (probe timeouts are raised for that reason).
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { useLab, vmUnavailable, skipLoudly } from '../helpers/lab.ts';
import { lvsplay, jsonLines } from '../helpers/cli.ts';
import { loadInventory } from '../../src/inventory/index.ts';

const why = await vmUnavailable();
if (why) {
  skipLoudly(test, 'VM verification suite', why);
} else {
  const lab = useLab(test, { topology: 'inventory/lab.yaml', vm: true });
  const SITE = 'playbooks/site.ts';
  const json = (name: string) => join(lab().dir, name);
  /** the lab inventory with a long SSH connect timeout (a fresh connection under TCG can take over 10 s) */
  let inv: string | undefined;
  const inventory = (): string => {
    if (inv) return inv;
    const doc = parseDocument(readFileSync(lab().inventory, 'utf8'));
    doc.setIn(['all', 'vars', 'ansible_timeout'], 90);
    inv = join(lab().dir, 'verify-site.yaml');
    writeFileSync(inv, doc.toString());
    return inv;
  };

  test.serial('site.ts converges and its end-of-run verification passes for every service', async (t) => {
    t.timeout(20 * 60_000);
    const r = await lvsplay(['run', SITE, '-i', inventory(), '--json', json('run.json')], { timeoutMs: 20 * 60_000 });
    t.log(r.stdout.split('\n').filter((l) => /^VERIFY|^  (rs|nat)/.test(l)).join('\n'));
    t.is(r.code, 0, r.stdout.slice(-3000) + r.stderr);
    const recap = jsonLines(readFileSync(json('run.json'), 'utf8')).find((e) => e.event === 'recap')!;
    const byName = Object.fromEntries(recap.verify.map((v: any) => [v.service, v]));
    t.deepEqual(Object.keys(byName).sort(), ['web', 'web-dr', 'web-nat', 'web-tun']);
    for (const v of recap.verify) t.true(v.pass, `${v.service}: ${v.detail}`);
    t.is(byName['web-dr'].master, 'dir1');
    t.is(byName['web-nat'].master, 'dir1');
    t.is(byName['web-tun'].master, 'dir2');
    t.is(byName['web-dr'].failed, 0);
    // wrr 1:2 observed within the chi-square rule
    t.true(byName['web-tun'].observed.rs2 > byName['web-tun'].observed.rs1);
  });

  test.serial('a weight changed behind lvsplay\'s back: verify exits 2 and names it', async (t) => {
    t.timeout(10 * 60_000);
    const e = await lab().ssh('dir2', 'ipvsadm -e -t 198.18.0.101:80 -r 198.18.0.21:80 -i -w 2');
    t.is(e.code, 0, e.stderr);
    try {
      const r = await lvsplay(['verify', SITE, '-i', inventory()], { timeoutMs: 10 * 60_000 });
      t.log(r.stdout);
      t.is(r.code, 2);
      t.regex(r.stdout, /VERIFY web-tun \(198\.18\.0\.101:80, wrr, shares, master dir2, from client\): FAIL/);
      t.regex(r.stdout, /FAIL: rs1 has weight 2 in dir2's IPVS table, the inventory says 1/);
      t.regex(r.stdout, /VERIFY web-dr .*: PASS/);
    } finally {
      await lab().ssh('dir2', 'ipvsadm -e -t 198.18.0.101:80 -r 198.18.0.21:80 -i -w 1');
    }
  });

  test.serial('drill failover: takeover time and lost probes for the dir1/dir2 pair', async (t) => {
    t.timeout(15 * 60_000);
    const r = await lvsplay(['drill', 'failover', SITE, '-i', inventory(), '--only', 'VI_1', '--max-takeover', '10s', '--max-lost', '1000', '--probe-timeout', '3s', '--json', json('failover.json')], { timeoutMs: 15 * 60_000 });
    t.log(r.stdout);
    const res = JSON.parse(readFileSync(json('failover.json'), 'utf8')).results[0];
    t.is(res.instance, 'VI_1');
    t.is(res.master, 'dir1');
    t.is(res.analysis.newMaster, 'dir2');
    t.true(res.analysis.takeoverMs > 0 && res.analysis.takeoverMs < 10_000, `takeover ${res.analysis.takeoverMs}`);
    t.true(Number.isInteger(res.analysis.lost) && res.analysis.lost >= 0);
    t.true(res.analysis.preemptBackMs >= 0 && res.analysis.preemptBackMs < 30_000);
    t.true(res.analysis.baseline.sent > 5 && res.analysis.fault.sent > 5);
    t.is(r.code, 0, r.stdout);
  });

  test.serial('drill realservers: the DR real servers roll through with 0 failed probes', async (t) => {
    t.timeout(20 * 60_000);
    const r = await lvsplay(['drill', 'realservers', SITE, '-i', inventory(), '--only', 'web-dr', '--probe-timeout', '5s', '--drain-timeout', '10s', '--json', json('rs.json')], { timeoutMs: 20 * 60_000 });
    t.log(r.stdout);
    const rows = JSON.parse(readFileSync(json('rs.json'), 'utf8')).rows;
    t.deepEqual(rows.map((x: any) => x.backend), ['rs1', 'rs2']);
    for (const x of rows) {
      t.true(x.removedMs > 0 && x.removedMs < 60_000, `${x.backend} removed after ${x.removedMs}`);
      t.true(x.rejoinedMs > 0, `${x.backend} rejoined`);
      t.true(x.answeredMs > 0, `${x.backend} answers again`);
      t.is(x.probes.failed, 0, `${x.backend}: ${JSON.stringify(x.probes.errors)}`);
    }
    t.is(r.code, 0);
  });

  test.serial('a web server stopped without a health check: verify exits 2 with the failed probes', async (t) => {
    t.timeout(20 * 60_000);
    // the same cluster with web-dr's health check off (extra vars win over the inventory)
    const services = (loadInventory(inventory()).hosts.get('dir1')!.vars.lvs_services as any[]).map((s) => (s.name === 'web-dr' ? { ...s, health_check: { type: 'NONE' } } : s));
    const ev = json('no-check.json');
    writeFileSync(ev, JSON.stringify({ lvs_services: services }));
    const run = await lvsplay(['run', SITE, '-i', inventory(), '-e', `@${ev}`, '--no-verify'], { timeoutMs: 20 * 60_000 });
    t.is(run.code, 0, run.stdout.slice(-2000) + run.stderr);
    const stop = await lab().ssh('rs2', 'kill $(cat /run/lvsplay-httpd-80.pid)');
    t.is(stop.code, 0, stop.stderr);
    const r = await lvsplay(['verify', SITE, '-i', inventory(), '-e', `@${ev}`], { timeoutMs: 10 * 60_000 });
    t.log(r.stdout);
    t.is(r.code, 2);
    t.regex(r.stdout, /VERIFY web-dr .*: FAIL/);
    t.regex(r.stdout, /rs2 +50\.0% +0\.0% +0 .*MISSING/);
    t.regex(r.stdout, /FAIL: \d+ of 100 probes failed/);
  });
}
