/**
 * The verification's I/O: snapshot the directors (one exec each), probe each service from its vantage host (one
 * exec, one process per service), snapshot the directors again until their counters caught up (IPVS counters lag
 * up to ~2 s), then build the records. Execs per director: 2 (3–5 when the counters lag); per vantage host: one per
 * service. keepalived's data dump (SIGUSR1, ~2 s under TCG) rides along in a snapshot only when it is needed: while
 * settling after a reload, and in the snapshot after the probes when a declared server is missing, at weight 0 or
 * did not answer (the dump names the failing check).
 */
import type { Connection } from '../transport/types.ts';
import type { VerifyRecord } from './types.ts';
import { SNAPSHOT_TIMEOUT_MS, snapshotDirector, type DirectorSnapshot } from './director.ts';
import { connEntriesScript, parseConnEntries, type ConnEntry, type ConnQuery } from './conn-entries.ts';
import { probeScript, type ProbeConfig } from './probe-program.ts';
import { parseProbeOutput, type ProbeRun } from './probe-output.ts';
import { buildRecord, targetAddress, vipMoves } from './record.ts';
import { connDeltas, restartedCounters, serviceKey } from './ipvsadm.ts';
import { vipInterface } from './director.ts';
import type { VerifyJob, VerifyPlan } from './targets.ts';
import { hostPort } from '../facts/netaddr.ts';

/** Per probe, on top of its own timeout: starting the connection and printing the line (the probe run's bound). */
const PROBE_OVERHEAD_MS = 50;
/** Once per probe run: starting node (or busybox) on the vantage host. */
const PROBE_START_MS = 5000;
/** The exec may outlive the probe program's own bound by this much (transfer of the output, a slow vantage). */
const PROBE_EXEC_GRACE_MS = 30_000;
/** Between director snapshots while waiting for the cluster to settle (a VRRP takeover moves within a second). */
const SETTLE_POLL_MS = 500;
/**
 * IPVS per-real-server counters lag: the kernel sums them from the per-CPU counters in its rate estimator (a
 * kthread since 6.2), every 2 s, later on a slow or busy host (docs/verification.md). Wait for several periods at
 * most; current counters cost nothing (a CI-like run on the VM lab saw 87 counted for 100 answers with 4 s).
 */
const COUNTER_WAIT_MS = 10_000;
/** Between re-reads of the counters while they catch up. */
const COUNTER_POLL_MS = 1000;

export interface VerifyRunOptions {
  connect(host: string): Promise<Connection>;
  /** each record as soon as it is known */
  onRecord?(r: VerifyRecord): void;
  log?(line: string): void;
  /** why something is not verified (no clients group, UDP service …): the caller shows these to the operator */
  onNote?(note: string): void;
  /** how long to wait at most for the directors' counters to catch up (default 4000 ms) */
  settleMs?: number;
  /**
   * keepalived was reloaded or (re)started just before (by the run): first wait, at most `maxMs`, until the
   * cluster settled (clusterUnsettled below); `why` says what happened, for the report.
   */
  settle?: { maxMs: number; why: string; changedHosts?: readonly string[] };
}

function probeConfigFor(job: VerifyJob): ProbeConfig {
  return {
    host: job.target.vip,
    port: job.target.port,
    ...(job.target.ports ? { ports: job.target.ports } : {}),
    http: job.http,
    ...(job.udp ? { udp: true, ...(job.target.udpPayload ? { payload: job.target.udpPayload.hex, dnsId: job.target.udpPayload.dns } : {}) } : {}),
    path: job.check.path,
    count: job.check.probes,
    intervalMs: 0,
    timeoutMs: job.check.timeoutMs,
    concurrency: 1,
    maxMs: job.check.probes * (job.check.timeoutMs + PROBE_OVERHEAD_MS) + PROBE_START_MS,
  };
}

async function snapshots(hosts: string[], o: VerifyRunOptions, unreachable: Map<string, string>, keepalived = false): Promise<Map<string, DirectorSnapshot>> {
  const out = new Map<string, DirectorSnapshot>();
  await Promise.all(
    hosts.map(async (h) => {
      if (unreachable.has(h)) return;
      try {
        out.set(h, await snapshotDirector(h, await o.connect(h), keepalived));
      } catch (e) {
        unreachable.set(h, (e as Error).message);
      }
    }),
  );
  return out;
}

