/**
 * `lvsplay drill failover`: per VRRP instance, steady probes to its VIP while the MASTER hands the VIP over
 * through keepalived (handover: its tracked file lowers its priority, the planned case), or its keepalived is
 * stopped, killed, or its link put down (the fault cases); measure the takeover, the lost probes and the longest gap; restore; measure
 * the preempt-back (or its absence with nopreempt); watch for split brain. The numbers come from timeline.ts.
 */
import type { Inventory } from '../inventory/types.ts';
import type { Probe } from '../verify/probe-output.ts';
import type { Connection } from '../transport/types.ts';
import { checkpoint, InterruptedError, UsageError } from '../errors.ts';
import { selectHosts } from '../inventory/index.ts';
import { hostIpvsSysctls, hostNics, vrrpInstancesOf } from '../cluster/cluster.ts';
import { service } from '../steps/index.ts';
import { serviceTargets, isHttp, type ServiceTarget } from '../verify/targets.ts';
import { services } from '../verify/spec.ts';
import { hostInfo } from '../engine/expand.ts';
import { prepareSteps } from './host-steps.ts';
import { CONTROL_EXEC_TIMEOUT_MS } from './exec-timeouts.ts';
import { startProbeStream, type ProbeStream } from './probe-stream.ts';
import { startVipWatch, sleep, type VipWatch } from './vip-watch.ts';
import { handBack, handOver } from './handover.ts';
import { analyzeFailover, failoverVerdict, faultLabel, fmtMs, holderTimeline, holdersAt, type FailoverAnalysis, type HoldEvent } from './timeline.ts';
import { sh } from '../shell.ts';
import { hostPort } from '../facts/netaddr.ts';

/** With nopreempt the old master must NOT take the VIP back: watch this long (at most --wait) that it does not. */
const NOPREEMPT_WATCH_MS = 10_000;

export type FaultMode = 'handover' | 'stop' | 'kill' | 'linkdown';
export const FAULT_MODES: readonly FaultMode[] = ['handover', 'stop', 'kill', 'linkdown'];

export interface VrrpPair {
  instance: string;
  vrid: number;
  interface: string;
  vips: string[];
  nopreempt: boolean;
  /** members by priority, highest first */
  members: Array<{ host: string; priority: number }>;
}

/** Every VRRP instance of the inventory with its members (an instance is named the same on every member). */
export function vrrpPairs(inv: Inventory): VrrpPair[] {
  const byName = new Map<string, VrrpPair>();
  for (const h of inv.hosts.keys()) {
    for (const i of vrrpInstancesOf(inv, h)) {
      const key = `${i.instance.name}/${i.instance.virtual_router_id}`;
      let p = byName.get(key);
      if (!p) {
        p = { instance: i.instance.name, vrid: i.instance.virtual_router_id, interface: i.instance.interface, vips: i.vips.map((v) => v.address), nopreempt: i.instance.nopreempt, members: [] };
        byName.set(key, p);
      }
      if (!p.members.some((m) => m.host === h)) p.members.push({ host: h, priority: i.priority });
    }
  }
  for (const p of byName.values()) p.members.sort((a, b) => b.priority - a.priority);
  return [...byName.values()].filter((p) => p.members.length >= 2);
}

export interface FailoverOptions {
  mode: FaultMode;
  maxTakeoverMs: number;
  maxLost: number;
  /** longest overlap of two VIP holders tolerated (default 1000 ms) */
  maxSplitBrainMs?: number;
  /** new connection every … ms (default 30) */
  intervalMs: number;
  /** per-probe timeout (default 1000 ms) */
  probeTimeoutMs: number;
  /** probe host (default: first host of clients) */
  from?: string;
  /** only these instances */
  only?: string[];
  /** steady traffic before the fault and after each transition (default 2000 ms) */
  settleMs: number;
  /** how long to wait for a takeover / preempt-back (default 30 s) */
  waitMs: number;
  /** linkdown: how long the link stays down (default 8 s) */
  linkDownMs: number;
  /** a signal (SIGINT, SIGTERM, SIGHUP) aborts the drill: the fault is stopped and restored at once */
  signal?: AbortSignal;
  connect(host: string): Promise<Connection>;
  log?(line: string): void;
}

export interface FailoverResult {
  instance: string;
  vip: string;
  mode: FaultMode;
  master?: string;
  backups: string[];
  nopreempt: boolean;
  /** the service probed ('VIP:port'); absent when no TCP service uses the VIP */
  probed?: string;
  vantage?: string;
  analysis?: FailoverAnalysis;
  pass: boolean;
  reasons: string[];
  notes: string[];
  /** raw recording, for --json */
  holds?: HoldEvent[];
  /** every probe (orchestrator clock), for --json and the HTML report's timeline */
  probeLog?: Probe[];
  faultAt?: number;
  restoreAt?: number;
  endAt?: number;
}

