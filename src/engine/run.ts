/**
 * Run a prepared playbook: plays in order, rolling batches (serial), hosts of a batch concurrently (p-queue,
 * --forks). Per host and play: one script gathers facts, planning is pure, one script applies (none with --check),
 * both in one remote shell (Connection.shell).
 */
import PQueue from 'p-queue';
import type { Connection, Shell } from '../transport/types.ts';
import { shellOf, UnreachableError } from '../transport/types.ts';
import type { HostRecap, Reporter, RunEvent } from '../output/events.ts';
import { ApplyLostError, applyPlan, gatherFacts, type AppliedStep } from './apply.ts';
import { collectFacts, planHost, statusOf, type HostPlan, type RawFact } from './plan.ts';
import { describePartial, partialGroups } from './together.ts';
import { ValidationError, ValidationErrors } from '../errors.ts';
import { hostInfo } from './expand.ts';
import type { PreparedPlay } from './prepare.ts';
import { exceedsMaxFail } from './serial.ts';
import type { Milestones } from './phases.ts';
import type { Inventory } from '../inventory/types.ts';

export interface RunOptions {
  check: boolean;
  diff: boolean;
  forks: number;
  /** open (or reuse) the connection of a host */
  connect(host: string): Promise<Connection>;
  reporter: Reporter;
  /** apply changes whose `together` group the run reaches only in part (--allow-partial-vrrp) */
  allowPartialGroups?: boolean;
  /**
   * Aborted by a signal (SIGINT, SIGTERM, SIGHUP): no host starts after it, a host that gathered its facts does not
   * apply, and a host whose apply script runs lets it finish (its changes and the handlers they notify: stopping
   * between a config change and its reload would leave a state a re-run does not see as a change).
   */
  signal?: AbortSignal;
}

export interface RunResult {
  recap: Record<string, HostRecap>;
  /** hosts that failed (in any play) */
  failed: Set<string>;
  unreachable: Set<string>;
  aborted: boolean;
  /** the hosts the interrupt stopped (signal) */
  interrupted: Set<string>;
  /** when (performance.now(), ms) the last host finished connecting, gathering facts, applying: see phaseTimes */
  milestones: Milestones;
}

type HostOutcome = 'ok' | 'failed' | 'unreachable' | 'interrupted';

