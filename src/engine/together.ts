/**
 * Changes that must reach a whole group of hosts or none (a VRRP instance changed on one member of a pair alone is
 * the classic split-brain cause): from the plans of a play's hosts, find the groups a change would reach only in
 * part, because a member is outside the run (--limit, the play's hosts), unreachable or failed (its state is unknown),
 * or the members that change do so in different serial batches. A member whose own plan leaves the group unchanged
 * already has its new definition. Pure.
 */
import type { HostPlan } from './plan.ts';

export interface PartialGroup {
  name: string;
  members: string[];
  /** the members whose plan changes the group */
  changing: string[];
  /** member → why the change would not reach it */
  missing: Record<string, string>;
}

export interface TogetherCheck {
  /** the plays' hosts in their batches */
  batches: string[][];
  /** every planned host of the play */
  plans: Map<string, HostPlan>;
  /** hosts of the play that cannot take changes, with the reason (unreachable, failed earlier) */
  unavailable: Map<string, string>;
}

export function partialGroups(c: TogetherCheck): PartialGroup[] {
  const batchOf = new Map<string, number>();
  c.batches.forEach((b, i) => b.forEach((h) => batchOf.set(h, i)));
  const groups = new Map<string, { members: string[]; changing: Set<string> }>();
  for (const [host, plan] of c.plans) {
    for (const step of plan.steps) {
      if (step.changes.length === 0) continue;
      for (const g of step.together ?? []) {
        const e = groups.get(g.name) ?? { members: [...g.hosts].sort(), changing: new Set<string>() };
        e.changing.add(host);
        groups.set(g.name, e);
      }
    }
  }
  const out: PartialGroup[] = [];
  for (const [name, g] of groups) {
    const changing = [...g.changing].sort();
    const batches = new Set(changing.map((h) => batchOf.get(h)));
    const missing: Record<string, string> = {};
    for (const m of g.members) {
      const why = c.unavailable.get(m);
      if (why) missing[m] = why;
      else if (!batchOf.has(m)) missing[m] = 'not in this run (--limit or the play\'s hosts)';
      // a member in the run whose plan leaves the group as it is already has the new definition; members that
      // change must change in one batch, or the first batch runs with a definition the others do not have
      else if (batches.size > 1 && g.changing.has(m)) missing[m] = `changes in serial batch ${batchOf.get(m)! + 1} of ${c.batches.length}, apart from the other members`;
    }
    if (Object.keys(missing).length > 0) out.push({ name, members: g.members, changing, missing });
  }
  return out;
}

export function describePartial(p: PartialGroup): string {
  const why = Object.entries(p.missing).map(([h, r]) => `${h}: ${r}`).join('; ');
  return `${p.name} (members ${p.members.join(', ')}) would change on ${p.changing.join(', ')} but not reach every member (${why})`;
}
