// The HTML report generator on recorded files of real lab runs (test/fixtures/report: tier 1 by record-tier1.ts,
// vm-* from the QEMU lab with real IPVS): parsing, chart data, and the page (real Vega SVG rendering).
import test from 'ava';
import { readFileSync } from 'node:fs';
import { ValidationError } from '../../src/errors.ts';
import { parseReportText, verdictOf, type FailoverReport, type RealserversReport, type RunReport } from '../../src/report/records.ts';
import { failoverChart, failoverMoments, holdIntervals, phaseIntervals, probeOutcome, realserversChart, recapChart, shareKey, verifyChart } from '../../src/report/charts.ts';
import { worst } from '../../src/report/build.ts';
import { numericColumns } from '../../src/report/page.ts';
import { reportHtml } from '../../src/report/index.ts';
import { defaultOutput } from '../../src/commands/report.ts';

const FIX = 'test/fixtures/report/';
const load = (f: string) => parseReportText(readFileSync(FIX + f, 'utf8'), f);
const run = (f: string) => load(f) as RunReport;
const drill = (f: string) => load(f) as FailoverReport;
const NOW = new Date('2026-12-01T23:00:00Z');

test('a run --json stream: recap per host, changed steps, the verification records', (t) => {
  const r = run('run-first.jsonl');
  t.is(r.kind, 'run');
  t.is(r.start?.playbook, 'basic');
  t.deepEqual(Object.keys(r.recap!.hosts).sort(), ['client', 'dir1', 'dir2']);
  t.is(r.steps.filter((s) => s.status === 'changed').length, 12);
  t.is(r.verify.length, 1);
  t.is(verdictOf(r.verify[0]!), 'FAIL');
  t.true(r.verify[0]!.p! < 0.001, 'tier 1 has no IPVS: the VIP holder answers every probe, the shares fail');
  const second = run('run-second.jsonl');
  t.is(second.steps.filter((s) => s.status === 'changed').length, 0, 'the second run changes nothing');
});

test('records from the VM lab (real IPVS): 4 services pass; the failing verify has its verdict word and new fields', (t) => {
  const ok = run('vm-site-run.jsonl');
  t.deepEqual(ok.verify.map(verdictOf), ['PASS', 'PASS', 'PASS', 'PASS']);
  t.is(Object.keys(ok.recap!.hosts).length, 7);
  const bad = run('vm-verify-fail.jsonl');
  t.deepEqual(bad.verify.map(verdictOf), ['FAIL', 'FAIL', 'FAIL', 'FAIL']);
  t.regex(bad.verify[0]!.reasons.join(), /no director holds/);
  t.is(bad.verify[0]!.master, null);
  t.is(shareKey('DOWN'), 'observed, not in the pool', 'a DOWN row (newer records) is not counted as off');
});

test('tolerant of what newer versions add: a DEGRADED verdict, extra fields, unknown events', (t) => {
  const rec = { service: 'web', pass: true, verdict: 'degraded', expected: { a: 0.5 }, observed: { a: 0.5 }, reasons: ['1 of 2 real servers down'], zeta: { nested: 1 } };
  const text = [JSON.stringify({ event: 'something_new', x: 1 }), JSON.stringify({ event: 'verify', result: rec, extra: true }), JSON.stringify({ event: 'recap', hosts: {}, verify: [rec], elapsedMs: 5, check: false, more: 'x' })].join('\n');
  const r = parseReportText(text, 'new.jsonl') as RunReport;
  t.is(verdictOf(r.verify[0]!), 'DEGRADED');
  t.is(worst(['PASS', 'DEGRADED', 'PASS']), 'DEGRADED');
  t.is(worst(['DEGRADED', 'FAIL']), 'FAIL');
  t.is((r.verify[0] as Record<string, unknown>).zeta !== undefined, true, 'extra fields are kept, not rejected');
});

test('bad input names the file and line', (t) => {
  const e1 = t.throws(() => parseReportText('{"event":"recap"}\n{oops\n', 'x.jsonl'), { instanceOf: ValidationError });
  t.regex(e1!.toString(), /^x\.jsonl:2: not JSON/);
  const e2 = t.throws(() => parseReportText('{"event":"recap","hosts":{"a":{"ok":"x"}}}\n', 'y.jsonl'), { instanceOf: ValidationError });
  t.regex(e2!.toString(), /y\.jsonl:1: a "recap" event: hosts\.a\.ok/);
  t.throws(() => parseReportText('{\n "name": "not a record"\n}\n', 'package.json'), { message: /neither a drill result/ });
  t.throws(() => parseReportText('', 'e.json'), { message: /empty/ });
  t.throws(() => parseReportText('{"drill":"chaos","pass":true}', 'd.json'), { message: /unknown drill "chaos"/ });
  t.is(defaultOutput('out/drill.json'), 'out/drill.html');
  t.is(defaultOutput('run.jsonl'), 'run.html');
});