/** Connection entries read at different times, per director. */
function mergeEntries(parts: ReadonlyArray<ReadonlyMap<string, ConnEntry[]>>): Map<string, ConnEntry[]> {
  const out = new Map<string, ConnEntry[]>();
  for (const m of parts) for (const [h, list] of m) out.set(h, [...(out.get(h) ?? []), ...list]);
  return out;
}

/** The connection entries of `jobs`' answered probes on each of their directors (conn-entries.ts). */
async function connEntriesOf(jobs: readonly VerifyJob[], runs: ReadonlyMap<VerifyJob, ProbeRun>, o: VerifyRunOptions, unreachable: Map<string, string>, log: (l: string) => void): Promise<Map<string, ConnEntry[]>> {
  const queries = new Map<string, ConnQuery[]>();
  for (const job of jobs) {
    const t = job.target;
    const clientPorts = (runs.get(job)?.probes ?? []).filter((p) => p.ok && p.port !== undefined).map((p) => p.port!);
    if (!clientPorts.length) continue;
    for (const h of t.directors) if (!unreachable.has(h)) queries.set(h, [...(queries.get(h) ?? []), { protocol: t.protocol, vip: t.vip, ports: t.ports ?? [t.port], clientPorts }]);
  }
  const out = new Map<string, ConnEntry[]>();
  await Promise.all(
    [...queries].map(async ([h, qs]) => {
      try {
        const r = await (await o.connect(h)).exec(connEntriesScript(qs), { timeoutMs: SNAPSHOT_TIMEOUT_MS });
        out.set(h, parseConnEntries(r.stdout));
      } catch (e) {
        log(`verify: ${h}: the IPVS connection entries could not be read: ${(e as Error).message}`);
      }
    }),
  );
  return out;
}

/**
 * Whether the records need keepalived's checker state to name a cause: on a director holding a job's VIP, the
 * service is missing or a declared real server is missing or at weight 0; or a probe of the job failed.
 */
export function needsKeepalivedState(jobs: readonly VerifyJob[], runs: ReadonlyMap<VerifyJob, ProbeRun>, before: ReadonlyMap<string, DirectorSnapshot>): boolean {
  return jobs.some((job) => {
    const t = job.target;
    if (runs.get(job)?.probes.some((p) => !p.ok)) return true;
    return t.directors.some((h) => {
      const s = before.get(h);
      if (!s?.list || !vipInterface(s.addrs, t.vip)) return false;
      const row = s.list.get(serviceKey(t));
      return !row || t.backends.some((b) => b.weight > 0 && !((row.reals.get(hostPort(b.address, b.port))?.weight ?? 0) > 0));
    });
  });
}

/** The directors of every job together counted at least its successful probes (or there is nothing to wait for). */
function countersCaughtUp(jobs: VerifyJob[], runs: Map<VerifyJob, ProbeRun>, before: Map<string, DirectorSnapshot>, after: Map<string, DirectorSnapshot>): boolean {
  for (const job of jobs) {
    const t = job.target;
    const key = serviceKey(t);
    let sum = 0;
    let read = false;
    let restarted = false;
    for (const h of t.directors) {
      const a = after.get(h)?.stats?.get(key);
      const b = before.get(h)?.stats;
      if (!a || !b) continue;
      read = true;
      // a re-created entry never catches up: nothing to wait for (the record says so)
      if (restartedCounters(b.get(key), a).length) restarted = true;
      sum += [...connDeltas(b.get(key), a).values()].reduce((x, y) => x + y, 0);
    }
    const ok = runs.get(job)?.probes.filter((p) => p.ok).length ?? 0;
    if (read && !restarted && sum < ok) return false;
  }
  return true;
}

/**
 * Why the cluster has not settled yet (empty: settled), from one snapshot per director with keepalived's dump:
 * every VRRP member MASTER or BACKUP with one MASTER per instance, each VIP on one director, each director's IPVS
 * table equal to its keepalived configuration for the servers its checkers hold up, every checker run once.
 */
