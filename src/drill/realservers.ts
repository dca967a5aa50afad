/**
 * `lvsplay drill realservers`: a rolling maintenance rehearsal. Per batch of real servers (`--serial 1` or `50%`):
 * drain (weight 0 in IPVS on every director that has it), wait for its active connections to reach 0 (or a
 * timeout), stop its web service, check that the health checker removed it from the active director's table,
 * restart it, check it is back in the table with its weight and answers probes again — while steady probes to the
 * VIP must not fail. Everything is restored in a finally, also when the drill fails.
 */
import type { Inventory } from '../inventory/types.ts';
import type { Connection } from '../transport/types.ts';
import { checkpoint, InterruptedError, UsageError } from '../errors.ts';
import { sh } from '../shell.ts';
import { serviceTargets, isHttp, type BackendTarget, type ServiceTarget } from '../verify/targets.ts';
import { services } from '../verify/spec.ts';
import { snapshotDirector, vipInterface, type DirectorSnapshot } from '../verify/director.ts';
import { serviceKey } from '../verify/ipvsadm.ts';
import { matchBackend } from '../verify/record.ts';
import type { Probe } from '../verify/probe-output.ts';
import { startProbeStream, type ProbeStream } from './probe-stream.ts';
import { sleep } from './vip-watch.ts';
import { vantageOf } from './failover.ts';
import { type CyclePhase, type CycleTimes, failuresByPhase, fmtMs, probeWindow, serialBatches, type ProbeWindowStats } from './timeline.ts';
import { hostPort } from '../facts/netaddr.ts';

/** An operator's stop/start command or the pidfile stop (which waits for the daemon to exit) on a real server. */
const RS_COMMAND_TIMEOUT_MS = 60_000;
/** Reading one /proc file on a director: instant; the bound catches a hung connection. */
const READ_TIMEOUT_MS = 30_000;
/** Probing before the first batch and after each one, so every probe window has answers on both sides. */
const BASELINE_MS = 1000;

export interface RealserversOptions {
  serial: string;
  /** only these services */
  only?: string[];
  from?: string;
  maxLost: number;
  intervalMs: number;
  probeTimeoutMs: number;
  /** wait for active connections to drain at most (default 30 s) */
  drainTimeoutMs: number;
  /** wait for the health checker to remove / re-add a real server at most (default 60 s) */
  checkTimeoutMs: number;
  /** how the web service is stopped/started: a pidfile template ({port}), or explicit commands */
  pidfile: string;
  stopCmd?: string;
  startCmd?: string;
  /** a signal aborts the drill: the real servers out are started again and their weights restored at once */
  signal?: AbortSignal;
  connect(host: string): Promise<Connection>;
  log?(line: string): void;
}

export interface RealserverRow {
  service: string;
  backend: string;
  batch: number;
  drainedMs?: number;
  /** active connections left when the drain wait ended */
  activeLeft?: number;
  stoppedBy?: string;
  removedMs?: number;
  rejoinedMs?: number;
  answeredMs?: number;
  /** when drain, stop, removal, restart and rejoin happened (ms since the epoch, lvsplay's clock) */
  at?: CycleTimes;
  probes?: ProbeWindowStats;
  /** the probes of this row's batch window (orchestrator clock), for --json and the HTML report's timeline */
  probeLog?: Probe[];
  /** failed probes by the phase of the cycle they started in */
  failedIn?: Partial<Record<CyclePhase, number>>;
  pass: boolean;
  reasons: string[];
  notes: string[];
}

const METHOD: Record<string, string> = { NAT: '-m', DR: '-g', TUN: '-i' };

/** Shell: set the weight of a real server on a director when the director has it (else say so). */
export function setWeightScript(t: ServiceTarget, b: BackendTarget, weight: number): string {
  const flag = t.protocol === 'UDP' ? '-u' : '-t';
  const vs = hostPort(t.vip, t.port);
  const rs = hostPort(b.address, b.port);
  return [
    `if ipvsadm -Ln ${flag} ${vs} 2>/dev/null | grep -q ' ${rs.replace(/\./g, '\\.')} '; then`,
    `  ipvsadm -e ${flag} ${vs} -r ${rs} ${METHOD[t.kind] ?? '-g'} -w ${weight} && echo set`,
    `else echo absent; fi`,
  ].join('\n');
}

