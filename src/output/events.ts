/** What a run reports, as it happens. Reporters (plain lines, listr2, JSON Lines) consume these. */
import type { StepStatus } from '../engine/plan.ts';
import type { PhaseTimes } from '../engine/phases.ts';
import { maskDeep } from '../secret-values.ts';

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
  | { event: 'host_done'; play: string; host: string; status: 'ok' | 'failed' | 'unreachable' | 'skipped'; roundTrips: number; ms: number }
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
  | { event: 'recap'; hosts: Record<string, HostRecap>; verify: VerifyRecord[]; elapsedMs: number; check: boolean; /** where the time went (src/engine/phases.ts) */ phases?: PhaseTimes };

export interface HostRecap {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: boolean;
  roundTrips: number;
}

export interface VerifyRecord {
  service: string;
  expected: Record<string, number>;
  observed: Record<string, number>;
  /** false only for FAIL (a DEGRADED service passes: exit 0) */
  pass: boolean;
  detail?: string;
  /** the fields below are filled by src/verify (docs/verification.md) */
  /** PASS, FAIL, or DEGRADED: a declared real server is down and the operator accepted it (--allow-down, allowDown, maxDown) */
  verdict?: 'PASS' | 'FAIL' | 'DEGRADED';
  /** declared real servers not serving on the active director, with the cause; allowed: accepted as degraded */
  down?: Array<{ backend: string; reason: string; allowed: boolean }>;
  /** 'VIP:port' */
  vip?: string;
  scheduler?: string;
  /** the statistical rule applied: shares (chi-square), sticky, reach-all */
  rule?: 'shares' | 'sticky' | 'reach-all';
  vantage?: string;
  /** the director holding the VIP (null: none; several: split brain, see reasons) */
  master?: string | null;
  probes?: number;
  failed?: number;
  /** chi-square p-value (rule shares) */
  p?: number;
  /** director: new connections the service's directors counted to it (summed over every director) */
  rows?: Array<{ backend: string; expected: number; observed: number; count: number; verdict: string; director?: number }>;
  /** new connections per director during the probe window (the cross-check sums them) */
  directorConns?: Record<string, number>;
  /** VIP holder changes seen during the probe window */
  vipMoves?: Array<{ from: string | null; to: string | null; between: [string, string]; became?: { host: string; instance: string; at: string } }>;
  reasons?: string[];
  notes?: string[];
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
