/**
 * From what was measured (probe run, director snapshots before and after) to one VerifyRecord. Pure, so every
 * verdict can be unit-tested on recorded outputs.
 */
import type { VerifyRecord } from './types.ts';
import { evaluate, type BackendExpectation } from './expect.ts';
import { connDeltas, restartedCounters, serviceKey, type IpvsListReal } from './ipvsadm.ts';
import { checkerOf, describeChecker, type KeepalivedDump } from '../facts/keepalived-dump.ts';
import { vipInterface, type DirectorSnapshot } from './director.ts';
import type { ProbeRun } from './probe-output.ts';
import type { BackendTarget, ServiceTarget, VerifyJob } from './targets.ts';
import { hostPort, ipFamily } from '../facts/netaddr.ts';
import type { DrainEntry } from '../cluster/drain.ts';
import { throughDirectors, type ConnEntry } from './conn-entries.ts';

/** The backend a probe answer names: its host name (as a whole word) or address; otherwise the answer itself. */
export function matchBackend(info: string, backends: readonly BackendTarget[]): string {
  const text = info.trim();
  for (const b of backends) if (text === b.label || text === b.host || text === b.address) return b.label;
  const hits = backends.filter((b) => new RegExp(`(^|[^A-Za-z0-9_.-])${b.host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_-])`).test(text));
  if (hits.length === 1) return hits[0]!.label;
  return text || '-';
}

/** `VIP:PORT` of a service, a fwmark service's `VIP:80,443` (as the records, tables and logs name it). */
export function targetAddress(t: Pick<ServiceTarget, 'vip' | 'port' | 'ports'>): string {
  return t.ports ? `${hostPort(t.vip, t.ports[0]!)}${t.ports.slice(1).map((p) => `,${p}`).join('')}` : hostPort(t.vip, t.port);
}

/**
 * A fwmark service's probes per VIP port: every port must answer (a port without its mark rule reaches no real
 * server), and with persistence one client reaches one real server across the ports (IPVS keeps one persistence
 * template per client and mark). `named`: the answers name their backend.
 */
function portBreakdown(t: ServiceTarget, probes: ProbeRun['probes'], named: boolean, maxFailed: number): { ports: NonNullable<VerifyRecord['ports']>; reasons: string[]; notes: string[] } {
  const ports = (t.ports ?? []).map((port) => {
    const mine = probes.filter((p) => p.dport === port);
    const backends: Record<string, number> = {};
    if (named) for (const p of mine) if (p.ok) { const l = matchBackend(p.info, t.backends); backends[l] = (backends[l] ?? 0) + 1; }
    return { port, probes: mine.length, failed: mine.filter((p) => !p.ok).length, backends };
  });
  const reasons: string[] = [];
  const notes: string[] = [];
  for (const p of ports) {
    // most, not all: a probe whose client port matches an old IPVS entry of that port is still forwarded on it
    if (p.probes > 0 && p.failed * 2 > p.probes && p.failed > maxFailed) reasons.push(`fwmark ${t.fwmark}: ${p.failed === p.probes ? 'none' : `only ${p.probes - p.failed}`} of the ${p.probes} probes to port ${p.port} ${p.failed === p.probes ? 'was' : 'were'} answered (its packets are not marked ${t.fwmark} on the director holding ${t.vip}, or no real server listens on ${p.port})`);
  }
  const say = (p: (typeof ports)[number]) => `${p.port}: ${Object.entries(p.backends).map(([b, n]) => `${b} ${n}`).join(', ') || `${p.probes - p.failed} answered`}${p.failed ? `, ${p.failed} failed` : ''}`;
  notes.push(`fwmark ${t.fwmark}, ports ${ports.map(say).join('; ')}`);
  if (t.persistence && named) {
    const per = ports.map((p) => Object.keys(p.backends));
    const all = new Set(per.flat());
    if (all.size > 1 && per.every((b) => b.length > 0)) reasons.push(`persistence ${t.persistence}s does not span the ports of fwmark ${t.fwmark}: ${ports.map((p) => `port ${p.port} → ${Object.keys(p.backends).join('+')}`).join(', ')} (one client must reach one real server on every port)`);
  }
  return { ports, reasons, notes };
}