/** Shell: stop a pidfile daemon, remembering its command line so that it can be started the same way. */
export function stopByPidfileScript(pidfile: string, saved: string): string {
  return [
    sh`pf=${pidfile}`,
    `[ -f "$pf" ] || { echo "no pidfile $pf" >&2; exit 3; }`,
    `pid=$(head -n 1 "$pf" | tr -dc 0-9)`,
    `[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || { echo "pid in $pf is not running" >&2; exit 3; }`,
    sh`tr '\\0' '\\n' < /proc/"$pid"/cmdline > ${saved}`,
    `kill -TERM "$pid"`,
    `i=0; while kill -0 "$pid" 2>/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && { echo "pid $pid did not exit" >&2; exit 1; }; sleep 0.1; done`,
    `echo stopped`,
  ].join('\n');
}

export function startFromSavedScript(pidfile: string, saved: string): string {
  return [
    sh`[ -f ${saved} ] || { echo ${`no saved command line ${saved}`} >&2; exit 1; }`,
    `set --`,
    sh`while IFS= read -r a; do set -- "$@" "$a"; done < ${saved}`,
    `setsid nohup "$@" </dev/null >/dev/null 2>&1 &`,
    sh`echo $! > ${pidfile}`,
    sh`sleep 0.5; kill -0 "$(cat ${pidfile})" 2>/dev/null || { echo "restarted process exited at once" >&2; exit 1; }`,
    sh`rm -f ${saved}`,
    `echo started`,
  ].join('\n');
}

export function planRealservers(inv: Inventory, o: Pick<RealserversOptions, 'only' | 'serial' | 'from'>): { targets: ServiceTarget[]; vantage: string } {
  const all = serviceTargets(inv).filter((t) => t.kind !== 'node-svc' && t.protocol === 'TCP');
  // a fwmark service's real server runs one server per port: the drill stops and restarts one (by its port's pidfile)
  const fwmark = all.filter((t) => t.fwmark !== undefined);
  for (const t of fwmark) {
    if (o.only?.includes(t.name)) throw new UsageError(`drill realservers: ${t.name} is a fwmark service (ports ${t.ports!.join(', ')}): the drill cycles one server per real server and port, which a fwmark service does not have; drill its real servers with lvsplay drain / undrain`);
  }
  // a virtual_server_group's real servers serve every member at once: cycling them per member would drain one
  // member's IPVS service while the checker removes the server from all of them
  for (const t of all.filter((x) => x.group !== undefined)) {
    if (o.only?.includes(t.name)) throw new UsageError(`drill realservers: ${t.name} is a virtual_server_group (its members share one pool): the drill cycles a real server of one IPVS service; drill its real servers with lvsplay drain / undrain`);
  }
  let targets = all.filter((t) => t.fwmark === undefined && t.group === undefined);
  if (o.only) {
    for (const n of o.only) if (!targets.some((t) => t.name === n)) throw new UsageError(`drill realservers: no TCP LVS service "${n}" (services: ${[...new Set(targets.map((t) => t.name))].join(', ') || 'none'})`);
    targets = targets.filter((t) => o.only!.includes(t.name));
  }
  if (targets.length === 0) throw new UsageError('drill realservers: the inventory has no TCP LVS service (lvs_services)');
  for (const t of targets) {
    let batches: BackendTarget[][];
    try {
      batches = serialBatches(t.backends, o.serial);
    } catch (e) {
      throw new UsageError(`drill realservers: --serial: ${(e as Error).message}`);
    }
    if (batches.some((b) => b.length >= t.backends.length)) {
      throw new UsageError(`drill realservers: --serial ${o.serial} would take all ${t.backends.length} real servers of ${t.name} out at once; use a smaller batch`);
    }
    if (t.directors.length === 0) throw new UsageError(`drill realservers: no director found for ${t.name}`);
  }
  const vantage = vantageOf(inv, o.from);
  if (!vantage) throw new UsageError('drill realservers: no vantage host: add a clients group or pass --from HOST');
  return { targets, vantage };
}

