/**
 * Steady probe traffic for a drill: ONE long-running node process on the vantage host opening a new connection
 * every `intervalMs`, streaming a timestamped line per probe (onStdout). Stopped with SIGTERM (it finishes the
 * probes in flight and prints END). Probe times are converted to the orchestrator's clock (estimateOffset).
 */
import type { Connection, ExecResult } from '../transport/types.ts';
import { probeScript, type ProbeConfig } from '../verify/probe-program.ts';
import { ProbeStreamParser, type Probe } from '../verify/probe-output.ts';
import { estimateOffset } from './timeline.ts';
import { sleep } from './vip-watch.ts';
import { CONTROL_EXEC_TIMEOUT_MS } from './exec-timeouts.ts';
import { sh } from '../shell.ts';

/** The stream's first line comes once node (or busybox) started on the vantage host: seconds on a loaded lab. */
const STREAM_START_MS = 60_000;
/** After its kill, the stream's exec ends within one probe timeout; this much more before going on without it. */
const STREAM_EXIT_WAIT_MS = 10_000;
/** When the stream could not start: a moment for its exec to report its exit status, to name the cause */
const EXIT_STATUS_GRACE_MS = 10;

export interface ProbeStream {
  /** probes so far, times on the orchestrator clock */
  probes(): Probe[];
  /** SIGTERM the program and wait for its last lines */
  stop(): Promise<void>;
}

export interface StreamTarget {
  host: string;
  port: number;
  http: boolean;
  path: string;
  intervalMs: number;
  timeoutMs: number;
  maxSeconds: number;
}

export async function startProbeStream(vantage: string, conn: Connection, t: StreamTarget): Promise<ProbeStream> {
  const samples: Array<{ remote: number; local: number }> = [];
  const parser = new ProbeStreamParser((p) => samples.push({ remote: p.t + p.ms, local: Date.now() }));
  let started!: () => void;
  const startedP = new Promise<void>((r) => (started = r));
  const cfg: ProbeConfig = {
    host: t.host,
    port: t.port,
    http: t.http,
    path: t.path,
    count: 0,
    intervalMs: t.intervalMs,
    timeoutMs: t.timeoutMs,
    // enough in flight to keep the pace while connections time out during a failover
    concurrency: Math.max(4, Math.ceil(t.timeoutMs / Math.max(1, t.intervalMs)) + 2),
    maxMs: t.maxSeconds * 1000,
  };
  const done = conn
    .exec(probeScript(cfg), {
      timeoutMs: (t.maxSeconds + 60) * 1000,
      onStdout: (c) => {
        parser.push(c);
        if (parser.run.pid !== undefined || parser.run.unavailable) started();
      },
    })
    .then(
      (r): ExecResult | Error => r,
      (e: Error) => e,
    );
  const first = await Promise.race([startedP.then(() => 'ok' as const), done.then(() => 'ended' as const), sleep(STREAM_START_MS).then(() => 'slow' as const)]);
  if (first !== 'ok' || parser.run.unavailable) {
    const r = await Promise.race([done, sleep(EXIT_STATUS_GRACE_MS)]);
    const why = parser.run.unavailable ?? (r instanceof Error ? r.message : r ? `exit ${r.code}: ${r.stderr.trim().slice(0, 200)}` : `no answer in ${STREAM_START_MS / 1000} s`);
    throw new Error(`cannot start the probe stream on ${vantage}: ${why}`);
  }
  const pid = parser.run.pid!;
  const convert = (): Probe[] => {
    const off = estimateOffset(samples);
    return parser.run.probes.map((p) => ({ ...p, t: p.t + off }));
  };
  return {
    probes: convert,
    async stop() {
      await conn.exec(sh`kill -TERM ${pid} 2>/dev/null; true`, { timeoutMs: CONTROL_EXEC_TIMEOUT_MS }).catch(() => undefined);
      await Promise.race([done, sleep(t.timeoutMs + STREAM_EXIT_WAIT_MS)]);
      parser.end();
    },
  };
}
