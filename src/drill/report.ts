/** Drill reports: a table for the operator; the JSON (--json FILE) is the result objects themselves. */
import type { FailoverResult } from './failover.ts';
import type { RealserverRow } from './realservers.ts';
import { fmtMs } from './timeline.ts';

const opt = (ms: number | undefined, none = '-') => (ms === undefined ? none : fmtMs(ms));

function table(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => '  ' + r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), ...rows.map(line)];
}

export function formatFailover(results: FailoverResult[]): string {
  const out: string[] = [];
  const rows = results.map((r) => {
    const a = r.analysis;
    return [
      r.instance,
      r.vip,
      r.mode,
      r.master ? `${r.master}→${a?.newMaster ?? '?'}` : '-',
      opt(a?.takeoverMs, 'never'),
      r.probed ? String(a?.lost ?? '-') : 'n/a',
      r.probed ? opt(a?.longestGapMs) : 'n/a',
      a ? (a.splitBrainMs > 0 ? fmtMs(a.splitBrainMs) : 'no') : '-',
      r.nopreempt ? (a?.preemptBackMs === undefined ? 'none (nopreempt)' : opt(a.preemptBackMs)) : opt(a?.preemptBackMs, 'never'),
      r.pass ? 'PASS' : 'FAIL',
    ];
  });
  out.push('DRILL failover');
  out.push(...table(['instance', 'vip', 'mode', 'master→backup', 'takeover', 'lost', 'longest gap', 'split brain', 'preempt back', 'verdict'], rows));
  for (const r of results) {
    const a = r.analysis;
    if (a && r.probed) {
      out.push(`  ${r.instance}: probes ${r.probed} from ${r.vantage}: before ${a.baseline.sent} sent/${a.baseline.failed} failed; fault→restore ${a.fault.sent}/${a.fault.failed}; after restore ${a.restore.sent}/${a.restore.failed}${Object.keys(a.fault.errors).length ? ` (${Object.entries({ ...a.fault.errors }).map(([k, n]) => `${n}× ${k}`).join(', ')})` : ''}`);
    }
    if (a && a.releasedMs !== undefined) out.push(`  ${r.instance}: ${r.master} released the VIP after ${fmtMs(a.releasedMs)}; no holder for ${fmtMs(a.noHolderMs)}`);
    else if (a && r.master) out.push(`  ${r.instance}: ${r.master} kept the VIP during the fault`);
    for (const x of r.reasons) out.push(`  FAIL ${r.instance}: ${x}`);
    for (const x of r.notes) out.push(`  note ${r.instance}: ${x}`);
  }
  return out.join('\n');
}

export function formatRealservers(rows: RealserverRow[]): string {
  const out: string[] = ['DRILL realservers'];
  out.push(
    ...table(
      ['service', 'backend', 'batch', 'drained', 'stopped by', 'removed', 'rejoined', 'answering', 'probes', 'failed', 'verdict'],
      rows.map((r) => [
        r.service,
        r.backend,
        String(r.batch),
        r.drainedMs !== undefined ? fmtMs(r.drainedMs) : r.activeLeft !== undefined ? `${r.activeLeft} left` : '-',
        r.stoppedBy?.replace(/ \(.*$/, '') ?? '-',
        opt(r.removedMs, 'never'),
        opt(r.rejoinedMs, 'never'),
        opt(r.answeredMs),
        String(r.probes?.sent ?? '-'),
        String(r.probes?.failed ?? '-'),
        r.pass ? 'PASS' : 'FAIL',
      ]),
    ),
  );
  for (const r of rows) for (const x of r.reasons) out.push(`  FAIL ${r.service}/${r.backend}: ${x}`);
  for (const n of new Set(rows.flatMap((r) => r.notes.map((x) => `${r.service}: ${x}`)))) out.push(`  note ${n}`);
  return out.join('\n');
}