/** The client ports of the probes `b` answered (a probe whose port the prober did not know is left out). */
function answeredPorts(probes: ProbeRun['probes'], b: BackendTarget, backends: readonly BackendTarget[]): number[] {
  return probes.filter((p) => p.ok && p.port !== undefined && matchBackend(p.info, backends) === b.label).map((p) => p.port!);
}

/** Connections the director counted between the snapshots must cover the probes: allowed shortfall. */
function crossCheckTolerance(n: number): number {
  return Math.max(1, Math.ceil(n * 0.02));
}

/**
 * Why a declared real server does not serve on `director` (undefined: it serves), as precisely as the director
 * can tell: keepalived's checker state from its data dump (which check fails), a weight 0 with active
 * connections (a drain in progress) or without (set outside lvsplay), a server missing although its checker
 * holds it up (removed outside lvsplay).
 */
function downReason(t: ServiceTarget, b: BackendTarget, director: string, key: string, row: IpvsListReal | undefined, dump: KeepalivedDump | undefined): string | undefined {
  const rs = hostPort(b.address, b.port);
  if (row && (row.weight > 0 || b.weight === 0)) return undefined;
  const ck = checkerOf(dump, key, rs);
  const kreal = dump?.virtuals.find((v) => v.key === key)?.reals.find((r) => hostPort(r.address, r.port) === rs);
  const where = `${director}'s IPVS table`;
  if (ck && !ck.up) return `${b.label} (${rs}) fails its health check on ${director}: ${describeChecker(ck)}${ck.hasRun ? '' : ' (not run yet)'} (keepalived ${row ? 'set weight 0' : 'removed it from the table'})`;
  if (!row) {
    if (kreal?.alive) return `${b.label} (${rs}) is missing from ${where} although keepalived's checker holds it up (removed outside lvsplay; \`lvsplay run\` re-adds it)`;
    if (dump?.running && !dump.error && !kreal) return `${b.label} (${rs}) is not in ${director}'s keepalived configuration (not converged: run \`lvsplay run\`)`;
    if (kreal && !kreal.alive) return `${b.label} (${rs}) is down per keepalived on ${director} (its checkers: ${t.healthCheck})`;
    return `${b.label} (${rs}) is missing from ${where}: its health check (${t.healthCheck}${t.healthCheck === 'HTTP_GET' ? ` ${rs}` : ''}) fails, or it is not configured (keepalived's state unreadable)`;
  }
  if (row.active > 0) return `${b.label} (${rs}) is being drained on ${director}: weight 0 with ${row.active} active connection(s)`;
  return `${b.label} (${rs}) has weight 0 in ${where}, set outside lvsplay (the inventory says ${b.weight}${kreal ? `, keepalived set ${kreal.effectiveWeight}` : ''}; \`lvsplay run\` restores it)`;
}

/** The drain entry of backend `b` of service `t` on a director (node-svc targets may be named NODE/SERVICE). */
function drainOf(t: ServiceTarget, b: BackendTarget, entries: readonly DrainEntry[]): DrainEntry | undefined {
  return entries.find((e) => e.host === b.label && (e.service === t.name || t.name === `${t.directors[0]}/${e.service}`));
}

/** A drained server said as such: since when, its active connections, and (when it is out of the table) why. */
function drainedReason(t: ServiceTarget, b: BackendTarget, director: string, key: string, d: DrainEntry, row: IpvsListReal | undefined, dump: KeepalivedDump | undefined): string {
  const rs = `${b.address}:${b.port}`;
  const state = row ? `weight 0 on ${director}${row.active > 0 ? `, ${row.active} active connection(s) left` : ''}` : `and out of ${director}'s table: ${downReason(t, b, director, key, row, dump) ?? 'removed'}`;
  return `${b.label} (${rs}) drained by lvsplay drain since ${d.since} (${state}; \`lvsplay undrain ${b.label}\` gives it back)`;
}

interface SnapshotsLike {
  get(h: string): DirectorSnapshot | undefined;
}

