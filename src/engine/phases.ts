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

/** Where start-up went (performance.now() marks of the command, see startupSplit) */
export interface StartupTimes {
  /** process start → the command's code loaded and entered (Node, lvsplay's modules) */
  modulesMs: number;
  /** the inventory read, parsed and resolved (and the vault, -e) */
  inventoryMs: number;
  /** the playbook imported (from the compiled playbook cache or through tsx) */
  playbookMs: number;
  /** plays, connection specs and the verification planned: the engine starts */
  planMs: number;
}

export interface PhaseTimes {
  startupMs: number;
  /** start-up's parts; they add up to startupMs (within rounding) */
  startup?: StartupTimes;
  connectMs: number;
  factsMs: number;
  applyMs: number;
  verifyMs: number;
}

/** performance.now() when the command was entered, its inventory was loaded and its playbook imported */
export interface StartupMarks {
  command: number;
  inventory: number;
  playbook: number;
}

/** Consecutive differences of the marks, each clamped at 0; the last ends at the engine's start. */
export function startupSplit(m: StartupMarks, engineStart: number): StartupTimes {
  const d = (a: number, b: number) => Math.max(0, Math.round(b - a));
  return { modulesMs: Math.round(m.command), inventoryMs: d(m.command, m.inventory), playbookMs: d(m.inventory, m.playbook), planMs: d(m.playbook, engineStart) };
}

/** All arguments are performance.now() values (ms since the process started). */
export function phaseTimes(engineStart: number, m: Milestones, verifyDone: number, marks?: StartupMarks): PhaseTimes {
  const d = (a: number, b: number) => Math.max(0, Math.round(b - a));
  const connected = Math.max(engineStart, m.connected);
  const facts = Math.max(connected, m.facts);
  const applied = Math.max(facts, m.applied);
  return {
    startupMs: Math.round(engineStart),
    ...(marks ? { startup: startupSplit(marks, engineStart) } : {}),
    connectMs: d(engineStart, connected),
    factsMs: d(connected, facts),
    applyMs: d(facts, applied),
    verifyMs: d(applied, verifyDone),
  };
}