async function waitUntil(pred: () => boolean, timeoutMs: number, signal: AbortSignal | undefined, pollMs = 25): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    checkpoint(signal);
    if (pred()) return true;
    await sleep(pollMs, signal);
  }
  return pred();
}

/** The probe host: --from (a host or the first host of a group), else the first host of `clients`, else none. */
/**
 * Why a VIP move may reset connections, said before the drill: a connection whose SYN went through the old master
 * and whose next packets reach the new one is unknown there (the sync daemon, if any, sends an entry only after the
 * connection's third packet, in batches); the new master takes the packet for its own VIP and answers RST. It
 * survives only when the new master schedules that mid-stream packet itself (`net.ipv4.vs.sloppy_tcp=1`) to the
 * same real server, which a hashing scheduler both directors share (sh, mh) guarantees. Pure.
 */
export function handoverResetNote(target: ServiceTarget, sysctls: Readonly<Record<string, number>> | undefined): string | undefined {
  const hashing = target.scheduler === 'sh' || target.scheduler === 'mh';
  const sloppy = (sysctls?.['net.ipv4.vs.sloppy_tcp'] ?? 0) === 1;
  if (hashing && sloppy) return undefined;
  const missing = [...(hashing ? [] : [`a hashing scheduler (mh with mh-port and mh-fallback, not ${target.scheduler})`]), ...(sloppy ? [] : ['net.ipv4.vs.sloppy_tcp=1 on the directors (lvs_ipvs_sysctls)'])];
  return `${target.name}: a connection in flight when the VIP moves can be reset by the new master (it has no IPVS entry for it); a handover that loses nothing needs ${missing.join(' and ')}`;
}

export function vantageOf(inv: Inventory, from: string | undefined): string | undefined {
  if (!from && !inv.groups.has('clients')) return undefined;
  const sel = selectHosts(inv, from ?? 'clients');
  if (from && sel.hosts.length === 0) throw new UsageError(`drill: --from ${from} matches no host of the inventory`);
  return sel.hosts[0];
}

/** Validate everything before touching a host: pairs, vantage, linkdown safety. */
export function planFailover(inv: Inventory, o: Pick<FailoverOptions, 'mode' | 'from' | 'only'>): { pairs: VrrpPair[]; vantage?: string } {
  let pairs = vrrpPairs(inv);
  if (o.only) {
    for (const n of o.only) if (!pairs.some((p) => p.instance === n)) throw new UsageError(`drill failover: no VRRP instance "${n}" with two or more members (instances: ${pairs.map((p) => p.instance).join(', ') || 'none'})`);
    pairs = pairs.filter((p) => o.only!.includes(p.instance));
  }
  if (pairs.length === 0) throw new UsageError('drill failover: the inventory has no VRRP instance with two or more members (lvs_vrrp)');
  if (o.mode === 'linkdown') {
    for (const p of pairs) {
      for (const m of p.members) {
        const ah = inv.hosts.get(m.host)?.vars.ansible_host;
        if (hostNics(inv, m.host).some((n) => n.name === p.interface && n.address === ah)) {
          throw new UsageError(`drill failover --mode linkdown: ${m.host} is managed over ${p.interface} (ansible_host ${String(ah)}), the link the drill would put down; use --mode stop or kill`);
        }
      }
    }
  }
  return { pairs, vantage: vantageOf(inv, o.from) };
}

/** Prepare the fault (facts, plan) and return the function that injects it: the fault's time is when that runs. */
async function prepareFault(inv: Inventory, host: string, conn: Connection, mode: FaultMode, pair: VrrpPair, linkDownMs: number): Promise<() => Promise<void>> {
  const iface = pair.interface;
  if (mode === 'handover') return () => handOver(conn, host, pair.instance, pair.nopreempt);
  if (mode === 'stop') {
    const p = await prepareSteps(conn, hostInfo(inv, host), [service('keepalived', { state: 'stopped' })]);
    if (p.changes.length === 0) throw new Error(`${host}: keepalived is not running (nothing to stop)`);
    return () => p.apply();
  }
  if (mode === 'kill') {
    return async () => {
      const r = await conn.exec(`pids=$(pidof keepalived) || { echo 'keepalived is not running' >&2; exit 1; }\nkill -KILL $pids`, { timeoutMs: CONTROL_EXEC_TIMEOUT_MS });
      if (r.code !== 0) throw new Error(`${host}: SIGKILL keepalived failed: ${r.stderr.trim()}`);
    };
  }
  // the link comes back by itself: the restore must not depend on the SSH session surviving
  const secs = (linkDownMs / 1000).toFixed(1);
  return async () => {
    const r = await conn.exec(sh`setsid sh -c ${sh`ip link set dev ${iface} down; sleep ${secs}; ip link set dev ${iface} up`} </dev/null >/dev/null 2>&1 &\necho started`, { timeoutMs: CONTROL_EXEC_TIMEOUT_MS });
    if (r.code !== 0) throw new Error(`${host}: link down ${iface} failed: ${r.stderr.trim()}`);
  };
}