export function clusterUnsettled(jobs: readonly VerifyJob[], snaps: ReadonlyMap<string, DirectorSnapshot>, changedHosts: readonly string[] = []): string[] {
  const out: string[] = [];
  // a real server the run changed (its web service restarted, its addresses set) must pass its first check again
  const changed = new Set(jobs.flatMap((j) => j.target.backends.filter((b) => changedHosts.includes(b.host)).map((b) => `${serviceKey(j.target)} ${hostPort(b.address, b.port)}`)));
  const masters = new Map<string, string[]>();
  for (const [h, s] of snaps) {
    const k = s.keepalived;
    if (!k) continue;
    if (!k.running) {
      out.push(`${h}: keepalived is not running`);
      continue;
    }
    for (const i of k.vrrp) {
      if (i.state !== 'MASTER' && i.state !== 'BACKUP') out.push(`${h}: VRRP ${i.name} is ${i.state || 'in no state'}`);
      if (i.state === 'MASTER') masters.set(i.name, [...(masters.get(i.name) ?? []), h]);
      else if (!masters.has(i.name)) masters.set(i.name, []);
    }
    for (const v of k.virtuals) {
      const row = s.list?.get(v.key);
      if (s.list && !row) {
        out.push(`${h}: ${v.key} is not in the IPVS table yet`);
        continue;
      }
      for (const r of v.reals) {
        const rs = hostPort(r.address, r.port);
        const have = row?.reals.get(rs);
        const want = r.alive ? r.effectiveWeight : r.inhibitOnFailure ? 0 : undefined;
        if (want === undefined ? have !== undefined : have?.weight !== want) {
          out.push(`${h}: ${rs} of ${v.key} is ${have ? `at weight ${have.weight}` : 'absent'} in the IPVS table, keepalived wants ${want === undefined ? 'it out (its check fails)' : `weight ${want}`}`);
        }
      }
    }
    for (const c of k.checkers) {
      if (!c.hasRun) out.push(`${h}: the health check of ${c.real} (${c.service}) has not run yet`);
      else if (!c.up && changed.has(`${c.service} ${c.real}`)) out.push(`${h}: ${c.real} (${c.service}) changed in this run and has not passed its health check yet`);
    }
  }
  for (const [name, hs] of masters) if (hs.length !== 1) out.push(`VRRP ${name}: ${hs.length ? `${hs.join(' and ')} are MASTER` : 'no MASTER'}`);
  for (const j of jobs) {
    const holders = j.target.directors.filter((h) => { const s = snaps.get(h); return s && vipInterface(s.addrs, j.target.vip); });
    if (holders.length !== 1) out.push(`${j.target.vip}: held by ${holders.length ? holders.join(' and ') : 'no director'}`);
  }
  return out;
}