export async function runPlays(plays: PreparedPlay[], inv: Inventory, opts: RunOptions): Promise<RunResult> {
  const recap: Record<string, HostRecap> = {};
  const failed = new Set<string>();
  const unreachable = new Set<string>();
  const interrupted = new Set<string>();
  const started = new Set<PreparedPlay>();
  const conns = new Map<string, Connection>();
  const emit = (e: RunEvent) => opts.reporter.event(e);
  const recapOf = (h: string) => (recap[h] ??= { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: false, roundTrips: 0 });
  let aborted = false;
  const begun = performance.now();
  const milestones: Milestones = { connected: begun, facts: begun, applied: begun };
  const reached = (k: keyof Milestones) => (milestones[k] = Math.max(milestones[k], performance.now()));
  /** facts gathered by the together check, per play and host, valid until the host is applied to */
  const early = new Map<PreparedPlay, Map<string, Map<string, RawFact>>>();
  const touched = new Set<string>();
  if (!opts.allowPartialGroups) await checkTogether();

  for (const pp of plays) {
    const t0 = Date.now();
    if (opts.signal?.aborted) break;
    started.add(pp);
    const active = (hs: string[]) => hs.filter((h) => !failed.has(h) && !unreachable.has(h) && !interrupted.has(h));
    const batches = pp.batches.map(active).filter((b) => b.length > 0);
    emit({ event: 'play_start', play: pp.name, hosts: active(pp.hosts), batches });
    for (const h of active(pp.hosts)) recapOf(h);
    for (const batch of batches) {
      if (opts.signal?.aborted) {
        for (const h of batch) stopHost(h, 'not started');
        continue;
      }
      const queue = new PQueue({ concurrency: Math.max(1, opts.forks) });
      const outcomes = await Promise.all(batch.map((h) => queue.add(() => runHost(pp, h))));
      const bad = outcomes.filter((o) => o === 'failed' || o === 'unreachable').length;
      if (exceedsMaxFail(bad, batch.length, pp.play.maxFailPercentage)) {
        emit({ event: 'play_abort', play: pp.name, reason: `${bad} of ${batch.length} hosts failed, more than maxFailPercentage ${pp.play.maxFailPercentage}%` });
        aborted = true;
        break;
      }
    }
    emit({ event: 'play_end', play: pp.name, ms: Date.now() - t0 });
    if (aborted) break;
  }
  // hosts of the plays the interrupt kept from starting
  if (opts.signal?.aborted) {
    for (const pp of plays.filter((p) => !started.has(p))) for (const h of pp.hosts) if (!failed.has(h) && !unreachable.has(h)) stopHost(h, recap[h] ? 'stopped between plays' : 'not started');
  }
  for (const [h, c] of conns) recapOf(h).roundTrips = c.roundTrips;
  return { recap, failed, unreachable, aborted, interrupted, milestones };

  function stopHost(h: string, why: NonNullable<HostRecap['interrupted']>): void {
    interrupted.add(h);
    recapOf(h).interrupted ??= why;
  }

  /**
   * Before any host is touched: plan every host of the plays whose steps name `together` groups, and refuse the
   * run (ValidationErrors, exit 4) when a group's change would reach only some of its members.
   */
  async function checkTogether(): Promise<void> {
    const problems: ValidationError[] = [];
    for (const pp of plays) {
      if (![...pp.expansions.values()].some((x) => x.steps.some((s) => s.step.together))) continue;
      const plans = new Map<string, HostPlan>();
      const unavailable = new Map<string, string>();
      const raws = new Map<string, Map<string, RawFact>>();
      const queue = new PQueue({ concurrency: Math.max(1, opts.forks) });
      await Promise.all(
        pp.hosts.map((host) =>
          queue.add(async () => {
            const exp = pp.expansions.get(host);
            if (!exp) return;
            try {
              const conn = conns.get(host) ?? (await opts.connect(host));
              conns.set(host, conn);
              const raw = await gatherFacts(conn, collectFacts([...exp.steps.map((s) => s.step), ...exp.handlers.values()]));
              raws.set(host, raw);
              plans.set(host, planHost(hostInfo(inv, host), exp.steps, exp.handlers, raw));
            } catch (e) {
              unavailable.set(host, e instanceof UnreachableError ? `unreachable: ${e.message}` : `its facts failed: ${(e as Error).message}`);
            }
          }),
        ),
      );
      early.set(pp, raws);
      for (const p of partialGroups({ batches: pp.batches, plans, unavailable })) {
        problems.push(
          new ValidationError(
            `${pp.name}: ${describePartial(p)}`,
            {},
            'run it on every member in one batch (widen --limit, give the play a serial that keeps the members together, bring the member back), or pass --allow-partial-vrrp to apply it anyway',
          ),
        );
      }
    }
    if (problems.length > 0) throw new ValidationErrors(problems);
  }

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
    if (opts.signal?.aborted) {
      stopHost(host, 'not started');
      return done('interrupted');
    }
    let conn: Connection;
    try {
      conn = conns.get(host) ?? (await opts.connect(host));
      conns.set(host, conn);
      reached('connected');
    } catch (e) {
      const msg = (e as Error).message;
      r.unreachable = true;
      unreachable.add(host);
      emit({ event: 'unreachable', play: pp.name, host, error: msg });
      return done('unreachable');
    }
    const facts = collectFacts([...exp.steps.map((s) => s.step), ...exp.handlers.values()]);
    // facts and changes in one remote shell: one session and one process start on the host instead of two
    const shell: Shell = shellOf(conn);
    try {
      let plan: HostPlan;
      try {
        const tf = Date.now();
        const cached = touched.has(host) ? undefined : early.get(pp)?.get(host);
        const raw = cached ?? (await gatherFacts(shell, facts, { more: !opts.check }));
        emit({ event: 'facts', play: pp.name, host, facts: facts.length, ms: Date.now() - tf });
        reached('facts');
        plan = planHost(hostInfo(inv, host), exp.steps, exp.handlers, raw);
      } catch (e) {
        return failHost(e, 'gathering facts');
      }
      if (opts.signal?.aborted) {
        stopHost(host, 'stopped before its changes');
        return done('interrupted');
      }
      let applied: AppliedStep[];
      if (opts.check) {
        applied = plan.steps.map((p) => ({ planned: p, output: '', notRun: false }));
      } else {
        try {
          touched.add(host);
          applied = await applyPlan(shell, plan);
        } catch (e) {
          // what the host is known to have applied before its connection died is reported as such
          if (e instanceof ApplyLostError) report(e.results);
          return failHost(e, 'applying changes');
        }
      }
      reached('applied');
      const hostFailed = report(applied);
      if (hostFailed) failed.add(host);
      return done(hostFailed ? 'failed' : 'ok');
    } finally {
      shell.release();
    }

    /** Emit a step event per step that ran; true when one failed. */
    function report(applied: AppliedStep[]): boolean {
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
        if (error) return true;
      }
      return false;
    }

    function failHost(e: unknown, what: string): HostOutcome {
      if (e instanceof UnreachableError) {
        r.unreachable = true;
        unreachable.add(host);
        const lost = e instanceof ApplyLostError ? { applied: e.applied, inFlight: e.inFlight } : {};
        emit({ event: 'unreachable', play: pp.name, host, error: e.message, ...lost });
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
