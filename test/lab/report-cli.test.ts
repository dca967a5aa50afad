// --report on run, verify and drill, for real: the CLI over SSH against a tier-1 lab (the VRRP pair of
// test/fixtures/report/vrrp-pair.yaml), each writing its HTML report next to its --json; `lvsplay report` on that
// --json renders the same page.
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useLab } from '../helpers/lab.ts';
import { lvsplay } from '../helpers/cli.ts';
import { DRILL_PLAYBOOK, startVrrpPair } from '../helpers/vrrp-pair.ts';

const lab = useLab(test, { topology: 'test/fixtures/report/vrrp-pair.yaml' });
let ready: Promise<void> | undefined;
const pair = () => (ready ??= startVrrpPair(lab().ssh));

/** Block titles and verdict badges of a report page (what both ways of writing it must agree on). */
const outline = (html: string) => [...html.matchAll(/<h3>([^<]*)(?:<span class="badge [a-z]+">([A-Z]+)<\/span>)?/g)].map((m) => `${m[1]!.trim()} ${m[2] ?? ''}`.trim());
const charts = (html: string) => html.match(/<figure class="chart"><svg/g)?.length ?? 0;

test.serial('run --report: the recap, the changes and the verification in one page; report on the --json gives the same', async (t) => {
  await pair();
  const html = join(lab().dir, 'run.html');
  const json = join(lab().dir, 'run.jsonl');
  const r = await lvsplay(['run', 'test/fixtures/report/site.ts', '-i', lab().inventory, '--json', json, '--report', html], { timeoutMs: 240_000 });
  t.is(r.code, 2, 'tier 1 has no IPVS: the verification fails (the VIP holder answers every probe) ' + r.stdout + r.stderr);
  const page = readFileSync(html, 'utf8');
  t.deepEqual(outline(page), ['Recap', 'Changes per host', 'web — 198.18.0.100:80 FAIL']);
  t.is(charts(page), 2);
  t.regex(page, /data-verdict="FAIL"/);
  t.regex(page, /distribution does not fit the rr shares/);
  const again = join(lab().dir, 'again.html');
  const r2 = await lvsplay(['report', json, '-o', again]);
  t.is(r2.code, 0, r2.stderr);
  t.deepEqual(outline(readFileSync(again, 'utf8')), outline(page));
});

test.serial('verify --report and drill failover --report', async (t) => {
  await pair();
  const pb = join(lab().dir, 'drill.mjs');
  writeFileSync(pb, DRILL_PLAYBOOK);
  const vHtml = join(lab().dir, 'verify.html');
  const v = await lvsplay(['verify', pb, '-i', lab().inventory, '--report', vHtml], { timeoutMs: 240_000 });
  t.is(v.code, 2, v.stdout + v.stderr);
  t.deepEqual(outline(readFileSync(vHtml, 'utf8')), ['web — 198.18.0.100:80 FAIL']);
  const dHtml = join(lab().dir, 'drill.html');
  const d = await lvsplay(['drill', 'failover', pb, '-i', lab().inventory, '--mode', 'stop', '--max-lost', '200', '--report', dHtml], { timeoutMs: 240_000 });
  t.is(d.code, 0, d.stdout + d.stderr);
  const page = readFileSync(dHtml, 'utf8');
  t.deepEqual(outline(page), ['VI_1 — VIP 198.18.0.100 PASS']);
  t.is(charts(page), 1);
  t.regex(page, /takeover by dir2: \d/);
  t.regex(page, /preempt back to dir1: \d/);
  t.regex(page, /aria-roledescription="tick"/, 'the probes are drawn');
});
