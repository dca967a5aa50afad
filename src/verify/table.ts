/** The verification table: one block per service (backend, expected %, observed %, count, director Δ, verdict). */
import type { VerifyRecord } from './types.ts';

const pct = (x: number | undefined) => (x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);

export function formatVerifyRecord(v: VerifyRecord): string {
  const out: string[] = [];
  const head = [v.vip, v.fwmark !== undefined ? `fwmark ${v.fwmark}` : undefined, v.protocol === 'UDP' ? 'UDP' : undefined, v.family === 6 ? 'IPv6' : undefined, v.scheduler, v.rule, v.master !== undefined ? `master ${v.master ?? '(none)'}` : undefined, v.vantage ? `from ${v.vantage}` : undefined]
    .filter(Boolean)
    .join(', ');
  out.push(`VERIFY ${v.service}${head ? ` (${head})` : ''}: ${v.verdict ?? (v.pass ? 'PASS' : 'FAIL')}`);
  const rows = v.rows ?? [...new Set([...Object.keys(v.expected), ...Object.keys(v.observed)])].map((b) => ({ backend: b, expected: v.expected[b] ?? 0, observed: v.observed[b] ?? 0, count: NaN, verdict: '' }));
  const w = Math.max(7, ...rows.map((r) => r.backend.length));
  out.push(`  ${'backend'.padEnd(w)}  expected  observed  probes  director  verdict`);
  for (const r of rows) {
    const d = (r as { director?: number }).director;
    out.push(
      `  ${r.backend.padEnd(w)}  ${pct(r.expected).padStart(8)}  ${pct(r.observed).padStart(8)}  ${(Number.isNaN(r.count) ? '-' : String(r.count)).padStart(6)}  ${(d === undefined ? '-' : String(d)).padStart(8)}  ${r.verdict}`,
    );
  }
  const stat = v.p !== undefined ? `chi-square p = ${v.p < 1e-4 ? v.p.toExponential(2) : v.p.toFixed(4)} (fails below 0.001); ` : '';
  if (v.probes !== undefined) out.push(`  ${stat}${v.probes} probes, ${v.failed ?? 0} failed`);
  for (const r of v.reasons ?? []) out.push(`  FAIL: ${r}`);
  if (!v.reasons && !v.pass && v.detail) out.push(`  FAIL: ${v.detail}`);
  for (const n of v.notes ?? []) out.push(`  note: ${n}`);
  return out.join('\n');
}

/** One line: "verify: 3 of 4 services passed, 1 degraded (web-dr: rs1 down)" (or "rs1 drained": `lvsplay drain`), in the recap and `lvsplay verify`. */
export function verifySummary(records: readonly VerifyRecord[]): string {
  const failed = records.filter((r) => !r.pass);
  const degraded = records.filter((r) => r.pass && r.verdict === 'DEGRADED');
  const deg = degraded.length ? `, ${degraded.length} degraded (${degraded.map((r) => `${r.service}: ${(r.down ?? []).map((d) => `${d.backend} ${r.drained?.includes(d.backend) ? 'drained' : 'down'}`).join(', ')}`).join('; ')})` : '';
  return `verify: ${records.length - failed.length - degraded.length} of ${records.length} services passed${deg}${failed.length ? `, ${failed.length} failed (${failed.map((r) => r.service).join(', ')})` : ''}`;
}
