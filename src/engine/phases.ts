/**
 * Where a run's time went, for the JSON recap (`phases`) and the benchmark: start-up (process start → engine start:
 * Node, module loading, inventory, playbook), then the moments the *last* host finished connecting, gathering
 * facts and applying, then the verification. Consecutive differences, so the phases add up to the run's time
 * (exact for one play; with several plays a later play's facts follow an earlier play's apply and the
 * differences are clamped at 0).
 */
/** performance.now() when the last host finished each phase */
export interface Milestones {
  connected: number;
  facts: number;
  applied: number;
}

export interface PhaseTimes {
  startupMs: number;
  connectMs: number;
  factsMs: number;
  applyMs: number;
  verifyMs: number;
}

/** All arguments are performance.now() values (ms since the process started). */
export function phaseTimes(engineStart: number, m: Milestones, verifyDone: number): PhaseTimes {
  const d = (a: number, b: number) => Math.max(0, Math.round(b - a));
  const connected = Math.max(engineStart, m.connected);
  const facts = Math.max(connected, m.facts);
  const applied = Math.max(facts, m.applied);
  return {
    startupMs: Math.round(engineStart),
    connectMs: d(engineStart, connected),
    factsMs: d(connected, facts),
    applyMs: d(facts, applied),
    verifyMs: d(applied, verifyDone),
  };
}