export interface VipMove {
  from: string | null;
  to: string | null;
  /** orchestrator clock (UTC time of day) of the snapshots before and after the probes */
  between: [string, string];
  /**
   * when the new holder became MASTER of the VRRP instance carrying the VIP, from its keepalived dump, on the
   * orchestrator clock (`clockOffsetMs`: the holder's clock minus the orchestrator's, already taken out of `at`)
   */
  became?: { host: string; instance: string; at: string; clockOffsetMs?: number };
}

const timeOfDay = (ms: number) => new Date(ms).toISOString().slice(11, 23);

/** The VRRP instance of `host` that carries `vip` as MASTER, and since when (its keepalived dump, newest first). */
function masterSince(host: string, vip: string, snaps: SnapshotsLike[]): VipMove['became'] {
  for (const m of snaps) {
    const snap = m.get(host);
    const i = snap?.keepalived?.vrrp.find((x) => x.state === 'MASTER' && x.vips?.includes(vip));
    if (!i) continue;
    const off = snap!.clockOffsetMs;
    const at = i.lastTransition !== undefined ? timeOfDay(i.lastTransition * 1000 - (off ?? 0)) : 'unknown';
    return { host, instance: i.name, at, ...(off !== undefined ? { clockOffsetMs: off } : {}) };
  }
  return undefined;
}

/**
 * What each holder's keepalived says about the instance carrying `vip` (its data dump, when the snapshots read it):
 * two MASTERs means neither accepts the other's adverts; a BACKUP or stopped keepalived means the address stayed
 * behind without it. Empty without a dump.
 */
export function splitBrainView(holders: readonly string[], vip: string, snaps: SnapshotsLike[]): string {
  const views: string[] = [];
  for (const host of holders) {
    const snap = snaps.map((m) => m.get(host)).find((s) => s?.keepalived !== undefined);
    const k = snap?.keepalived;
    if (!k) continue;
    if (!k.running) { views.push(`${host}'s keepalived is not running`); continue; }
    const i = k.vrrp.find((x) => x.vips?.includes(vip));
    if (!i) { views.push(`${host}'s keepalived has no instance with ${vip}`); continue; }
    const off = snap!.clockOffsetMs ?? 0;
    views.push(`${host}'s keepalived: ${i.name} ${i.state}${i.lastTransition !== undefined ? ` since ${timeOfDay(i.lastTransition * 1000 - off)}` : ''}`);
  }
  if (!views.length) return '';
  const masters = views.filter((v) => / MASTER( |$)/.test(v)).length;
  const why = masters === holders.length && masters > 1 ? ' (each is MASTER: neither accepts the other\'s VRRP adverts)' : '';
  return ` (${views.join('; ')})${why}`;
}

/** Holder changes of `vip` between two snapshots of the service's directors (split brain is reported elsewhere). */
export function vipMoves(directors: readonly string[], vip: string, before: SnapshotsLike, after: SnapshotsLike): VipMove[] {
  const holder = (m: SnapshotsLike) => directors.filter((h) => { const s = m.get(h); return s !== undefined && vipInterface(s.addrs, vip) !== undefined; });
  const seen = (m: SnapshotsLike) => directors.some((h) => m.get(h) !== undefined);
  if (!seen(before) || !seen(after)) return [];
  const a = holder(before);
  const b = holder(after);
  if (a.length === b.length && a.every((h) => b.includes(h))) return [];
  const at = (m: SnapshotsLike) => timeOfDay(Math.max(...directors.map((h) => m.get(h)?.at).filter((x): x is number => x !== undefined)));
  const became = b.length === 1 ? masterSince(b[0]!, vip, [after, before]) : undefined;
  return [{ from: a.join('+') || null, to: b.join('+') || null, between: [at(before), at(after)], ...(became ? { became } : {}) }];
}

/** A host clock more than a second off the orchestrator's is said: the time shown was corrected by that much. */
function skewNote(host: string, offsetMs: number | undefined): string {
  if (offsetMs === undefined || Math.abs(offsetMs) < 1000) return '';
  return `; ${host}'s clock is ${(Math.abs(offsetMs) / 1000).toFixed(1)} s ${offsetMs < 0 ? 'behind' : 'ahead of'} this machine's, taken out`;
}

