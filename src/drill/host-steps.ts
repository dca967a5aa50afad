/**
 * Apply a few steps of the step library on one host outside a play (a drill stopping or starting keepalived):
 * gather their facts (one exec) and plan purely first, then apply (one exec) — the engine's own functions. The
 * split lets a drill time the fault from the moment the change is applied, not from the fact gathering.
 */
import type { Connection } from '../transport/types.ts';
import type { HostInfo, Step } from '../engine/types.ts';
import { gatherFacts, applyPlan } from '../engine/apply.ts';
import { collectFacts, planHost } from '../engine/plan.ts';

export interface PreparedSteps {
  /** change summaries the apply will make (empty: nothing to do) */
  changes: string[];
  apply(): Promise<void>;
}

/** Gather and plan; throws with the host's error when a step cannot be planned. */
export async function prepareSteps(conn: Connection, host: HostInfo, steps: Step[]): Promise<PreparedSteps> {
  const raw = await gatherFacts(conn, collectFacts(steps));
  const plan = planHost(host, steps.map((step) => ({ step, tags: [] })), new Map(), raw);
  const failed = plan.steps.find((p) => p.error);
  if (failed) throw new Error(`${host.name}: ${failed.name}: ${failed.error}`);
  return {
    changes: plan.steps.flatMap((p) => p.changes.map((c) => c.summary)),
    async apply() {
      const applied = await applyPlan(conn, plan);
      const err = applied.find((a) => a.error);
      if (err) throw new Error(`${host.name}: ${err.planned.name}: ${err.error}`);
    },
  };
}
