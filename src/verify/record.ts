/**
 * From what was measured (probe run, director snapshots before and after) to one VerifyRecord. Pure, so every
 * verdict can be unit-tested on recorded outputs.
 */
import type { VerifyRecord } from '../output/events.ts';
import { evaluate, type BackendExpectation } from './expect.ts';
import { connDeltas, serviceKey } from './ipvsadm.ts';
import { vipInterface, type DirectorSnapshot } from './director.ts';
import type { ProbeRun } from './probe-output.ts';
import type { BackendTarget, VerifyJob } from './targets.ts';

/** The backend a probe answer names: its host name (as a whole word) or address; otherwise the answer itself. */
export function matchBackend(info: string, backends: readonly BackendTarget[]): string {
  const text = info.trim();
  for (const b of backends) if (text === b.label || text === b.host || text === b.address) return b.label;
  const hits = backends.filter((b) => new RegExp(`(^|[^A-Za-z0-9_.-])${b.host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_-])`).test(text));
  if (hits.length === 1) return hits[0]!.label;
  return text || '-';
}

/** Connections the director counted between the snapshots must cover the probes: allowed shortfall. */
export function crossCheckTolerance(n: number): number {
  return Math.max(1, Math.ceil(n * 0.02));
}

export interface RecordInput {
  job: VerifyJob;
  run: ProbeRun;
  before: Map<string, DirectorSnapshot>;
  after: Map<string, DirectorSnapshot>;
  /** directors that could not be reached, with the error */
  unreachable?: Map<string, string>;
}