/** A VIP move said precisely: who held it, who holds it, since when, and where the probes' connections went. */
export function describeMove(vip: string, m: VipMove, directorConns: Record<string, number>, failed: readonly { t: number }[]): string {
  const conns = Object.entries(directorConns).map(([h, n]) => `${h} ${n}`).join(', ');
  const ts = failed.map((p) => p.t);
  return [
    `${vip} moved from ${m.from ?? '(none)'} to ${m.to ?? '(none)'} during the probe window (between ${m.between[0]} and ${m.between[1]})`,
    m.became ? `: ${m.became.host} became MASTER of ${m.became.instance} at ${m.became.at} (its keepalived${skewNote(m.became.host, m.became.clockOffsetMs)})` : '',
    conns ? `; new connections per director: ${conns}` : '',
    ts.length ? `; ${ts.length} probe(s) failed between ${timeOfDay(Math.min(...ts))} and ${timeOfDay(Math.max(...ts))} (vantage clock)` : '',
  ].join('');
}

export interface RecordInput {
  job: VerifyJob;
  run: ProbeRun;
  before: Map<string, DirectorSnapshot>;
  after: Map<string, DirectorSnapshot>;
  /** directors that could not be reached, with the error */
  unreachable?: Map<string, string>;
  /** the probes' IPVS connection entries per director (conn-entries.ts), read when the cross-check fell short */
  entries?: Map<string, ConnEntry[]>;
}