async function snapshots(hosts: string[], o: RealserversOptions): Promise<Map<string, DirectorSnapshot>> {
  const out = new Map<string, DirectorSnapshot>();
  await Promise.all(hosts.map(async (h) => out.set(h, await snapshotDirector(h, await o.connect(h)))));
  return out;
}

function activeOf(t: ServiceTarget, snaps: Map<string, DirectorSnapshot>): DirectorSnapshot | undefined {
  return t.directors.map((h) => snaps.get(h)).find((s) => s && vipInterface(s.addrs, t.vip)) ?? snaps.get(t.directors[0]!);
}

async function poll<T>(fn: () => Promise<T | undefined>, timeoutMs: number, signal: AbortSignal | undefined, everyMs = 1000): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    checkpoint(signal);
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() >= end) return undefined;
    await sleep(everyMs, signal);
  }
}

async function runOn(conn: Connection, script: string, what: string): Promise<string> {
  const r = await conn.exec(script, { timeoutMs: RS_COMMAND_TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`${conn.spec.name}: ${what} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
  return r.stdout.trim();
}

/** One real server through drain → stop → removed → start → rejoined → answering. */
async function cycle(t: ServiceTarget, b: BackendTarget, batch: number, stream: ProbeStream | undefined, http: boolean, o: RealserversOptions): Promise<RealserverRow> {
  const log = o.log ?? (() => {});
  const row: RealserverRow = { service: t.name, backend: b.label, batch, pass: false, reasons: [], notes: [] };
  const key = serviceKey(t);
  const rsKey = hostPort(b.address, b.port);
  const rsConn = await o.connect(b.host);
  const pidfile = o.pidfile.replace(/\{port\}/g, String(b.port));
  const saved = `/run/lvsplay-drill-${b.port}.cmdline`;
  let drained = false;
  let stopped: 'cmd' | 'pidfile' | 'block' | undefined;
  const blockRule = `INPUT -p tcp --dport ${b.port} -m comment --comment lvsplay-drill -j REJECT --reject-with tcp-reset`;
  const tableRow = async () => activeOf(t, await snapshots(t.directors, o))?.list?.get(key)?.reals.get(rsKey);
  try {
    // drain
    const at: CycleTimes = { drain: Date.now() };
    row.at = at;
    drained = true; // from the first director on: the finally restores the weight wherever it was changed
    for (const d of t.directors) await runOn(await o.connect(d), setWeightScript(t, b, 0), `weight 0 for ${rsKey}`);
    log(`  ${b.label}: weight 0 on ${t.directors.join(', ')}; waiting for its active connections to end`);
    const left = await poll(async () => {
      const r = await tableRow();
      return !r || r.active === 0 ? 0 : undefined;
    }, o.drainTimeoutMs, o.signal);
    if (left === 0) row.drainedMs = Date.now() - at.drain;
    else row.activeLeft = (await tableRow())?.active;
    log(`  ${b.label}: drained (weight 0)${row.drainedMs !== undefined ? `, no active connection after ${fmtMs(row.drainedMs)}` : `, ${row.activeLeft} active connections left after ${fmtMs(o.drainTimeoutMs)}`}`);

    // stop the web service
    checkpoint(o.signal);
    const stopAt = (at.stop = Date.now());
    if (o.stopCmd) {
      await runOn(rsConn, o.stopCmd.replace(/\{port\}/g, String(b.port)), 'stop command');
      stopped = 'cmd';
      row.stoppedBy = 'command';
    } else {
      const r = await rsConn.exec(stopByPidfileScript(pidfile, saved), { timeoutMs: RS_COMMAND_TIMEOUT_MS });
      if (r.code === 0) {
        stopped = 'pidfile';
        row.stoppedBy = `pidfile ${pidfile}`;
      } else if (r.code === 3) {
        await runOn(rsConn, `iptables -I ${blockRule}`, 'block port');
        stopped = 'block';
        row.stoppedBy = `port ${b.port} blocked (iptables REJECT; ${r.stderr.trim()})`;
      } else throw new Error(`${b.host}: stop failed: ${r.stderr.trim()}`);
    }
    log(`  ${b.label}: service stopped (${row.stoppedBy}); waiting for the health checker to remove it`);
    const removed = await poll(async () => ((await tableRow()) ? undefined : true), o.checkTimeoutMs, o.signal);
    if (removed) {
      at.removed = Date.now();
      row.removedMs = at.removed - stopAt;
    } else row.reasons.push(`the health checker did not remove ${b.label} from the table within ${fmtMs(o.checkTimeoutMs)}`);
    log(`  ${b.label}: ${removed ? `removed by the health checker after ${fmtMs(row.removedMs!)}` : 'NOT removed by the health checker'}`);

    // start it again
    checkpoint(o.signal);
    const startAt = (at.start = Date.now());
    await startBack();
    log(`  ${b.label}: web service started again; waiting for the health checker to put it back`);
    const back = await poll(async () => {
      const r = await tableRow();
      return r ? r : undefined;
    }, o.checkTimeoutMs, o.signal);
    if (back) {
      if (back.weight !== b.weight) for (const d of t.directors) await runOn(await o.connect(d), setWeightScript(t, b, b.weight), `weight ${b.weight} for ${rsKey}`);
      drained = false;
      at.back = Date.now();
      row.rejoinedMs = at.back - startAt;
    } else row.reasons.push(`${b.label} did not come back into the table within ${fmtMs(o.checkTimeoutMs)} after the restart`);

    // answering again
    if (back && stream && http) {
      const since = Date.now();
      const answered = await poll(async () => (stream.probes().some((p) => p.ok && p.t >= since - 1000 && matchBackend(p.info, t.backends) === b.label) ? true : undefined), o.checkTimeoutMs, o.signal, 200);
      if (answered) row.answeredMs = Date.now() - startAt;
      else row.reasons.push(`${b.label} is back in the table but answered no probe within ${fmtMs(o.checkTimeoutMs)}`);
    }
    log(`  ${b.label}: restarted; ${back ? `back in the table after ${fmtMs(row.rejoinedMs!)}` : 'NOT back'}${row.answeredMs !== undefined ? `, answering after ${fmtMs(row.answeredMs)}` : ''}`);
  } catch (e) {
    row.reasons.push(e instanceof InterruptedError ? `${e.message}: the drill stopped; ${b.label} was restored (below) unless RESTORE FAILED says otherwise` : `drill step failed: ${(e as Error).message}`);
    log(`  ${b.label}: ${row.reasons[row.reasons.length - 1]}`);
  } finally {
    if (stopped) {
      const how = stopped === 'block' ? `port ${b.port} unblocked` : 'web service started again';
      await startBack().then(
        () => log(`  restored: ${b.label}: ${how}`),
        (e: Error) => row.reasons.push(`RESTORE FAILED: ${e.message}`),
      );
    }
    if (drained) {
      const done: string[] = [];
      for (const d of t.directors) {
        await o.connect(d).then((c) => runOn(c, setWeightScript(t, b, b.weight), 'restore weight')).then(() => done.push(d), (e: Error) => row.reasons.push(`RESTORE WEIGHT FAILED on ${d}: ${e.message}`));
      }
      if (done.length) log(`  restored: ${b.label}: weight ${b.weight} on ${done.join(', ')}`);
    }
  }
  return row;

  async function startBack(): Promise<void> {
    const how = stopped;
    stopped = undefined;
    if (how === 'cmd') await runOn(rsConn, o.startCmd!.replace(/\{port\}/g, String(b.port)), 'start command');
    else if (how === 'pidfile') await runOn(rsConn, startFromSavedScript(pidfile, saved), 'restart');
    else if (how === 'block') await runOn(rsConn, `while iptables -D ${blockRule} 2>/dev/null; do :; done; true`, 'unblock port');
  }
}

/**
 * What the directors' IPVS settings mean for this drill. With net.ipv4.vs.expire_nodest_conn=0 (the kernel's
 * default) a new connection whose client port matches an old connection entry goes to that entry's real server
 * whatever its weight: refused once it is stopped, silently dropped once the health checker removed it.
 */
async function directorNotes(t: ServiceTarget, o: RealserversOptions): Promise<string[]> {
  const notes: string[] = [];
  for (const d of t.directors) {
    const r = await (await o.connect(d)).exec('cat /proc/sys/net/ipv4/vs/expire_nodest_conn 2>/dev/null', { timeoutMs: READ_TIMEOUT_MS });
    const v = r.stdout.trim();
    if (v !== '1') {
      notes.push(
        `${d}: net.ipv4.vs.expire_nodest_conn is ${v || 'unreadable'}: a new connection that reuses the client port of an old IPVS connection entry ` +
          `is sent to that entry's real server even at weight 0, and fails once it is stopped (the director roles set it to 1)`,
      );
    }
  }
  return notes;
}

