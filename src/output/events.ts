/** What a run reports, as it happens. Reporters (plain lines, listr2, JSON Lines) consume these. */
import type { StepStatus } from '../engine/plan.ts';
import type { PhaseTimes } from '../engine/phases.ts';
import { maskDeep } from '../secret-values.ts';
import type { VerifyRecord } from '../verify/types.ts';

export type RunEvent =
  | { event: 'run_start'; playbook: string; inventory: string; check: boolean; hosts: string[] }
  | { event: 'play_start'; play: string; hosts: string[]; batches: string[][] }
  | { event: 'facts'; play: string; host: string; facts: number; ms: number }
  | {
      event: 'step';
      play: string;
      host: string;
      step: string;
      kind: string;
      role?: string;
      handler: boolean;
      status: StepStatus;
      changes: string[];
      diff?: string[];
      warnings: string[];
      skipped?: string;
      error?: string;
      output?: string;
    }
  | { event: 'host_done'; play: string; host: string; status: 'ok' | 'failed' | 'unreachable' | 'skipped' | 'interrupted'; roundTrips: number; ms: number }
  | {
      event: 'unreachable';
      play: string;
      host: string;
      error: string;
      /** the connection died during the apply script: the changes it had applied, and the one in flight */
      applied?: string[];
      inFlight?: string;
    }
  | { event: 'play_abort'; play: string; reason: string }
  | { event: 'play_end'; play: string; ms: number }
  | { event: 'verify'; result: VerifyRecord }
  | { event: 'recap'; hosts: Record<string, HostRecap>; verify: VerifyRecord[]; elapsedMs: number; check: boolean; /** where the time went (src/engine/phases.ts) */ phases?: PhaseTimes; /** the signal that interrupted the run */ interrupted?: string };

export interface HostRecap {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: boolean;
  roundTrips: number;
  /** the run was interrupted (a signal) before this host started, or before it applied its changes */
  interrupted?: 'not started' | 'stopped before its changes' | 'stopped between plays';
}

export interface Reporter {
  event(e: RunEvent): void;
  /** flush and stop (listr2 renderer, files) */
  close(): Promise<void>;
}

/** Fan one event stream out to several reporters, every secret of the run masked first (secret-values.ts). */
export class Reporters implements Reporter {
  constructor(private readonly list: Reporter[]) {}
  event(e: RunEvent): void {
    const masked = maskDeep(e);
    for (const r of this.list) r.event(masked);
  }
  async close(): Promise<void> {
    for (const r of this.list) await r.close();
  }
}
