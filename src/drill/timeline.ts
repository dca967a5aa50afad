/**
 * The analysis of a drill's recording: who held the VIP when (takeover, preempt-back, split brain) and what the
 * steady probes saw (lost probes, longest gap). Pure: every number of a drill report comes from here.
 * All times are on one clock (the orchestrator's, ms); probe times are converted with estimateOffset.
 */
import type { Probe } from '../verify/probe-output.ts';

export interface HoldEvent {
  /** ms, orchestrator clock */
  t: number;
  host: string;
  holds: boolean;
}

export interface Interval {
  from: number;
  to: number;
}

/** remote clock → local clock: the smallest (arrival − remote time) over samples (clock difference + least transit). */
export function estimateOffset(samples: ReadonlyArray<{ remote: number; local: number }>): number {
  let best = Infinity;
  for (const s of samples) best = Math.min(best, s.local - s.remote);
  return Number.isFinite(best) ? best : 0;
}

/** The set of holders over time: a step function from the events (sorted by time; the initial state at t0). */
export function holderTimeline(events: readonly HoldEvent[]): Array<{ t: number; holders: string[] }> {
  const sorted = [...events].sort((a, b) => a.t - b.t);
  const cur = new Set<string>();
  const out: Array<{ t: number; holders: string[] }> = [];
  for (const e of sorted) {
    const before = [...cur].sort().join(',');
    if (e.holds) cur.add(e.host);
    else cur.delete(e.host);
    const now = [...cur].sort();
    if (now.join(',') !== before || out.length === 0) {
      if (out.length && out[out.length - 1]!.t === e.t) out[out.length - 1] = { t: e.t, holders: now };
      else out.push({ t: e.t, holders: now });
    }
  }
  return out;
}

/** Holders at time t (after every event at or before t). */
export function holdersAt(timeline: ReadonlyArray<{ t: number; holders: string[] }>, t: number): string[] {
  let h: string[] = [];
  for (const s of timeline) {
    if (s.t > t) break;
    h = s.holders;
  }
  return h;
}

/** First time at or after `from` when `pred(holders)` is true. */
function firstTime(timeline: ReadonlyArray<{ t: number; holders: string[] }>, from: number, pred: (holders: string[]) => boolean): number | undefined {
  if (pred(holdersAt(timeline, from))) return from;
  for (const s of timeline) if (s.t > from && pred(s.holders)) return s.t;
  return undefined;
}

/** Intervals (clipped to [from, to]) during which more than one host held the VIP. */
export function splitBrainIntervals(timeline: ReadonlyArray<{ t: number; holders: string[] }>, from: number, to: number): Array<Interval & { hosts: string[] }> {
  const out: Array<Interval & { hosts: string[] }> = [];
  for (let i = 0; i < timeline.length; i++) {
    const s = timeline[i]!;
    const end = Math.min(to, timeline[i + 1]?.t ?? to);
    const start = Math.max(from, s.t);
    if (s.holders.length > 1 && end > start) out.push({ from: start, to: end, hosts: s.holders });
  }
  return out;
}

/** Total time in [from, to] with nobody holding the VIP. */
export function noHolderMs(timeline: ReadonlyArray<{ t: number; holders: string[] }>, from: number, to: number): number {
  let total = 0;
  const first = timeline[0]?.t ?? to;
  if (first > from) total += Math.min(first, to) - from; // before the first state: unknown, counted as nobody
  for (let i = 0; i < timeline.length; i++) {
    const s = timeline[i]!;
    const start = Math.max(from, s.t);
    const end = Math.min(to, timeline[i + 1]?.t ?? to);
    if (s.holders.length === 0 && end > start) total += end - start;
  }
  return total;
}

export interface ProbeWindowStats {
  sent: number;
  ok: number;
  failed: number;
  /** longest time between the starts of two consecutive successful probes (ms); the client-visible outage */
  longestGapMs: number;
  /** when that gap began (ms, the clock of the probes given) */
  gapFrom?: number;
  /** failed probes by error */
  errors: Record<string, number>;
  /** successful probes by backend */
  backends: Record<string, number>;
}

/** Probes whose start lies in [from, to) (times on the probes' clock after conversion). */
export function probeWindow(probes: readonly Probe[], from: number, to: number): ProbeWindowStats {
  const inWin = probes.filter((p) => p.t >= from && p.t < to).sort((a, b) => a.t - b.t);
  const errors: Record<string, number> = {};
  const backends: Record<string, number> = {};
  let longestGapMs = 0;
  let gapFrom: number | undefined;
  let lastOk: number | undefined;
  for (const p of inWin) {
    if (p.ok) {
      backends[p.info] = (backends[p.info] ?? 0) + 1;
      if (lastOk !== undefined && p.t - lastOk > longestGapMs) {
        longestGapMs = p.t - lastOk;
        gapFrom = lastOk;
      }
      lastOk = p.t;
    } else {
      errors[p.info] = (errors[p.info] ?? 0) + 1;
    }
  }
  // a window that ends while probes still fail: the gap runs to its end
  if (lastOk !== undefined && inWin.length && !inWin[inWin.length - 1]!.ok && to - lastOk > longestGapMs && Number.isFinite(to)) {
    longestGapMs = to - lastOk;
    gapFrom = lastOk;
  }
  const ok = inWin.filter((p) => p.ok).length;
  return { sent: inWin.length, ok, failed: inWin.length - ok, longestGapMs, ...(gapFrom !== undefined ? { gapFrom } : {}), errors, backends };
}