export async function realserversDrill(inv: Inventory, o: RealserversOptions): Promise<RealserverRow[]> {
  if (!!o.stopCmd !== !!o.startCmd) throw new UsageError('drill realservers: give both --stop-cmd and --start-cmd, or neither');
  const { targets, vantage } = planRealservers(inv, o);
  const log = o.log ?? (() => {});
  const rows: RealserverRow[] = [];
  for (const t of targets) {
    if (o.signal?.aborted) break;
    const http = isHttp(t, services());
    const stream = await startProbeStream(vantage, await o.connect(vantage), {
      host: t.vip, port: t.port, http, path: '/', intervalMs: o.intervalMs, timeoutMs: o.probeTimeoutMs,
      maxSeconds: t.backends.length * (o.drainTimeoutMs + 3 * o.checkTimeoutMs + 60_000) / 1000 + 120,
    });
    log(`drill realservers ${t.name} (${hostPort(t.vip, t.port)}): probing from ${vantage} every ${o.intervalMs} ms`);
    const notes = await directorNotes(t, o);
    for (const n of notes) log(`  note: ${n}`);
    const windows: Array<{ rows: RealserverRow[]; from: number; to: number }> = [];
    try {
      await sleep(BASELINE_MS, o.signal);
      const batches = serialBatches(t.backends, o.serial);
      for (let i = 0; i < batches.length; i++) {
        const from = Date.now();
        const batchRows = await Promise.all(
          batches[i]!.map((b) =>
            cycle(t, b, i + 1, stream, http, o).catch((e: Error): RealserverRow => ({ service: t.name, backend: b.label, batch: i + 1, pass: false, reasons: [`drill step failed: ${e.message}`], notes: [] })),
          ),
        );
        await sleep(BASELINE_MS, o.signal);
        windows.push({ rows: batchRows, from, to: Date.now() });
        rows.push(...batchRows);
        // do not take the next one down after a step failed or something could not be restored
        if (o.signal?.aborted || batchRows.some((r) => r.reasons.some((x) => x.startsWith('RESTORE') || x.startsWith('drill step failed')))) break;
      }
    } finally {
      await stream.stop();
    }
    const probes = stream.probes();
    for (const w of windows) {
      const stats = probeWindow(probes, w.from, w.to);
      for (const r of w.rows) {
        r.probes = stats;
        r.probeLog = probes.filter((p) => p.t >= w.from && p.t < w.to);
        r.notes.push(...notes);
        if (r.at) r.failedIn = failuresByPhase(probes, r.at, w.from, w.to);
        const phases = Object.entries(r.failedIn ?? {}).map(([k, n]) => `${k} ${n}`).join(', ');
        if (stats.failed > o.maxLost) {
          r.reasons.push(`${stats.failed} probes failed while this batch was out (max ${o.maxLost}): ${Object.entries(stats.errors).map(([k, n]) => `${n}× ${k}`).join(', ')}${phases ? `; by phase: ${phases}` : ''}`);
        }
        r.pass = r.reasons.length === 0;
      }
    }
  }
  return rows;
}