export function buildRecord(i: RecordInput): VerifyRecord {
  const t = i.job.target;
  const reasons: string[] = [];
  const notes: string[] = [];
  const key = serviceKey(t);

  // who holds the VIP
  for (const [h, e] of i.unreachable ?? []) if (t.directors.includes(h)) notes.push(`director ${h} unreachable: ${e}`);
  const holders = t.directors.filter((h) => {
    const s = i.after.get(h) ?? i.before.get(h);
    return s !== undefined && vipInterface(s.addrs, t.vip) !== undefined;
  });
  let master: string | null = holders[0] ?? null;
  if (holders.length > 1) reasons.push(`split brain: ${holders.join(' and ')} ${holders.length === 2 ? 'both' : 'all'} hold ${t.vip}${splitBrainView(holders, t.vip, [i.after, i.before])}`);
  if (holders.length === 0 && t.directors.some((h) => i.after.has(h) || i.before.has(h))) {
    reasons.push(`no director holds ${t.vip} (checked ${t.directors.filter((h) => i.after.has(h) || i.before.has(h)).join(', ')})`);
  }
  const active = (master && (i.after.get(master) ?? i.before.get(master))) || undefined;
  if (!master) master = null;

  // the active director's table against the declared pool: every declared real server must serve
  const table = active?.list?.get(key);
  const rsKey = (b: BackendTarget) => hostPort(b.address, b.port);
  const dump = active ? (active.keepalived ? active : i.before.get(active.host))?.keepalived : undefined;
  const downs: Array<{ backend: string; reason: string; drained?: boolean }> = [];
  let backends: BackendExpectation[];
  if (active && table) {
    backends = t.backends.map((b) => {
      const row = table.reals.get(rsKey(b));
      const drain = drainOf(t, b, active.drained ?? []);
      if (drain) {
        // taken out by `lvsplay drain`: accepted (DEGRADED), the shares are those of the remaining servers
        if (row && row.weight > 0) reasons.push(`${b.label} is drained by lvsplay drain since ${drain.since} (${active.host}'s drain state), but has weight ${row.weight} in ${active.host}'s IPVS table (restored outside lvsplay: \`lvsplay drain ${b.label}\` again, or \`lvsplay undrain ${b.label}\`)`);
        else downs.push({ backend: b.label, drained: true, reason: drainedReason(t, b, active.host, key, drain, row, dump) });
        return { label: b.label, weight: b.weight, healthy: false };
      }
      const why = downReason(t, b, active.host, key, row, dump);
      if (why) downs.push({ backend: b.label, reason: why });
      else if (row && row.weight !== b.weight) reasons.push(`${b.label} has weight ${row.weight} in ${active.host}'s IPVS table, the inventory says ${b.weight} (set outside lvsplay; \`lvsplay run\` restores it)`);
      return { label: b.label, weight: b.weight, healthy: row !== undefined && row.weight > 0 };
    });
    for (const rs of table.reals.keys()) {
      if (!t.backends.some((b) => rsKey(b) === rs)) reasons.push(`${rs} is in ${active.host}'s IPVS table but not a real server of ${t.name} in the inventory (stale entry: it takes a share of the traffic)`);
    }
    if (table.scheduler && table.scheduler !== t.scheduler) reasons.push(`${active.host} schedules ${key} with ${table.scheduler}, the inventory says ${t.scheduler}`);
    if ((table.persistent ?? 0) !== (t.persistence ?? 0)) reasons.push(`${active.host} has persistence ${table.persistent ?? 'off'} for ${key}, the inventory says ${t.persistence ?? 'off'}`);
  } else {
    backends = t.backends.map((b) => ({ label: b.label, weight: b.weight, healthy: true }));
    if (active?.ipvsError) notes.push(`IPVS table of ${active.host} unreadable (${active.ipvsError}): every real server assumed healthy, no cross-check`);
    else if (active) reasons.push(`${key} is not in the IPVS table of ${active.host}, which holds the VIP`);
  }

  // director counters between the snapshots, on every director of the service: a connection that went through
  // the backup (a VIP that moved, a client with a stale ARP entry) is counted where it went
  const perDirector = new Map<string, Map<string, number>>();
  for (const h of t.directors) {
    const a = i.after.get(h)?.stats?.get(key);
    const b = i.before.get(h)?.stats;
    if (a && b) perDirector.set(h, connDeltas(b.get(key), a));
  }
  const deltas = new Map<string, number>();
  for (const d of perDirector.values()) for (const [rs, n] of d) deltas.set(rs, (deltas.get(rs) ?? 0) + n);
  // a director whose table lost the service during the window (keepalived stopped or restarted there) took its
  // counters with it: the connections it forwarded cannot be counted, so the cross-check cannot hold
  const lostCounters = t.directors.filter((h) => i.before.get(h)?.stats?.get(key) && i.after.get(h)?.stats && !i.after.get(h)!.stats!.get(key));
  // a real server whose entry was re-created during the window counts only from then on: no cross-check for it
  const restarted = new Map<string, string[]>();
  for (const h of t.directors) {
    for (const rs of restartedCounters(i.before.get(h)?.stats?.get(key), i.after.get(h)?.stats?.get(key))) restarted.set(rs, [...(restarted.get(rs) ?? []), h]);
  }
  const haveStats = !!active && perDirector.has(active.host);
  const deltaOf = (b: BackendTarget) => deltas.get(rsKey(b)) ?? 0;
  const directorConns: Record<string, number> = {};
  for (const [h, d] of perDirector) directorConns[h] = [...d.values()].reduce((x, y) => x + y, 0);
  const moves = vipMoves(t.directors, t.vip, i.before, i.after);
  const run = i.run;
  for (const m of moves) reasons.push(describeMove(t.vip, m, directorConns, run.probes.filter((p) => !p.ok)));
  for (const h of lostCounters) reasons.push(`${key} left ${h}'s IPVS table during the probe window (keepalived stopped or restarted there): the connections ${h} forwarded cannot be counted, cross-check skipped`);

  // what the probes saw
  if (run.unavailable) reasons.push(`not probed from ${i.job.vantage}: ${run.unavailable}`);
  if (run.noise.length) notes.push(`vantage output: ${run.noise.slice(0, 3).join(' | ').slice(0, 300)}`);
  const failedProbes = run.probes.filter((p) => !p.ok);
  const counts = new Map<string, number>();
  let first: string | undefined;
  // HTTP and UDP answers name their backend; a bare TCP connect does not. A UDP service whose replies name no
  // backend (a real DNS or syslog server, not web-backend's responder) is counted like TCP, by the directors
  const udpNamed = !!i.job.udp && run.probes.some((p) => p.ok && t.backends.some((b) => matchBackend(p.info, t.backends) === b.label));
  if (i.job.udp && !udpNamed && run.probes.some((p) => p.ok)) notes.push(`the UDP replies name no real server (not web-backend's responder): counted by the directors' counters`);
  const named = i.job.http || udpNamed;
  if (named) {
    for (const p of run.probes) {
      if (!p.ok) continue;
      const l = matchBackend(p.info, t.backends);
      counts.set(l, (counts.get(l) ?? 0) + 1);
      first ??= l;
    }
  } else if (haveStats) {
    // TCP without a body: the director's per-real-server counters say where the connections went
    for (const b of t.backends) if (deltaOf(b) > 0) counts.set(b.label, deltaOf(b));
    for (const [rs, n] of deltas) if (n > 0 && !t.backends.some((b) => rsKey(b) === rs)) counts.set(rs, n);
    first = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    const sum = [...counts.values()].reduce((a, b) => a + b, 0);
    const okProbes = run.probes.length - failedProbes.length;
    if (sum !== okProbes) notes.push(`director counted ${sum} new connections for ${okProbes} successful probes (other clients, or counter lag)`);
  } else {
    reasons.push(`${i.job.udp ? 'UDP service with anonymous replies' : 'TCP service'}: the backends are counted by the active director's counters, which could not be read`);
  }
  // cross-check: the service's directors together counted at least the connections the probes saw per backend;
  // a backend the directors sent connections to that never answered is down (not answering)
  const silent = new Set<string>();
  if (named && haveStats && lostCounters.length === 0) {
    const dirs = [...perDirector.keys()].join('+');
    for (const b of t.backends) {
      const seen = counts.get(b.label) ?? 0;
      const again = restarted.get(rsKey(b));
      if (again) {
        notes.push(`${b.label}'s IPVS entry for ${key} was re-created on ${again.join(', ')} during the probe window (its connection counter restarted: a health check removed and re-added it, or keepalived re-created it): cross-check skipped for ${b.label}, ${seen} answers seen`);
      } else if (deltaOf(b) < seen - crossCheckTolerance(seen)) {
        const per = [...perDirector].map(([h, d]) => `${h} ${d.get(rsKey(b)) ?? 0}`).join(', ');
        const counted = `${dirs} counted ${deltaOf(b)} new connections to ${b.label} (${per}), the probes saw ${seen} answers from it`;
        const ports = i.entries ? answeredPorts(run.probes, b, t.backends) : [];
        const through = i.entries ? throughDirectors(ports, (t.ports ?? [t.port]).map((p) => hostPort(t.vip, p)), rsKey(b), i.entries.values()) : 0;
        if (i.entries && ports.length === seen && through >= seen - crossCheckTolerance(seen)) {
          // every answer has its connection entry on a director: the uncounted ones reused an entry of their client port
          notes.push(`${counted}: the directors' connection tables hold ${through} of them, so ${seen - deltaOf(b)} reused an IPVS entry of the same client port (forwarded on it, not counted as new)`);
        } else {
          const entries = i.entries ? `; ${ports.length - through} of the ${ports.length} answers with a known client port have no IPVS connection entry on any director` : '';
          reasons.push(`cross-check: ${counted}${entries} (traffic bypassed the directors, or the real servers do not answer with their own names)`);
        }
      }
      if (seen === 0 && failedProbes.length > 0 && deltaOf(b) > 0 && !downs.some((d) => d.backend === b.label)) {
        silent.add(b.label);
        downs.push({ backend: b.label, reason: `${b.label} (${rsKey(b)}) does not answer: ${dirs} sent it ${deltaOf(b)} new connections, none answered (${t.healthCheck === 'NONE' ? 'no health check removes it' : 'its health check has not removed it yet'})` });
      }
    }
  } else if (named && active && !haveStats) {
    notes.push(`no director counters: cross-check skipped`);
  }

  // the declared pool: a down server fails the service unless the operator accepted it
  const allow = new Set(i.job.check.allowDown ?? []);
  const drained = new Set(downs.filter((d) => d.drained).map((d) => d.backend));
  const maxDown = i.job.check.maxDown ?? 0;
  // maxDown bounds the downs nobody named: a host in allowDown is accepted by name and does not use up maxDown
  // a drained server is accepted by the drain itself (and does not use up maxDown either)
  const unnamedDowns = downs.filter((d) => !allow.has(d.backend) && !d.drained).length;
  const downRecords = downs.map(({ drained: _, ...d }) => ({ ...d, allowed: drained.has(d.backend) || allow.has(d.backend) || unnamedDowns <= maxDown }));
  const acceptedBy = (b: string) => (drained.has(b) ? 'lvsplay drain' : allow.has(b) ? 'allow-down' : `maxDown ${maxDown}`);
  for (const d of downRecords) (d.allowed ? notes : reasons).push(d.allowed ? `DEGRADED: ${d.reason} (accepted: ${acceptedBy(d.backend)})` : d.reason);
  for (const b of backends) {
    const d = downRecords.find((x) => x.backend === b.label);
    if (!d) continue;
    // a silent server is still in the pool: its expected share stays, its row says MISSING
    if (!silent.has(b.label)) b.healthy = false;
    if (d.allowed) b.allowedDown = true;
  }

  const ev = evaluate({
    scheduler: t.scheduler,
    ...(t.schedulerFlags ? { schedulerFlags: t.schedulerFlags } : {}),
    ...(t.persistence !== undefined ? { persistence: t.persistence } : {}),
    backends,
    counts,
    ...(first ? { first } : {}),
    failed: failedProbes.length,
    maxFailed: i.job.check.maxFailed,
  });
  if (failedProbes.length) {
    const why = new Map<string, number>();
    for (const p of failedProbes) why.set(p.info, (why.get(p.info) ?? 0) + 1);
    notes.push(`failed probes: ${[...why].map(([k, n]) => `${n}× ${k}`).join(', ')}`);
  }

  // a fwmark service: what each of its ports saw
  const byPort = t.ports ? portBreakdown(t, run.probes, named, i.job.check.maxFailed) : undefined;
  if (byPort) {
    reasons.push(...byPort.reasons);
    notes.push(...byPort.notes);
  }

  const rows = ev.rows.map((r) => {
    const b = t.backends.find((x) => x.label === r.backend);
    return { ...r, ...(b && haveStats ? { director: deltaOf(b) } : {}) };
  });
  const all = [...reasons, ...ev.reasons];
  const allNotes = [...notes, ...ev.notes];
  const verdict = all.length ? 'FAIL' : downRecords.length ? 'DEGRADED' : 'PASS';
  return {
    service: t.name,
    expected: ev.expected,
    observed: ev.observed,
    pass: all.length === 0,
    verdict,
    ...(downRecords.length ? { down: downRecords } : {}),
    ...(drained.size ? { drained: [...drained] } : {}),
    detail: all.length ? all.join('; ') : `${verdict === 'DEGRADED' ? `DEGRADED (${downRecords.map((d) => `${d.backend} ${drained.has(d.backend) ? 'drained' : 'down'}`).join(', ')}, accepted), ` : ''}${ev.rule}${ev.chiSquare ? ` p=${ev.chiSquare.p.toPrecision(3)}` : ''}, ${ev.probes} probes from ${i.job.vantage}, master ${master ?? '-'}`,
    vip: targetAddress(t),
    family: ipFamily(t.vip) ?? 4,
    protocol: t.protocol,
    ...(t.fwmark !== undefined ? { fwmark: t.fwmark } : {}),
    ...(byPort ? { ports: byPort.ports } : {}),
    scheduler: t.scheduler + (t.schedulerFlags?.length ? ` (${t.schedulerFlags.join(',')})` : '') + (t.persistence ? ` persistent ${t.persistence}s` : ''),
    rule: ev.rule,
    vantage: i.job.vantage,
    master,
    probes: ev.probes,
    failed: ev.failed,
    ...(ev.chiSquare ? { p: ev.chiSquare.p } : {}),
    rows,
    ...(haveStats ? { directorConns } : {}),
    ...(moves.length ? { vipMoves: moves } : {}),
    reasons: all,
    notes: allNotes,
  };
}
