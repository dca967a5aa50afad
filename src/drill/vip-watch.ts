/**
 * Who holds a VIP, as it changes: one long-running exec per director printing its IPv4 addresses, then
 * `ip monitor address` events (no polling). Times are the orchestrator's arrival times (one clock for every
 * director). Stopped with `kill -TERM PID` in another exec (the script prints its PID first).
 */
import type { Connection, ExecResult } from '../transport/types.ts';
import type { HoldEvent } from './timeline.ts';
import { CONTROL_EXEC_TIMEOUT_MS } from './exec-timeouts.ts';
import { sh } from '../shell.ts';

/** The watcher prints the director's addresses within a second; no answer by then means it cannot watch. */
const WATCHER_START_MS = 30_000;
/** After its kill, how long to wait for the watcher's exec to end before going on without it. */
const WATCHER_EXIT_WAIT_MS = 10_000;
/** When the watcher could not start: a moment for its exec to report its exit status, to name the cause */
const EXIT_STATUS_GRACE_MS = 10;

/** Seconds the watcher lives at most, whatever happens to lvsplay. */
function watchScript(maxSeconds: number): string {
  return [
    `echo "PID $$"`,
    `echo @@initial`,
    `ip -o -4 addr show`,
    `echo @@monitor`,
    sh`exec timeout ${Math.ceil(maxSeconds)} ip -o -4 monitor address`,
  ].join('\n');
}

export interface AddrEvent {
  deleted: boolean;
  ifname: string;
  address: string;
}

/** One line of `ip -o -4 addr show` or `ip -o -4 monitor address` ("[ADDR]" and "Deleted" prefixes allowed). */
export function parseAddrLine(line: string): AddrEvent | undefined {
  const m = /^(?:\[[A-Z]+\]\s*)?(Deleted\s+)?\d+:\s+(\S+?)\s+inet\s+([\d.]+)\/\d+/.exec(line.trim());
  if (!m) return undefined;
  return { deleted: !!m[1], ifname: m[2]!, address: m[3]! };
}

/** Incremental parser of a watcher's output into hold events for `vip` (lo does not count: DR real servers). */
export class VipWatchParser {
  pid?: number;
  readonly events: HoldEvent[] = [];
  private rest = '';
  private phase: 'start' | 'initial' | 'monitor' = 'start';
  private initialHolds = false;
  constructor(
    readonly host: string,
    readonly vip: string,
    private readonly onEvent?: (e: HoldEvent) => void,
  ) {}
  /** true once the initial state is known (the monitor runs) */
  get ready(): boolean {
    return this.phase === 'monitor';
  }
  push(chunk: string, now = Date.now()): void {
    const lines = (this.rest + chunk).split('\n');
    this.rest = lines.pop() ?? '';
    for (const l of lines) this.line(l, now);
  }
  private emit(e: HoldEvent): void {
    this.events.push(e);
    this.onEvent?.(e);
  }
  private line(l: string, now: number): void {
    const pid = /^PID (\d+)$/.exec(l.trim());
    if (pid) {
      this.pid = Number(pid[1]);
      return;
    }
    if (l.trim() === '@@initial') {
      this.phase = 'initial';
      return;
    }
    if (l.trim() === '@@monitor') {
      this.phase = 'monitor';
      this.emit({ t: now, host: this.host, holds: this.initialHolds });
      return;
    }
    const e = parseAddrLine(l);
    if (!e || e.address !== this.vip || e.ifname === 'lo') return;
    if (this.phase === 'initial') this.initialHolds = true;
    else if (this.phase === 'monitor') this.emit({ t: now, host: this.host, holds: !e.deleted });
  }
}

export interface VipWatch {
  parser: VipWatchParser;
  done: Promise<ExecResult | Error>;
  stop(): Promise<void>;
}

/** Start watching `vip` on `host`; resolves once the initial state is known. */
export async function startVipWatch(host: string, conn: Connection, vip: string, maxSeconds: number, onEvent?: (e: HoldEvent) => void): Promise<VipWatch> {
  const parser = new VipWatchParser(host, vip, onEvent);
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const done = conn
    .exec(watchScript(maxSeconds), {
      timeoutMs: (maxSeconds + 30) * 1000,
      onStdout: (c) => {
        parser.push(c);
        if (parser.ready) ready();
      },
    })
    .then(
      (r) => r,
      (e: Error) => e,
    );
  const first = await Promise.race([readyP.then(() => 'ready' as const), done.then(() => 'ended' as const), sleep(WATCHER_START_MS).then(() => 'slow' as const)]);
  if (first !== 'ready') {
    const r = await Promise.race([done, sleep(EXIT_STATUS_GRACE_MS)]);
    const why = r instanceof Error ? r.message : r ? `exit ${r.code}: ${r.stderr.trim().slice(0, 200)}` : `no answer in ${WATCHER_START_MS / 1000} s`;
    throw new Error(`cannot watch ${vip} on ${host}: ${why}`);
  }
  return {
    parser,
    done,
    async stop() {
      if (parser.pid) await conn.exec(sh`kill -TERM ${parser.pid} 2>/dev/null; true`, { timeoutMs: CONTROL_EXEC_TIMEOUT_MS }).catch(() => undefined);
      await Promise.race([done, sleep(WATCHER_EXIT_WAIT_MS)]);
    },
  };
}

/** Wait `ms`, or less when `signal` aborts (the caller's checkpoint then throws). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((r) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      r();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