test('failover (SIGKILL, recorded): the killed master keeps the VIP, the split brain interval and the measured moments', (t) => {
  const d = drill('drill-failover-kill.json');
  t.is(d.kind, 'failover');
  const r = d.results[0]!;
  const iv = holdIntervals(r.holds, r.endAt!);
  const dir1 = iv.filter((i) => i.host === 'dir1');
  t.is(dir1.length, 2, 'dir1 held the VIP until it released it, and again after the preempt-back');
  t.is(dir1[0]!.to - r.faultAt!, r.analysis!.releasedMs!, 'the first interval ends when the analysis says dir1 released it');
  const spec = failoverChart(r) as unknown as { layer: Array<{ data?: { values: Array<Record<string, unknown>> } }> };
  const split = spec.layer[0]!.data!.values;
  t.is(split.length, r.analysis!.splitBrain.length);
  t.is(split[0]!.key, 'split brain');
  const shaded = split.reduce((a, x) => a + Math.round(((x.to as number) - (x.from as number)) * 1000), 0);
  t.true(Math.abs(shaded - r.analysis!.splitBrainMs) <= split.length, `shaded ${shaded} ms, measured ${r.analysis!.splitBrainMs} ms`);
  t.regex(String(split[0]!.label), /^split brain 2\.\d\ds$/, 'the killed master kept the VIP for seconds');
  const m = failoverMoments(r).map((x) => x.label);
  t.deepEqual(m, ['fault: kill keepalived on dir1', `takeover by dir2: ${(r.analysis!.takeoverMs! / 1000).toFixed(2)}s`, 'restore: keepalived started', `preempt back to dir1: ${(r.analysis!.preemptBackMs! / 1000).toFixed(2)}s`]);
  const probes = spec.layer[2]!.data!.values;
  t.is(probes.length, r.probeLog!.length, 'every recorded probe is a mark');
});

test('failover (link down, recorded): timeouts are marks of their own, the longest gap is drawn from its start', (t) => {
  const r = drill('drill-failover-linkdown.json').results[0]!;
  const outcomes = new Map<string, number>();
  for (const p of r.probeLog!) outcomes.set(probeOutcome(p), (outcomes.get(probeOutcome(p)) ?? 0) + 1);
  t.is(outcomes.get('timeout'), r.analysis!.lost, 'the lost probes timed out while the link was down');
  t.true(r.analysis!.longestGapFrom !== undefined);
  const spec = JSON.stringify(failoverChart(r));
  t.true(spec.includes(`longest gap ${(r.analysis!.longestGapMs / 1000).toFixed(2)}s`));
  t.is(probeOutcome({ ok: false, info: 'ECONNREFUSED' }), 'refused');
  t.is(probeOutcome({ ok: false, info: 'http-503' }), 'error');
});

test('realservers (VM lab, recorded): phases per batch in order, failures counted in the phase they started in', (t) => {
  const d = load('vm-drill-realservers.json') as RealserversReport;
  t.is(d.kind, 'realservers');
  const rs2 = d.rows.find((r) => r.service === 'web-dr' && r.backend === 'rs2')!;
  const iv = phaseIntervals(rs2, rs2.at!.back! + 5000);
  t.deepEqual(iv.map((p) => p.phase), ['drained', 'stopped', 'removed', 'restarting', 'rejoined']);
  t.is(iv[1]!.to - iv[1]!.from, rs2.removedMs!, 'stopped lasts until the health checker removed it');
  t.is(iv[3]!.to - iv[3]!.from, rs2.rejoinedMs!, 'restarting lasts until it rejoined');
  const spec = realserversChart(d.rows.filter((r) => r.service === 'web-dr')) as unknown as { layer: Array<{ data: { values: Array<Record<string, unknown>> } }> };
  const failed = spec.layer[2]!.data.values;
  t.deepEqual(failed.map((f) => [f.lane, f.label]), [
    ['batch 1: rs1', '149 failed'], ['batch 1: rs1', '153 failed'], ['batch 1: rs1', '240 failed'],
    ['batch 2: rs2', '445 failed'], ['batch 2: rs2', '153 failed'], ['batch 2: rs2', '161 failed'],
  ]);
  // each count sits inside the phase it belongs to
  const phases = spec.layer[0]!.data.values;
  const inside = (f: Record<string, unknown>, phase: string) => phases.some((p) => p.lane === f.lane && p.key === phase && (p.from as number) <= (f.t as number) && (f.t as number) <= (p.to as number));
  t.true(inside(failed[3]!, 'drained') && inside(failed[4]!, 'stopped') && inside(failed[5]!, 'restarting'));
});