/**
 * Prepare the restore (facts, plan); the returned function starts keepalived again, gives the priority back, or
 * (linkdown) nothing: the host brings the link up by itself; `now` (an interrupted drill) brings it up at once.
 */
async function prepareRestore(inv: Inventory, host: string, conn: Connection, mode: FaultMode, instance: string, iface = '', now = false): Promise<() => Promise<void>> {
  if (mode === 'linkdown' && now) return () => conn.exec(sh`ip link set dev ${iface} up`, { timeoutMs: CONTROL_EXEC_TIMEOUT_MS }).then(() => undefined);
  if (mode === 'linkdown') return async () => {};
  if (mode === 'handover') return () => handBack(conn, host, instance);
  const p = await prepareSteps(conn, hostInfo(inv, host), [service('keepalived', { state: 'started' })]);
  return () => p.apply();
}

/** What the restore after an interrupted or failed drill puts back, for the operator. */
function restoredLabel(mode: FaultMode, host: string, pair: VrrpPair): string {
  if (mode === 'handover') return `${host}'s priority for ${pair.instance} (handover file removed)`;
  if (mode === 'linkdown') return `${pair.interface} up on ${host}`;
  return `keepalived started on ${host}`;
}

async function restoreFault(inv: Inventory, host: string, conn: Connection, mode: FaultMode, pair: VrrpPair): Promise<void> {
  await (await prepareRestore(inv, host, conn, mode, pair.instance, pair.interface, true))();
}

