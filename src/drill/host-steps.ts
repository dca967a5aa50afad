/**
 * Apply a few steps of the step library on one host outside a play (a drill stopping or starting keepalived, a web
 * server): gather their facts (one exec), plan purely, apply (one exec) — the engine's own functions.
 */
import type { Connection } from '../transport/types.ts';
import type { HostInfo, Step } from '../engine/types.ts';
import type { Inventory } from '../inventory/types.ts';
import { gatherFacts, applyPlan } from '../engine/apply.ts';
import { collectFacts, planHost } from '../engine/plan.ts';

export function hostInfo(inv: Inventory, host: string): HostInfo {
  const h = inv.hosts.get(host);
  return { name: host, vars: h?.vars ?? {}, groups: h?.groups ?? [] };
}

/** Returns the change summaries; throws with the host's error when a step fails to plan or apply. */
export async function applySteps(conn: Connection, host: HostInfo, steps: Step[]): Promise<string[]> {
  const raw = await gatherFacts(conn, collectFacts(steps));
  const plan = planHost(host, steps.map((step) => ({ step, tags: [] })), new Map(), raw);
  const failed = plan.steps.find((p) => p.error);
  if (failed) throw new Error(`${host.name}: ${failed.name}: ${failed.error}`);
  const applied = await applyPlan(conn, plan);
  const err = applied.find((a) => a.error);
  if (err) throw new Error(`${host.name}: ${err.planned.name}: ${err.error}`);
  return plan.steps.flatMap((p) => p.changes.map((c) => c.summary));
}