/** The moments of one real server's maintenance cycle (ms, the orchestrator's clock); later ones may be missing. */
export interface CycleTimes {
  drain: number;
  stop?: number;
  removed?: number;
  start?: number;
  back?: number;
}

export type CyclePhase = 'draining' | 'stopped' | 'removed' | 'restarting' | 'rejoined';

/** Which phase of a maintenance cycle a moment falls into (before the drain counts as draining). */
export function cyclePhase(c: CycleTimes, t: number): CyclePhase {
  if (c.back !== undefined && t >= c.back) return 'rejoined';
  if (c.start !== undefined && t >= c.start) return 'restarting';
  if (c.removed !== undefined && t >= c.removed) return 'removed';
  if (c.stop !== undefined && t >= c.stop) return 'stopped';
  return 'draining';
}

/** Failed probes in [from, to) by the phase of the cycle they started in, e.g. {stopped: 12, removed: 3}. */
export function failuresByPhase(probes: readonly Probe[], c: CycleTimes, from: number, to: number): Partial<Record<CyclePhase, number>> {
  const out: Partial<Record<CyclePhase, number>> = {};
  for (const p of probes) {
    if (p.ok || p.t < from || p.t >= to) continue;
    const ph = cyclePhase(c, p.t);
    out[ph] = (out[ph] ?? 0) + 1;
  }
  return out;
}

export interface FailoverInput {
  master: string;
  backups: string[];
  /** VIP holder events (initial states at the watchers' start) */
  holds: HoldEvent[];
  /** probes with times already on the orchestrator clock */
  probes: Probe[];
  faultAt: number;
  restoreAt: number;
  endAt: number;
  nopreempt: boolean;
}

export interface FailoverAnalysis {
  /** ms from the fault until a backup held the VIP (undefined: never) */
  takeoverMs?: number;
  /** which backup took it */
  newMaster?: string;
  /** ms from the fault until the old master no longer held it (undefined: it kept it) */
  releasedMs?: number;
  /** ms from the restore until the old master held the VIP alone again (undefined: it did not, within the drill) */
  preemptBackMs?: number;
  splitBrain: Array<Interval & { hosts: string[] }>;
  splitBrainMs: number;
  /** ms without any holder between the fault and the end */
  noHolderMs: number;
  baseline: ProbeWindowStats;
  fault: ProbeWindowStats;
  restore: ProbeWindowStats;
  /** failed probes from the fault to the end */
  lost: number;
  longestGapMs: number;
  /** when that gap began (the last successful probe before it) */
  longestGapFrom?: number;
}

export function analyzeFailover(i: FailoverInput): FailoverAnalysis {
  const tl = holderTimeline(i.holds);
  const start = Math.min(i.faultAt, ...i.holds.map((h) => h.t), ...i.probes.map((p) => p.t));
  const taken = firstTime(tl, i.faultAt, (h) => h.some((x) => i.backups.includes(x)));
  const newMaster = taken !== undefined ? holdersAt(tl, taken).find((x) => i.backups.includes(x)) : undefined;
  const released = firstTime(tl, i.faultAt, (h) => !h.includes(i.master));
  const back = firstTime(tl, i.restoreAt, (h) => h.length === 1 && h[0] === i.master);
  const split = splitBrainIntervals(tl, start, i.endAt);
  const fault = probeWindow(i.probes, i.faultAt, i.restoreAt);
  const restore = probeWindow(i.probes, i.restoreAt, i.endAt + 1);
  const whole = probeWindow(i.probes, i.faultAt, i.endAt + 1);
  // the outage the client saw starts at the last success before the fault, not at the fault: when every probe
  // from the fault on fails until the takeover, the gap runs from that success to the first one after
  // (a loop, not Math.max(...spread): an hour-long drill streams over 100,000 probes)
  let lastOkBefore: number | undefined;
  for (const p of i.probes) if (p.ok && p.t < i.faultAt && (lastOkBefore === undefined || p.t > lastOkBefore)) lastOkBefore = p.t;
  const gap = lastOkBefore !== undefined ? probeWindow(i.probes, lastOkBefore, i.endAt + 1) : whole;
  return {
    ...(taken !== undefined ? { takeoverMs: taken - i.faultAt } : {}),
    ...(newMaster ? { newMaster } : {}),
    ...(released !== undefined ? { releasedMs: released - i.faultAt } : {}),
    ...(back !== undefined ? { preemptBackMs: back - i.restoreAt } : {}),
    splitBrain: split,
    splitBrainMs: split.reduce((a, s) => a + (s.to - s.from), 0),
    noHolderMs: noHolderMs(tl, i.faultAt, i.endAt),
    baseline: probeWindow(i.probes, start, i.faultAt),
    fault,
    restore,
    lost: whole.failed,
    longestGapMs: gap.longestGapMs,
    ...(gap.gapFrom !== undefined ? { longestGapFrom: gap.gapFrom } : {}),
  };
}

