/**
 * What a service's traffic should look like, and the verdict. Pure.
 *
 * Rules (docs/verification.md, "The rule"):
 *  - shares (rr, wrr): expected share of each healthy real server = 1/n (rr) or weight/Σweights (wrr); the observed
 *    counts of successful probes must fit by Pearson's chi-square at p ≥ 0.001.
 *  - sticky (sh, mh, dh, lblc, lblcr, fo, ovf, or persistence_timeout set): one client → every successful probe on
 *    one healthy real server (the expected record names the backend the first probe reached).
 *  - reach-all (lc, wlc, sed, nq): every healthy real server with weight > 0 answers at least once.
 *  Always: at most `maxFailed` failed probes (default 0), no answer from a backend outside the healthy set, at
 *  least one successful probe.
 */
import { ALPHA, RESIDUAL_LIMIT, adjustedResidual, chiSquareTest } from './stats.ts';

export type Rule = 'shares' | 'sticky' | 'reach-all';

const STICKY = new Set(['sh', 'mh', 'dh', 'lblc', 'lblcr', 'fo', 'ovf']);
const WEIGHTED = new Set(['wrr', 'wlc', 'sed', 'fo', 'ovf', 'sh', 'mh']);

/**
 * sh and mh hash the client address, so one client sticks to one real server; with their `-port` flag (sh-port,
 * mh-port) they hash the client port too, and a client's new connections (a new source port each) spread by weight
 * like a random draw: the shares rule.
 */
export function hashesPort(scheduler: string, flags: readonly string[] = []): boolean {
  return (scheduler === 'sh' || scheduler === 'mh') && flags.includes(`${scheduler}-port`);
}

export function ruleFor(scheduler: string, persistence: number | undefined, flags: readonly string[] = []): Rule {
  if (persistence !== undefined && persistence > 0) return 'sticky';
  if (hashesPort(scheduler, flags)) return 'shares';
  if (STICKY.has(scheduler)) return 'sticky';
  if (scheduler === 'rr' || scheduler === 'wrr') return 'shares';
  return 'reach-all';
}

export interface BackendExpectation {
  label: string;
  weight: number;
  /** in the active director's table with weight > 0 (or assumed, when the table could not be read) */
  healthy: boolean;
  /** not healthy, and the operator accepted it (--allow-down, allowDown, maxDown): its row says so */
  allowedDown?: boolean;
}

/** Expected share of each healthy backend: equal for rr-like schedulers, weight-proportional for weighted ones. */
export function expectedShares(scheduler: string, backends: readonly BackendExpectation[]): Map<string, number> {
  const live = backends.filter((b) => b.healthy && b.weight > 0);
  const out = new Map<string, number>();
  const weighted = WEIGHTED.has(scheduler);
  const sum = live.reduce((a, b) => a + (weighted ? b.weight : 1), 0);
  for (const b of backends) out.set(b.label, live.includes(b) && sum > 0 ? (weighted ? b.weight : 1) / sum : 0);
  return out;
}

export type RowVerdict = 'ok' | 'LOW' | 'HIGH' | 'MISSING' | 'UNEXPECTED' | 'DOWN' | 'down (allowed)' | 'sticky' | '-';

export interface BackendRow {
  backend: string;
  /** fraction 0..1 */
  expected: number;
  /** fraction of all probes (failed included) 0..1 */
  observed: number;
  count: number;
  verdict: RowVerdict;
}

export interface EvaluateInput {
  scheduler: string;
  /** sh-port / mh-port and the like (keepalived's scheduler flags) */
  schedulerFlags?: readonly string[];
  persistence?: number;
  backends: BackendExpectation[];
  /** successful probes per backend label (labels outside `backends` are unexpected answers) */
  counts: Map<string, number>;
  /** label the first successful probe reached (sticky services) */
  first?: string;
  failed: number;
  maxFailed: number;
}

export interface Evaluation {
  pass: boolean;
  rule: Rule;
  probes: number;
  failed: number;
  expected: Record<string, number>;
  observed: Record<string, number>;
  rows: BackendRow[];
  chiSquare?: { statistic: number; df: number; p: number };
  /** why it failed (empty when it passed) */
  reasons: string[];
  /** remarks that do not fail the check */
  notes: string[];
}