test('realservers with its probes kept (VM lab, recorded, 0 failed): every probe once as an ok tick, no failure mark', (t) => {
  const d = load('vm-drill-realservers-pass.json') as RealserversReport;
  const rows = d.rows.filter((r) => r.service === 'web-dr');
  const sent = rows.reduce((n, r) => n + (r.probeLog?.length ?? 0), 0);
  t.true(sent > 1000, `${sent} probes recorded`);
  const spec = realserversChart(rows) as unknown as { layer: Array<{ data: { values: Array<Record<string, unknown>> } }> };
  const ticks = spec.layer[1]!.data.values;
  t.is(ticks.length, sent, 'each probe drawn once');
  t.true(ticks.every((p) => p.key === 'probe ok'));
  t.deepEqual(spec.layer[2]!.data.values, []);
  // the ticks span the batches: from the first drain to after the last rejoin
  const ts = ticks.map((p) => p.t as number);
  const phases = spec.layer[0]!.data.values;
  t.true(Math.min(...ts) <= 1 && Math.max(...ts) >= Math.max(...phases.filter((p) => p.key === 'restarting').map((p) => p.to as number)));
});

test('verification and recap chart data come from the records', (t) => {
  const rec = run('vm-verify-fail.jsonl').verify[1]!; // web-dr: rs1 MISSING, rs2 HIGH
  const v = verifyChart(rec) as unknown as { data: { values: Array<{ backend: string; key: string; expected: number; observed: number }> } };
  t.deepEqual(v.data.values.map((x) => [x.backend, x.key, x.expected, x.observed]), [
    ['rs1', 'observed, off the expected share', 0.5, 0],
    ['rs2', 'observed, off the expected share', 0.5, 1],
  ]);
  const recap = recapChart(run('vm-site-run.jsonl').recap!.hosts) as unknown as { data: { values: Array<{ host: string; status: string; n: number }> } };
  t.deepEqual(recap.data.values.filter((x) => x.host === 'node1').map((x) => [x.status, x.n]), [['ok (unchanged)', 2], ['changed', 23], ['skipped', 1]]);
  t.deepEqual(numericColumns({ head: ['a', 'b'], rows: [['x', '5'], ['y', '1.5s']] }), [false, true]);
});

test('a DEGRADED verification (VM lab, rs1 down and allowed): the verdict, its reason from the notes, the down row grey', async (t) => {
  const r = run('vm-verify-degraded.jsonl');
  t.deepEqual(r.verify.map(verdictOf), ['PASS', 'DEGRADED', 'DEGRADED', 'DEGRADED']);
  const html = await reportHtml(r, 'vm-verify-degraded.jsonl', NOW);
  t.regex(html, /data-verdict="DEGRADED"/);
  t.regex(html, /<li class="degraded">DEGRADED: rs1 \(198\.18\.0\.21:80\) fails its health check on dir1/);
  t.is(shareKey('down (allowed)'), 'observed, not in the pool');
});

test('a failover drill of two instances (VM lab, overloaded): one timeline each, the measured values in the cards', async (t) => {
  const d = drill('vm-drill-failover.json');
  t.is(d.results.length, 2);
  const html = await reportHtml(d, 'vm-drill-failover.json', NOW);
  t.is(html.match(/<figure class="chart"><svg/g)?.length, 2);
  for (const r of d.results) t.true(html.includes(`takeover by ${r.analysis!.newMaster}: ${(r.analysis!.takeoverMs! / 1000).toFixed(2)}s`));
});

for (const f of ['run-first.jsonl', 'vm-site-run.jsonl', 'vm-verify-fail.jsonl', 'vm-verify-degraded.jsonl', 'vm-drill-failover.json', 'verify-tier1.jsonl', 'drill-failover-stop.json', 'drill-failover-kill.json', 'drill-failover-linkdown.json', 'vm-drill-realservers.json', 'vm-drill-realservers-pass.json']) {
  test(`page of ${f}: self-contained HTML with a verdict and SVG charts`, async (t) => {
    const data = load(f);
    const html = await reportHtml(data, f, NOW);
    t.regex(html, /^<!doctype html>/);
    t.notRegex(html, /<script|<link|<img|<iframe|@import|url\(/i, 'no script, no external resource');
    // an address may appear as text (a health check's URL in a reason), never as a resource
    t.deepEqual(html.match(/(?:src|href|action|xlink:href)\s*=\s*["']?[a-z]+:/gi) ?? [], [], 'no attribute that loads anything');
    const charts = html.match(/<figure class="chart"><svg/g)?.length ?? 0;
    const expected = data.kind === 'run' ? (data.recap && Object.keys(data.recap.hosts).length ? 1 : 0) + data.verify.length : data.kind === 'failover' ? data.results.length : new Set(data.rows.map((r) => r.service)).size;
    t.is(charts, expected);
    const verdict = /data-verdict="([A-Z]+)"/.exec(html)?.[1];
    const want = data.kind === 'failover' ? worst(data.results.map(verdictOf)) : data.kind === 'run' ? worst(data.verify.map(verdictOf)) : data.pass ? 'PASS' : 'FAIL';
    t.is(verdict, want);
    t.false(html.includes('undefined') || html.includes('NaN'), 'no undefined/NaN leaked into the page');
  });
}
