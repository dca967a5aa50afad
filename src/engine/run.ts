/**
 * Run a prepared playbook: plays in order, rolling batches (serial), hosts of a batch concurrently (p-queue,
 * --forks). Per host and play: one exec gathers facts, planning is pure, one exec applies (none with --check).
 */
import PQueue from 'p-queue';
import type { Connection } from '../transport/types.ts';
import { UnreachableError } from '../transport/types.ts';
import type { HostRecap, Reporter, RunEvent } from '../output/events.ts';
import { applyPlan, gatherFacts } from './apply.ts';
import { collectFacts, planHost, statusOf, type HostPlan } from './plan.ts';
import { hostInfo } from './expand.ts';
import type { PreparedPlay } from './prepare.ts';
import { exceedsMaxFail } from './serial.ts';
import type { Inventory } from '../inventory/types.ts';

export interface RunOptions {
  check: boolean;
  diff: boolean;
  forks: number;
  /** open (or reuse) the connection of a host */
  connect(host: string): Promise<Connection>;
  reporter: Reporter;
}

export interface RunResult {
  recap: Record<string, HostRecap>;
  /** hosts that failed (in any play) */
  failed: Set<string>;
  unreachable: Set<string>;
  aborted: boolean;
}

type HostOutcome = 'ok' | 'failed' | 'unreachable';

export async function runPlays(plays: PreparedPlay[], inv: Inventory, opts: RunOptions): Promise<RunResult> {
  const recap: Record<string, HostRecap> = {};
  const failed = new Set<string>();
  const unreachable = new Set<string>();
  const conns = new Map<string, Connection>();
  const emit = (e: RunEvent) => opts.reporter.event(e);
  const recapOf = (h: string) => (recap[h] ??= { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: false, roundTrips: 0 });
  let aborted = false;

  for (const pp of plays) {
    const t0 = Date.now();
    const active = (hs: string[]) => hs.filter((h) => !failed.has(h) && !unreachable.has(h));
    const batches = pp.batches.map(active).filter((b) => b.length > 0);
    emit({ event: 'play_start', play: pp.name, hosts: active(pp.hosts), batches });
    for (const h of active(pp.hosts)) recapOf(h);
    for (const batch of batches) {
      const queue = new PQueue({ concurrency: Math.max(1, opts.forks) });
      const outcomes = await Promise.all(batch.map((h) => queue.add(() => runHost(pp, h))));
      const bad = outcomes.filter((o) => o !== 'ok').length;
      if (exceedsMaxFail(bad, batch.length, pp.play.maxFailPercentage)) {
        emit({ event: 'play_abort', play: pp.name, reason: `${bad} of ${batch.length} hosts failed, more than maxFailPercentage ${pp.play.maxFailPercentage}%` });
        aborted = true;
        break;
      }
    }
    emit({ event: 'play_end', play: pp.name, ms: Date.now() - t0 });
    if (aborted) break;
  }
  for (const [h, c] of conns) recapOf(h).roundTrips = c.roundTrips;
  return { recap, failed, unreachable, aborted };

  async function runHost(pp: PreparedPlay, host: string): Promise<HostOutcome> {
    const t0 = Date.now();
    const r = recapOf(host);
    const done = (status: HostOutcome): HostOutcome => {
      const conn = conns.get(host);
      if (conn) r.roundTrips = conn.roundTrips;
      emit({ event: 'host_done', play: pp.name, host, status, roundTrips: r.roundTrips, ms: Date.now() - t0 });
      return status;
    };
    const exp = pp.expansions.get(host);
    if (!exp) return done('ok');
    let conn: Connection;
    try {
      conn = conns.get(host) ?? (await opts.connect(host));
      conns.set(host, conn);
    } catch (e) {
      const msg = (e as Error).message;
      r.unreachable = true;
      unreachable.add(host);
      emit({ event: 'unreachable', play: pp.name, host, error: msg });
      return done('unreachable');
    }
    const facts = collectFacts([...exp.steps.map((s) => s.step), ...exp.handlers.values()]);
    let plan: HostPlan;
    try {
      const tf = Date.now();
      const raw = await gatherFacts(conn, facts);
      emit({ event: 'facts', play: pp.name, host, facts: facts.length, ms: Date.now() - tf });
      plan = planHost(hostInfo(inv, host), exp.steps, exp.handlers, raw);
    } catch (e) {
      return failHost(e, 'gathering facts');
    }
    let applied;
    if (opts.check) {
      applied = plan.steps.map((p) => ({ planned: p, output: '', notRun: false, error: undefined as string | undefined }));
    } else {
      try {
        applied = await applyPlan(conn, plan);
      } catch (e) {
        return failHost(e, 'applying changes');
      }
    }
    let hostFailed = false;
    for (const a of applied) {
      if (a.notRun) continue;
      const p = a.planned;
      const error = p.error ?? a.error;
      const status = error ? 'failed' : statusOf(p);
      if (status === 'failed') r.failed++;
      else if (status === 'skipped') r.skipped++;
      else {
        r.ok++;
        if (status === 'changed') r.changed++;
      }
      emit(hideSecretStep(p.secret, {
        event: 'step',
        play: pp.name,
        host,
        step: p.name,
        kind: p.kind,
        role: p.role,
        handler: p.handler,
        status,
        changes: p.changes.map((c) => c.summary),
        diff: opts.diff ? p.changes.flatMap((c) => (c.diff ? [c.diff] : [])) : undefined,
        warnings: p.warnings,
        skipped: p.skipped,
        error,
        output: error ? a.output.trim() || undefined : undefined,
      }));
      if (error) {
        hostFailed = true;
        break;
      }
    }
    if (hostFailed) failed.add(host);
    return done(hostFailed ? 'failed' : 'ok');

    function failHost(e: unknown, what: string): HostOutcome {
      if (e instanceof UnreachableError) {
        r.unreachable = true;
        unreachable.add(host);
        emit({ event: 'unreachable', play: pp.name, host, error: e.message });
        return done('unreachable');
      }
      r.failed++;
      failed.add(host);
      emit({ event: 'step', play: pp.name, host, step: what, kind: 'engine', handler: false, status: 'failed', changes: [], warnings: [], error: (e as Error).message });
      return done('failed');
    }
  }
}

type StepEvent = Extract<RunEvent, { event: 'step' }>;

/** A secret (no_log) step shows that it changed or failed, never what: as Ansible's "output has been hidden". */
function hideSecretStep(secret: boolean | undefined, e: StepEvent): StepEvent {
  if (!secret) return e;
  const hidden = 'hidden: secret step';
  return {
    ...e,
    changes: e.changes.map(() => `(change ${hidden})`),
    ...(e.diff ? { diff: e.diff.map(() => `(diff ${hidden})`) } : {}),
    ...(e.error ? { error: `step failed (error ${hidden})` } : {}),
    ...(e.output ? { output: `(output ${hidden})` } : {}),
  };
}