export interface FailoverThresholds {
  maxTakeoverMs: number;
  maxLost: number;
  /**
   * Longest single overlap of two holders tolerated (default DEFAULT_MAX_SPLIT_BRAIN_MS). A handover overlaps for up to one advert
   * exchange, and the watchers' events come over separate SSH channels (tens of ms of jitter); a killed master
   * that keeps the VIP overlaps for seconds.
   */
  maxSplitBrainMs?: number;
}

/** Why a failover drill fails (empty: it passed). */
/** 1 s: a handover overlaps for one advert exchange plus the watchers' SSH jitter; a real split brain lasts seconds. */
export const DEFAULT_MAX_SPLIT_BRAIN_MS = 1000;

export function failoverVerdict(a: FailoverAnalysis, t: FailoverThresholds, o: { nopreempt: boolean; master: string; probed: boolean }): string[] {
  const r: string[] = [];
  if (a.takeoverMs === undefined) r.push('no backup took the VIP over');
  else if (a.takeoverMs > t.maxTakeoverMs) r.push(`takeover took ${fmtMs(a.takeoverMs)} (max ${fmtMs(t.maxTakeoverMs)})`);
  if (o.probed && a.lost > t.maxLost) r.push(`${a.lost} probes lost (max ${t.maxLost})`);
  const longest = Math.max(0, ...a.splitBrain.map((s) => s.to - s.from));
  if (longest > (t.maxSplitBrainMs ?? DEFAULT_MAX_SPLIT_BRAIN_MS)) {
    r.push(`split brain for ${fmtMs(a.splitBrainMs)} (longest ${fmtMs(longest)}, max ${fmtMs(t.maxSplitBrainMs ?? DEFAULT_MAX_SPLIT_BRAIN_MS)}): ${[...new Set(a.splitBrain.flatMap((s) => s.hosts))].join(' and ')} held the VIP at once`);
  }
  if (o.nopreempt && a.preemptBackMs !== undefined) r.push(`nopreempt: ${o.master} took the VIP back after the restore`);
  if (!o.nopreempt && a.preemptBackMs === undefined) r.push(`${o.master} did not take the VIP back after the restore (preempt)`);
  if (o.probed && a.baseline.failed > 0) r.push(`${a.baseline.failed} probes failed before the fault (the service was not healthy to begin with)`);
  return r;
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${Math.round(ms)}ms`;
}

/** '5s', '500ms', '1.5s', '2m', or a bare number of seconds → ms. */
export function parseDuration(s: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(s);
  if (!m) return undefined;
  const v = Number(m[1]);
  return m[2] === 'ms' ? v : m[2] === 'm' ? v * 60_000 : v * 1000;
}

/** Batches of a rolling drill: `serial` a count ('1', 2) or a percentage ('50%') of `n`, at least 1. */
export function serialBatches<T>(items: readonly T[], serial: string | number): T[][] {
  const n = items.length;
  let size: number;
  const s = String(serial).trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (pct) size = Math.max(1, Math.floor((n * Number(pct[1])) / 100));
  else if (/^\d+$/.test(s) && Number(s) >= 1) size = Number(s);
  else throw new RangeError(`serial must be a count (1, 2 …) or a percentage (50%), got "${s}"`);
  const out: T[][] = [];
  for (let i = 0; i < n; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** How a failover drill's fault is named in logs and reports (mode: handover, stop, kill, linkdown). */
export function faultLabel(mode: string, host: string | undefined, iface?: string): string {
  if (mode === 'linkdown') return `${iface ?? 'VRRP link'} down on ${host ?? '?'}`;
  if (mode === 'handover') return `handover: ${host ?? '?'} lowers its priority`;
  return `${mode} keepalived on ${host ?? '?'}`;
}

/** How the restore after a failover drill's fault is named. */
export function restoreLabel(mode: string): string {
  if (mode === 'linkdown') return 'link up';
  if (mode === 'handover') return 'restore: priority given back';
  return 'restore: keepalived started';
}