export function evaluate(i: EvaluateInput): Evaluation {
  const rule = ruleFor(i.scheduler, i.persistence, i.schedulerFlags);
  const reasons: string[] = [];
  const notes: string[] = [];
  const labels = new Set(i.backends.map((b) => b.label));
  const ok = [...i.counts.values()].reduce((a, b) => a + b, 0);
  const probes = ok + i.failed;
  const shares = expectedShares(i.scheduler, i.backends);
  // the declared pool (minus accepted downs) is what the service should have: the expected column shows it; the
  // chi-square tests the serving servers against their shares among themselves
  const declared = expectedShares(i.scheduler, i.backends.map((b) => ({ ...b, healthy: !b.allowedDown })));
  const healthy = i.backends.filter((b) => b.healthy && b.weight > 0);
  const count = (l: string) => i.counts.get(l) ?? 0;
  const frac = (n: number) => (probes > 0 ? n / probes : 0);

  if (healthy.length === 0) reasons.push('no healthy real server (none is in the active director\'s table with weight > 0)');
  if (ok === 0) reasons.push(`no probe succeeded (${i.failed} failed)`);
  if (i.failed > i.maxFailed) reasons.push(`${i.failed} of ${probes} probes failed (allowed: ${i.maxFailed})`);
  for (const [l, n] of i.counts) {
    if (!labels.has(l) && n > 0) reasons.push(`${n} probes answered by "${l}", which is not a real server of this service`);
  }
  for (const b of i.backends) {
    if (!(b.healthy && b.weight > 0) && count(b.label) > 0) reasons.push(`${b.label} answered ${count(b.label)} probes although it is not in the active director's table (or has weight 0)`);
  }

  let chi: Evaluation['chiSquare'];
  const expected: Record<string, number> = {};
  if (rule === 'shares') {
    for (const b of i.backends) expected[b.label] = declared.get(b.label) ?? 0;
    const cats = healthy.map((b) => b.label);
    if (cats.length >= 2 && ok > 0) {
      const r = chiSquareTest(cats.map(count), cats.map((l) => shares.get(l)!));
      chi = { statistic: r.statistic, df: r.df, p: r.p };
      if (r.p < ALPHA) {
        reasons.push(`distribution does not fit the ${i.scheduler} shares: chi-square ${r.statistic.toFixed(2)}, df ${r.df}, p = ${r.p.toExponential(2)} < ${ALPHA}`);
      }
      if (r.minExpected < 5) notes.push(`only ${r.minExpected.toFixed(1)} probes expected on the smallest share: the chi-square test is weak; use more probes`);
    }
  } else if (rule === 'reach-all') {
    for (const b of i.backends) expected[b.label] = declared.get(b.label) ?? 0;
    const missing = healthy.filter((b) => count(b.label) === 0).map((b) => b.label);
    if (missing.length) reasons.push(`${i.scheduler}: every healthy real server must answer at least once; none from ${missing.join(', ')}`);
    if (ok > 0 && ok < healthy.length) notes.push(`${ok} successful probes cannot reach ${healthy.length} real servers; use more probes`);
  } else {
    const target = i.first && labels.has(i.first) ? i.first : undefined;
    for (const b of i.backends) expected[b.label] = b.label === target ? 1 : 0;
    const answered = [...i.counts.entries()].filter(([, n]) => n > 0).map(([l]) => l);
    if (answered.length > 1) {
      reasons.push(`${i.persistence ? `persistence ${i.persistence}s` : i.scheduler}: one client must stick to one real server, but ${answered.length} answered (${answered.map((l) => `${l} ${count(l)}`).join(', ')})`);
    }
  }

  const observed: Record<string, number> = {};
  const rows: BackendRow[] = [];
  for (const b of i.backends) {
    const n = count(b.label);
    observed[b.label] = frac(n);
    const e = expected[b.label] ?? 0;
    let verdict: RowVerdict;
    if (!(b.healthy && b.weight > 0)) verdict = n > 0 ? 'UNEXPECTED' : b.allowedDown ? 'down (allowed)' : 'DOWN';
    else if (rule === 'sticky') verdict = e > 0 ? (n === ok ? 'sticky' : 'LOW') : n > 0 ? 'UNEXPECTED' : '-';
    else if (n === 0) verdict = 'MISSING';
    else if (rule === 'reach-all') verdict = 'ok';
    else {
      const z = adjustedResidual(n, ok, shares.get(b.label) ?? 0);
      verdict = z > RESIDUAL_LIMIT ? 'HIGH' : z < -RESIDUAL_LIMIT ? 'LOW' : 'ok';
    }
    rows.push({ backend: b.label, expected: e, observed: frac(n), count: n, verdict });
  }
  for (const [l, n] of i.counts) {
    if (labels.has(l)) continue;
    observed[l] = frac(n);
    rows.push({ backend: l, expected: 0, observed: frac(n), count: n, verdict: 'UNEXPECTED' });
  }
  if (i.failed > 0) {
    observed['(failed)'] = frac(i.failed);
    rows.push({ backend: '(failed)', expected: 0, observed: frac(i.failed), count: i.failed, verdict: i.failed > i.maxFailed ? 'UNEXPECTED' : 'ok' });
  }
  return { pass: reasons.length === 0, rule, probes, failed: i.failed, expected, observed, rows, ...(chi ? { chiSquare: chi } : {}), reasons, notes };
}
