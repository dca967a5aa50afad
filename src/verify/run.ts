/**
 * The verification's I/O: snapshot the directors (one exec each), probe each service from its vantage host (one
 * exec, one process per service), snapshot the directors again until their counters caught up (IPVS counters lag
 * up to ~2 s), then build the records. Execs per director: 2 (3–5 when the counters lag); per vantage host: one per
 * service.
 */
import type { Connection } from '../transport/types.ts';
import type { VerifyRecord } from '../output/events.ts';
import { snapshotDirector, type DirectorSnapshot } from './director.ts';
import { probeScript, type ProbeConfig } from './probe-program.ts';
import { parseProbeOutput, type ProbeRun } from './probe-output.ts';
import { buildRecord } from './record.ts';
import { connDeltas, serviceKey } from './ipvsadm.ts';
import { vipInterface } from './director.ts';
import type { VerifyJob, VerifyPlan } from './targets.ts';

export interface VerifyRunOptions {
  connect(host: string): Promise<Connection>;
  /** each record as soon as it is known */
  onRecord?(r: VerifyRecord): void;
  log?(line: string): void;
  /** why something is not verified (no clients group, UDP service …): the caller shows these to the operator */
  onNote?(note: string): void;
  /** how long to wait at most for the directors' counters to catch up (default 4000 ms) */
  settleMs?: number;
}

export function probeConfigFor(job: VerifyJob): ProbeConfig {
  return {
    host: job.target.vip,
    port: job.target.port,
    http: job.http,
    path: job.check.path,
    count: job.check.probes,
    intervalMs: 0,
    timeoutMs: job.check.timeoutMs,
    concurrency: 1,
    maxMs: job.check.probes * (job.check.timeoutMs + 50) + 5000,
  };
}

async function snapshots(hosts: string[], o: VerifyRunOptions, unreachable: Map<string, string>): Promise<Map<string, DirectorSnapshot>> {
  const out = new Map<string, DirectorSnapshot>();
  await Promise.all(
    hosts.map(async (h) => {
      if (unreachable.has(h)) return;
      try {
        out.set(h, await snapshotDirector(h, await o.connect(h)));
      } catch (e) {
        unreachable.set(h, (e as Error).message);
      }
    }),
  );
  return out;
}

/** Every job's active director counted at least its successful probes (or there is nothing to wait for). */
function settled(jobs: VerifyJob[], runs: Map<VerifyJob, ProbeRun>, before: Map<string, DirectorSnapshot>, after: Map<string, DirectorSnapshot>): boolean {
  for (const job of jobs) {
    const t = job.target;
    const master = t.directors.find((h) => {
      const s = after.get(h);
      return s && vipInterface(s.addrs, t.vip);
    });
    if (!master) continue;
    const key = serviceKey(t.protocol, t.vip, t.port);
    const a = after.get(master)?.stats?.get(key);
    const b = before.get(master)?.stats?.get(key);
    if (!a || !b) continue;
    const sum = [...connDeltas(b, a).values()].reduce((x, y) => x + y, 0);
    const ok = runs.get(job)?.probes.filter((p) => p.ok).length ?? 0;
    if (sum < ok) return false;
  }
  return true;
}

export async function runVerification(plan: VerifyPlan, o: VerifyRunOptions): Promise<VerifyRecord[]> {
  const log = o.log ?? (() => {});
  for (const n of plan.notes) o.onNote?.(n);
  if (plan.jobs.length === 0) return [];
  const directors = [...new Set(plan.jobs.flatMap((j) => j.target.directors))];
  const unreachable = new Map<string, string>();
  const before = await snapshots(directors, o, unreachable);

  const runs = new Map<VerifyJob, ProbeRun>();
  for (const job of plan.jobs) {
    const cfg = probeConfigFor(job);
    log(`verify: ${job.target.name} (${job.target.vip}:${job.target.port}): ${cfg.count} ${job.http ? 'HTTP' : 'TCP'} probes from ${job.vantage}`);
    try {
      const conn = await o.connect(job.vantage);
      const r = await conn.exec(probeScript(cfg), { timeoutMs: cfg.maxMs + 30_000 });
      const run = parseProbeOutput(r.stdout);
      if (r.code !== 0 && run.probes.length === 0 && !run.unavailable) run.unavailable = `probe exited ${r.code}: ${r.stderr.trim().slice(0, 200)}`;
      runs.set(job, run);
    } catch (e) {
      runs.set(job, { prober: 'none', probes: [], noise: [], unavailable: (e as Error).message });
    }
  }

  // IPVS counters lag: re-read until they cover the probes, at most settleMs
  const deadline = Date.now() + (o.settleMs ?? 4000);
  let after = await snapshots(directors, o, unreachable);
  while (!settled(plan.jobs, runs, before, after) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    after = await snapshots(directors, o, unreachable);
  }

  const records: VerifyRecord[] = [];
  for (const job of plan.jobs) {
    const rec = buildRecord({ job, run: runs.get(job)!, before, after, unreachable });
    records.push(rec);
    o.onRecord?.(rec);
  }
  return records;
}