export function buildRecord(i: RecordInput): VerifyRecord {
  const t = i.job.target;
  const reasons: string[] = [];
  const notes: string[] = [];
  const key = serviceKey(t.protocol, t.vip, t.port);

  // who holds the VIP
  for (const [h, e] of i.unreachable ?? []) if (t.directors.includes(h)) notes.push(`director ${h} unreachable: ${e}`);
  const holders = t.directors.filter((h) => {
    const s = i.after.get(h) ?? i.before.get(h);
    return s !== undefined && vipInterface(s.addrs, t.vip) !== undefined;
  });
  let master: string | null = holders[0] ?? null;
  if (holders.length > 1) reasons.push(`split brain: ${holders.join(' and ')} all hold ${t.vip}`);
  if (holders.length === 0 && t.directors.some((h) => i.after.has(h) || i.before.has(h))) {
    reasons.push(`no director holds ${t.vip} (checked ${t.directors.filter((h) => i.after.has(h) || i.before.has(h)).join(', ')})`);
  }
  const active = (master && (i.after.get(master) ?? i.before.get(master))) || undefined;
  if (!master) master = null;

  // the active director's table: health, weights, stale entries
  const table = active?.list?.get(key);
  const rsKey = (b: BackendTarget) => `${b.address}:${b.port}`;
  let backends: BackendExpectation[];
  if (active && table) {
    backends = t.backends.map((b) => {
      const row = table.reals.get(rsKey(b));
      if (!row) notes.push(`${b.label} (${rsKey(b)}) is not in ${active.host}'s IPVS table: health check failing, or not configured`);
      else if (row.weight !== b.weight && row.weight > 0) reasons.push(`${b.label} has weight ${row.weight} in ${active.host}'s IPVS table, the inventory says ${b.weight}`);
      else if (row.weight === 0 && b.weight > 0) notes.push(`${b.label} has weight 0 in ${active.host}'s IPVS table (drained or inhibited)`);
      return { label: b.label, weight: b.weight, healthy: row !== undefined && row.weight > 0 };
    });
    for (const rs of table.reals.keys()) {
      if (!t.backends.some((b) => rsKey(b) === rs)) reasons.push(`${rs} is in ${active.host}'s IPVS table but not a real server of ${t.name} in the inventory (stale entry: it takes a share of the traffic)`);
    }
    if (table.scheduler && table.scheduler !== t.scheduler) reasons.push(`${active.host} schedules ${key} with ${table.scheduler}, the inventory says ${t.scheduler}`);
  } else {
    backends = t.backends.map((b) => ({ label: b.label, weight: b.weight, healthy: true }));
    if (active?.ipvsError) notes.push(`IPVS table of ${active.host} unreadable (${active.ipvsError}): every real server assumed healthy, no cross-check`);
    else if (active) reasons.push(`${key} is not in the IPVS table of ${active.host}, which holds the VIP`);
  }

  // director counters between the snapshots
  const deltas = active ? connDeltas(i.before.get(active.host)?.stats?.get(key), active.stats?.get(key)) : new Map<string, number>();
  const haveStats = !!active?.stats?.get(key) && !!i.before.get(active.host)?.stats;
  const deltaOf = (b: BackendTarget) => deltas.get(rsKey(b)) ?? 0;

  // what the probes saw
  const run = i.run;
  if (run.unavailable) reasons.push(`not probed from ${i.job.vantage}: ${run.unavailable}`);
  if (run.noise.length) notes.push(`vantage output: ${run.noise.slice(0, 3).join(' | ').slice(0, 300)}`);
  const failedProbes = run.probes.filter((p) => !p.ok);
  const counts = new Map<string, number>();
  let first: string | undefined;
  if (i.job.http) {
    for (const p of run.probes) {
      if (!p.ok) continue;
      const l = matchBackend(p.info, t.backends);
      counts.set(l, (counts.get(l) ?? 0) + 1);
      first ??= l;
    }
  } else if (haveStats) {
    // TCP without a body: the director's per-real-server counters say where the connections went
    for (const b of t.backends) if (deltaOf(b) > 0) counts.set(b.label, deltaOf(b));
    for (const [rs, n] of deltas) if (n > 0 && !t.backends.some((b) => rsKey(b) === rs)) counts.set(rs, n);
    first = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    const sum = [...counts.values()].reduce((a, b) => a + b, 0);
    const okProbes = run.probes.length - failedProbes.length;
    if (sum !== okProbes) notes.push(`director counted ${sum} new connections for ${okProbes} successful probes (other clients, or counter lag)`);
  } else {
    reasons.push(`TCP service: the backends are counted by the active director's counters, which could not be read`);
  }
  const ev = evaluate({
    scheduler: t.scheduler,
    ...(t.persistence !== undefined ? { persistence: t.persistence } : {}),
    backends,
    counts,
    ...(first ? { first } : {}),
    failed: failedProbes.length,
    maxFailed: i.job.check.maxFailed,
  });
  if (failedProbes.length) {
    const why = new Map<string, number>();
    for (const p of failedProbes) why.set(p.info, (why.get(p.info) ?? 0) + 1);
    notes.push(`failed probes: ${[...why].map(([k, n]) => `${n}× ${k}`).join(', ')}`);
  }

  // cross-check: the active director must have counted at least the connections the probes saw per backend
  if (i.job.http && haveStats) {
    for (const b of t.backends) {
      const seen = counts.get(b.label) ?? 0;
      if (deltaOf(b) < seen - crossCheckTolerance(seen)) {
        reasons.push(`cross-check: ${active!.host} counted ${deltaOf(b)} new connections to ${b.label}, the probes saw ${seen} answers from it (traffic bypassed the active director, or the real servers do not answer with their own names)`);
      }
    }
  } else if (i.job.http && active && !haveStats) {
    notes.push(`no director counters: cross-check skipped`);
  }

  const rows = ev.rows.map((r) => {
    const b = t.backends.find((x) => x.label === r.backend);
    return { ...r, ...(b && haveStats ? { director: deltaOf(b) } : {}) };
  });
  const all = [...reasons, ...ev.reasons];
  const allNotes = [...notes, ...ev.notes];
  return {
    service: t.name,
    expected: ev.expected,
    observed: ev.observed,
    pass: all.length === 0,
    detail: all.length ? all.join('; ') : `${ev.rule}${ev.chiSquare ? ` p=${ev.chiSquare.p.toPrecision(3)}` : ''}, ${ev.probes} probes from ${i.job.vantage}, master ${master ?? '-'}`,
    vip: `${t.vip}:${t.port}`,
    scheduler: t.scheduler + (t.persistence ? ` persistent ${t.persistence}s` : ''),
    rule: ev.rule,
    vantage: i.job.vantage,
    master,
    probes: ev.probes,
    failed: ev.failed,
    ...(ev.chiSquare ? { p: ev.chiSquare.p } : {}),
    rows,
    reasons: all,
    notes: allNotes,
  };
}