export async function runVerification(plan: VerifyPlan, o: VerifyRunOptions): Promise<VerifyRecord[]> {
  const log = o.log ?? (() => {});
  for (const n of plan.notes) o.onNote?.(n);
  if (plan.jobs.length === 0) return [];
  const directors = [...new Set(plan.jobs.flatMap((j) => j.target.directors))];
  const unreachable = new Map<string, string>();
  let before = await snapshots(directors, o, unreachable, !!o.settle);
  if (o.settle) {
    // event-driven in effect: each round is one snapshot exec per director, repeated only while something moves
    const t0 = Date.now();
    const changedHosts = o.settle.changedHosts ?? [];
    let why = clusterUnsettled(plan.jobs, before, changedHosts);
    while (why.length && Date.now() - t0 < o.settle.maxMs) {
      await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
      before = await snapshots(directors, o, unreachable, true);
      why = clusterUnsettled(plan.jobs, before, changedHosts);
    }
    const s = ((Date.now() - t0) / 1000).toFixed(1);
    o.onNote?.(why.length ? `the cluster did not settle within ${s} s after ${o.settle.why}: ${why.slice(0, 4).join('; ')}${why.length > 4 ? ` (+${why.length - 4} more)` : ''}` : `settled in ${s} s after ${o.settle.why}`);
  }

  const runs = new Map<VerifyJob, ProbeRun>();
  const isShort = (job: VerifyJob, after: Map<string, DirectorSnapshot>) =>
    (buildRecord({ job, run: runs.get(job)!, before, after, unreachable }).reasons ?? []).some((r) => r.startsWith('cross-check:'));
  // A job whose directors counted fewer new connections than its probes saw answers (probes that reused an old
  // entry of their client port) is explained by the directors' connection entries; those expire tcpfin seconds
  // after the probes (30 s in the lab), sooner than the other jobs' probes take. So right after each job's probes,
  // while the next job probes, its directors' counters are read and, if short, its entries: in the background.
  const early = new Map<VerifyJob, Promise<Map<string, ConnEntry[]> | undefined>>();
  const captureIfShort = async (job: VerifyJob): Promise<Map<string, ConnEntry[]> | undefined> => {
    const mid = await snapshots(job.target.directors.filter((h) => !unreachable.has(h)), o, new Map());
    return isShort(job, mid) ? connEntriesOf([job], runs, o, unreachable, log) : undefined;
  };
  for (const job of plan.jobs) {
    const cfg = probeConfigFor(job);
    log(`verify: ${job.target.name} (${targetAddress(job.target)}): ${cfg.count} ${job.udp ? 'UDP' : job.http ? 'HTTP' : 'TCP'} probes from ${job.vantage}`);
    try {
      const conn = await o.connect(job.vantage);
      const r = await conn.exec(probeScript(cfg), { timeoutMs: cfg.maxMs + PROBE_EXEC_GRACE_MS });
      const run = parseProbeOutput(r.stdout);
      if (r.code !== 0 && run.probes.length === 0 && !run.unavailable) run.unavailable = `probe exited ${r.code}: ${r.stderr.trim().slice(0, 200)}`;
      runs.set(job, run);
      if (run.probes.some((p) => p.ok && p.port !== undefined)) early.set(job, captureIfShort(job).catch(() => undefined));
    } catch (e) {
      runs.set(job, { prober: 'none', probes: [], noise: [], unavailable: (e as Error).message });
    }
  }

  // IPVS counters lag: re-read until they cover the probes, at most settleMs after the first read (the read itself
  // can take seconds on a slow director: it must not use up the wait)
  const dump = !o.settle && needsKeepalivedState(plan.jobs, runs, before);
  let after = await snapshots(directors, o, unreachable, dump);
  const deadline = Date.now() + (o.settleMs ?? COUNTER_WAIT_MS);
  // the dump is read once; a counter re-read keeps it
  const keepDump = (next: Map<string, DirectorSnapshot>) => {
    for (const [h, s] of next) {
      const k = after.get(h)?.keepalived;
      if (k && !s.keepalived) s.keepalived = k;
    }
    return next;
  };
  // per backend too: the service total can be reached while one real server's counter still lags behind (seen on
  // a fresh lab: 47 counted for 51 answers from rs1, with rs2's failed probes making up the total)
  const crossCheckPending = (a: Map<string, DirectorSnapshot>) =>
    plan.jobs.some((job) => (buildRecord({ job, run: runs.get(job)!, before, after: a, unreachable }).reasons ?? []).some((r) => r.startsWith('cross-check:')));
  while ((!countersCaughtUp(plan.jobs, runs, before, after) || crossCheckPending(after)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, COUNTER_POLL_MS));
    after = keepDump(await snapshots(directors, o, unreachable));
  }
  // a server the checkers removed, or a VIP that moved, while the probes ran: read the dump now, so the record names
  // the failing check or when the new holder became MASTER
  const moved = plan.jobs.some((j) => vipMoves(j.target.directors, j.target.vip, before, after).length > 0);
  // two holders of a VIP: the dump says whether both keepalived are MASTER or an address stayed behind
  const splitBrain = plan.jobs.some((j) => j.target.directors.filter((h) => { const s = after.get(h); return s !== undefined && vipInterface(s.addrs, j.target.vip) !== undefined; }).length > 1);
  if (!dump && (moved || splitBrain || (!o.settle && needsKeepalivedState(plan.jobs, runs, after)))) after = await snapshots(directors, o, unreachable, true);

  // still short: which answered probes have an IPVS connection entry on a director: read right after the job's
  // probes (above) or, for a job that was not short then, now (one exec per director involved)
  const short = plan.jobs.filter((job) => isShort(job, after));
  const captured = new Map<VerifyJob, Map<string, ConnEntry[]>>();
  for (const job of short) {
    const e = await early.get(job);
    if (e) captured.set(job, e);
  }
  await Promise.all(early.values()); // nothing left running behind the records
  const late = short.filter((job) => !captured.has(job));
  const entries = short.length ? mergeEntries([...captured.values(), ...(late.length ? [await connEntriesOf(late, runs, o, unreachable, log)] : [])]) : undefined;

  const records: VerifyRecord[] = [];
  for (const job of plan.jobs) {
    const rec = buildRecord({ job, run: runs.get(job)!, before, after, unreachable, ...(entries ? { entries } : {}) });
    records.push(rec);
    o.onRecord?.(rec);
  }
  return records;
}