async function drillPair(inv: Inventory, pair: VrrpPair, vantage: string | undefined, o: FailoverOptions): Promise<FailoverResult> {
  const log = o.log ?? (() => {});
  const vip = pair.vips[0]!;
  const base: FailoverResult = { instance: pair.instance, vip, mode: o.mode, backups: [], nopreempt: pair.nopreempt, pass: false, reasons: [], notes: [] };
  const target = serviceTargets(inv).find((t) => t.vip === vip && t.protocol === 'TCP');
  const maxSeconds = (o.settleMs * 4 + o.waitMs * 2 + o.linkDownMs) / 1000 + 120;
  const holds: HoldEvent[] = [];
  const watches: VipWatch[] = [];
  let stream: ProbeStream | undefined;
  let faulted: { host: string; conn: Connection } | undefined;
  let restored = false;
  let interrupted = false;
  let faultAt = 0;
  let restoreAt = 0;
  let endAt = 0;
  let master: string | undefined;
  try {
    for (const m of pair.members) {
      const conn = await o.connect(m.host);
      watches.push(await startVipWatch(m.host, conn, vip, maxSeconds, (e) => holds.push(e)));
    }
    const now = () => holdersAt(holderTimeline(holds), Date.now());
    const initial = now();
    if (initial.length !== 1) {
      base.reasons.push(initial.length === 0 ? `before the drill nobody holds ${vip}` : `before the drill ${initial.join(' and ')} all hold ${vip} (split brain)`);
      return base;
    }
    master = initial[0]!;
    const backups = pair.members.map((m) => m.host).filter((h) => h !== master);
    Object.assign(base, { master, backups });
    if (master !== pair.members[0]!.host && !pair.nopreempt) base.notes.push(`${master} held the VIP at the start, not the highest priority ${pair.members[0]!.host}`);

    if (target && vantage) {
      const http = isHttp(target, services());
      stream = await startProbeStream(vantage, await o.connect(vantage), { host: vip, port: target.port, http, path: '/', intervalMs: o.intervalMs, timeoutMs: o.probeTimeoutMs, maxSeconds });
      Object.assign(base, { probed: hostPort(vip, target.port), vantage });
      const note = handoverResetNote(target, hostIpvsSysctls(inv, master));
      if (note) base.notes.push(note);
    } else {
      base.notes.push(target ? 'no vantage host (clients group or --from): no probe traffic, VIP movement only' : `no TCP service uses ${vip}: no probe traffic, VIP movement only`);
    }
    const fault = o.mode === 'linkdown' ? `${pair.interface} down for ${fmtMs(o.linkDownMs)} on ${master}` : faultLabel(o.mode, master);
    log(`drill failover ${pair.instance}: ${master} holds ${vip}; ${fault}${stream ? `, probing ${base.probed} from ${vantage} every ${o.intervalMs} ms` : ''}`);
    await sleep(o.settleMs, o.signal);
    checkpoint(o.signal);

    const conn = await o.connect(master);
    const inject = await prepareFault(inv, master, conn, o.mode, pair, o.linkDownMs);
    faultAt = Date.now();
    faulted = { host: master, conn };
    await inject();
    const tookOver = await waitUntil(() => now().some((h) => backups.includes(h)), o.waitMs, o.signal);
    const firstBackup = holds.find((e) => e.t >= faultAt && e.holds && backups.includes(e.host));
    log(`  ${tookOver && firstBackup ? `${firstBackup.host} holds ${vip} ${firstBackup.t - faultAt} ms after the fault` : `no takeover within ${o.waitMs} ms`}`);
    await sleep(o.settleMs, o.signal);
    if (o.mode === 'linkdown') await sleep(Math.max(0, faultAt + o.linkDownMs - Date.now()), o.signal);
    checkpoint(o.signal);

    const restore = await prepareRestore(inv, master, conn, o.mode, pair.instance);
    restoreAt = o.mode === 'linkdown' ? faultAt + o.linkDownMs : Date.now();
    await restore();
    restored = true;
    if (pair.nopreempt) await sleep(Math.min(o.waitMs, NOPREEMPT_WATCH_MS), o.signal);
    else {
      const back = await waitUntil(() => {
        const h = now();
        return h.length === 1 && h[0] === master;
      }, o.waitMs, o.signal);
      const backAt = holds.find((e) => e.t >= restoreAt && e.holds && e.host === master)?.t;
      log(`  ${back && backAt !== undefined ? `${master} holds ${vip} again ${Math.max(0, backAt - restoreAt)} ms after the restore` : `${master} did not take ${vip} back within ${o.waitMs} ms`}`);
    }
    await sleep(o.settleMs, o.signal);
    checkpoint(o.signal);
    endAt = Date.now();
  } catch (e) {
    if (!(e instanceof InterruptedError)) throw e;
    base.reasons.push(`${e.message}: the drill stopped; what it changed was restored (below) unless RESTORE FAILED says otherwise`);
    interrupted = true;
  } finally {
    if (faulted && !restored) {
      const what = restoredLabel(o.mode, faulted.host, pair);
      await restoreFault(inv, faulted.host, faulted.conn, o.mode, pair).then(
        () => log(`  restored: ${what}`),
        (e: Error) => base.reasons.push(`RESTORE FAILED on ${faulted!.host}: ${e.message} (${o.mode === 'handover' ? `remove /etc/keepalived/handover/${pair.instance} there by hand` : o.mode === 'linkdown' ? `ip link set dev ${pair.interface} up there` : 'start keepalived there by hand'})`),
      );
    }
    await stream?.stop();
    await Promise.all(watches.map((w) => w.stop()));
  }
  if (interrupted) return { ...base, pass: false, holds, ...(stream ? { probeLog: stream.probes() } : {}), faultAt, restoreAt, endAt: Date.now() };
  const probes = stream?.probes() ?? [];
  const analysis = analyzeFailover({ master: master!, backups: base.backups, holds, probes, faultAt, restoreAt, endAt, nopreempt: pair.nopreempt });
  const reasons = [...base.reasons, ...failoverVerdict(analysis, { maxTakeoverMs: o.maxTakeoverMs, maxLost: o.maxLost, ...(o.maxSplitBrainMs !== undefined ? { maxSplitBrainMs: o.maxSplitBrainMs } : {}) }, { nopreempt: pair.nopreempt, master: master!, probed: !!stream })];
  return { ...base, analysis, reasons, pass: reasons.length === 0, holds, ...(stream ? { probeLog: probes } : {}), faultAt, restoreAt, endAt };
}

export async function failoverDrill(inv: Inventory, o: FailoverOptions): Promise<FailoverResult[]> {
  const { pairs, vantage } = planFailover(inv, o);
  const out: FailoverResult[] = [];
  for (const p of pairs) {
    try {
      checkpoint(o.signal);
      out.push(await drillPair(inv, p, vantage, o));
      if (o.signal?.aborted) break;
    } catch (e) {
      out.push({ instance: p.instance, vip: p.vips[0]!, mode: o.mode, backups: [], nopreempt: p.nopreempt, pass: false, reasons: [(e as Error).message], notes: [] });
      if (e instanceof InterruptedError) break;
    }
  }
  return out;
}
