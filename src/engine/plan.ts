/** Planning: gathered fact output in, ordered changes out. Pure: no I/O, so --check is free and testable. */
import type { Change, Fact, HostInfo, PlanContext, Step, TogetherGroup } from './types.ts';
import type { ExpandedStep } from './expand.ts';
import { PredictedState } from './predicted-state.ts';

export interface RawFact {
  output: string;
  code: number;
}

export type StepStatus = 'ok' | 'changed' | 'failed' | 'skipped';

export interface PlannedStep {
  name: string;
  kind: string;
  role?: string;
  handler: boolean;
  changes: Change[];
  warnings: string[];
  skipped?: string;
  /** planning failed (a fact could not be parsed, the desired state is impossible on this host) */
  error?: string;
  notify: string[];
  together?: TogetherGroup[];
  /** a secret (no_log) step: its text is hidden in the output (see hideSecretStep) */
  secret?: boolean;
}

/**
 * Every fact the steps (and the play's handlers) declare, deduplicated by key. Facts sharing a key share one gathered
 * value, so a key must name one command (factKey derives it from all the arguments): two commands under one key are
 * a bug in a fact, reported instead of silently planning one step from the other's output.
 */
export function collectFacts(steps: readonly Step[]): Fact[] {
  const byKey = new Map<string, Fact>();
  for (const s of steps) {
    for (const f of s.facts) {
      const seen = byKey.get(f.key);
      if (!seen) byKey.set(f.key, f);
      else if (seen.command !== f.command) throw new Error(`facts with the same key ${f.key} run different commands (bug in the fact: derive its key with factKey from every argument)`);
    }
  }
  return [...byKey.values()];
}

function makeContext(host: HostInfo, step: Step, raw: Map<string, RawFact>, predict: PredictedState): PlanContext {
  const declared = new Set(step.facts.map((f) => f.key));
  const parsed = new Map<string, unknown>();
  return {
    host,
    predict,
    fact<T>(f: Fact<T>): T {
      if (!declared.has(f.key)) throw new Error(`step "${step.name}" reads fact ${f.key} that it did not declare (bug in the step)`);
      if (parsed.has(f.key)) return parsed.get(f.key) as T;
      const r = raw.get(f.key);
      if (!r) throw new Error(`fact ${f.key} was not gathered (the gather exec ended early)`);
      let v: T;
      try {
        v = f.parse(r.output, r.code);
      } catch (e) {
        throw new Error(`cannot parse fact ${f.key}: ${(e as Error).message}`);
      }
      parsed.set(f.key, v);
      return v;
    },
  };
}

function planOne(host: HostInfo, step: Step, raw: Map<string, RawFact>, predict: PredictedState, meta: { role?: string; handler: boolean }): PlannedStep {
  const base = { name: step.name, kind: step.kind, role: meta.role, handler: meta.handler, notify: [...(step.notify ?? [])], ...(step.secret ? { secret: true } : {}) };
  try {
    const p = step.plan(makeContext(host, step, raw, predict));
    return { ...base, changes: p.changes, warnings: p.warnings ?? [], skipped: p.skipped, ...(p.together?.length ? { together: p.together } : {}) };
  } catch (e) {
    return { ...base, changes: [], warnings: [], error: (e as Error).message };
  }
}

export interface HostPlan {
  steps: PlannedStep[];
  /** a planning error stops the host: steps after it are not planned */
  failedAt?: number;
}

/**
 * Plan a host's steps in order, then the handlers they notify (once each, in notification order, at the end).
 * A step that fails to plan stops the planning; the changes before it are still applied (as Ansible would have
 * run the tasks before a failing one).
 */
export function planHost(host: HostInfo, steps: readonly ExpandedStep[], handlers: Map<string, Step>, raw: Map<string, RawFact>): HostPlan {
  const predict = new PredictedState();
  const planned: PlannedStep[] = [];
  const notified: string[] = [];
  for (const { step, role } of steps) {
    const p = planOne(host, step, raw, predict, { role, handler: false });
    planned.push(p);
    if (p.error) return { steps: planned, failedAt: planned.length - 1 };
    if (p.changes.length > 0) for (const n of p.notify) if (!notified.includes(n)) notified.push(n);
  }
  for (const name of notified) {
    const h = handlers.get(name);
    if (!h) {
      planned.push({ name: `handler ${name}`, kind: 'handler', handler: true, changes: [], warnings: [], notify: [], error: `no handler named "${name}" in this play (notified by a step)` });
      return { steps: planned, failedAt: planned.length - 1 };
    }
    const p = planOne(host, h, raw, predict, { handler: true });
    p.name = `handler: ${name}`;
    planned.push(p);
    if (p.error) return { steps: planned, failedAt: planned.length - 1 };
  }
  return { steps: planned };
}

export function statusOf(p: PlannedStep): StepStatus {
  if (p.error) return 'failed';
  if (p.skipped) return 'skipped';
  return p.changes.length > 0 ? 'changed' : 'ok';
}
