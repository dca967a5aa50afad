/**
 * The playbook-level checks the roles bring (PlaybookCheck): each distinct check runs once per playbook, and each
 * problem is reported once, in the first play that expanded the role reporting it. A role that no play expanded
 * (its hosts are all outside --limit) reports nothing, as a role's own validate is not called then either.
 */
import type { Inventory } from '../inventory/types.ts';
import type { PlaybookCheck, PlaybookCheckContext, Playbook, Problem, Role } from './types.ts';

export interface PlayProblem {
  /** index of the play the problem is reported in */
  play: number;
  role: Role;
  problem: Problem;
}

export function runPlaybookChecks(
  playbook: Playbook,
  inventory: Inventory,
  plays: PlaybookCheckContext['plays'],
  onError: (check: PlaybookCheck, e: unknown) => void,
): PlayProblem[] {
  const checks = new Set(plays.flatMap((p) => p.roles.flatMap((r) => r.checks ?? [])));
  const out: PlayProblem[] = [];
  for (const check of checks) {
    try {
      for (const { role, problem } of check.run({ playbook, inventory, plays })) {
        const play = plays.findIndex((p) => p.roles.includes(role));
        if (play >= 0) out.push({ play, role, problem });
      }
    } catch (e) {
      onError(check, e);
    }
  }
  return out;
}
