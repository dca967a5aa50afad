/**
 * Taking real servers out of their services for maintenance (`lvsplay drain`) and giving them back (`lvsplay
 * undrain`): which directors and services a drain touches (pure, from the inventory), the step that changes one
 * director (its drain state file, the weight in its keepalived config, the weight in its live IPVS table), and the
 * active connections left to the drained servers (`ipvsadm -Ln`'s ActiveConn).
 */
import { UsageError } from '../errors.ts';
import type { Change, Step } from '../engine/types.ts';
import type { Inventory } from '../inventory/types.ts';
import { fileFact, type FileState } from '../facts/file.ts';
import { ipvsFact } from '../facts/ipvs.ts';
import { atomicWriteScript } from '../steps/atomic-write.ts';
import { PlanError } from '../steps/common.ts';
import { service } from '../steps/service.ts';
import { sh } from '../shell.ts';
import { hostPort } from '../facts/netaddr.ts';
import { DRAIN_STATE_FILE, formatDrainState, parseDrainState, setConfigWeight, withDrained, withUndrained, type DrainPair } from '../cluster/drain.ts';
import { serviceTargets, type ServiceTarget } from '../verify/targets.ts';
import { parseIpvsList, serviceKey } from '../verify/ipvsadm.ts';

/** One real server of one service on the directors that serve it. */
export interface DrainTarget extends DrainPair {
  kind: ServiceTarget['kind'];
  protocol: 'TCP' | 'UDP';
  vip: string;
  port: number;
  /** a fwmark service's mark (its IPVS entries and its config block are named by it) */
  fwmark?: number;
  /** a virtual_server_group member: the group (its config block is named by it; one target per member) */
  group?: string;
  /** 'ADDR:PORT' as the directors' tables name it */
  real: string;
  /** the inventory's weight (what undrain gives back) */
  weight: number;
  directors: string[];
}

/**
 * The targets of `lvsplay drain|undrain HOST… [--service S…]`, validated before any host is touched: every HOST is
 * an inventory host and a real server of some service (of every named one with --service), and (--limit) every
 * director of those services is inside the limit.
 */
export function planDrain(inv: Inventory, hosts: readonly string[], o: { command: string; services?: readonly string[]; limit?: readonly string[] }): DrainTarget[] {
  const targets = serviceTargets(inv).filter((t) => t.protocol === 'TCP' || t.protocol === 'UDP');
  const realServers = [...new Set(targets.flatMap((t) => t.backends.map((b) => b.label)))].sort();
  if (hosts.length === 0) throw new UsageError(`${o.command}: name the real server(s) to ${o.command} (real servers: ${realServers.join(', ') || 'none'})`);
  for (const s of o.services ?? []) {
    if (!targets.some((t) => t.name === s)) throw new UsageError(`${o.command}: no service "${s}" in the inventory (services: ${[...new Set(targets.map((t) => t.name))].join(', ') || 'none'}): fix --service`);
  }
  const out: DrainTarget[] = [];
  for (const h of hosts) {
    if (!inv.hosts.has(h)) throw new UsageError(`${o.command}: no host "${h}" in the inventory ${inv.file ?? ''} (real servers: ${realServers.join(', ') || 'none'})`);
    const pools = targets.filter((t) => t.backends.some((b) => b.label === h));
    if (pools.length === 0) throw new UsageError(`${o.command}: ${h} is not a real server of any service (real servers: ${realServers.join(', ') || 'none'}); a director or client has nothing to drain`);
    for (const s of o.services ?? []) {
      const t = targets.find((x) => x.name === s)!;
      if (!pools.includes(t)) throw new UsageError(`${o.command}: ${h} is not a real server of ${s} (its pool: ${t.backends.map((b) => b.label).join(', ')}; ${h} serves ${pools.map((p) => p.name).join(', ')})`);
    }
    for (const t of pools) {
      if (o.services && !o.services.includes(t.name)) continue;
      if (t.directors.length === 0) throw new UsageError(`${o.command}: no director serves ${t.name} in the inventory: nothing to change for ${h}`);
      const b = t.backends.find((x) => x.label === h)!;
      // node-svc targets of a name used twice are called NODE/NAME; the node's own config names the service NAME
      const service = t.kind === 'node-svc' && t.name.includes('/') ? t.name.slice(t.name.indexOf('/') + 1) : t.name;
      out.push({ service, host: h, kind: t.kind, protocol: t.protocol, vip: t.vip, port: t.port, ...(t.fwmark !== undefined ? { fwmark: t.fwmark } : {}), ...(t.group !== undefined ? { group: t.group } : {}), real: hostPort(b.address, b.port), weight: b.weight, directors: t.directors });
    }
  }
  if (o.limit) {
    const outside = [...new Set(out.flatMap((t) => t.directors))].filter((d) => !o.limit!.includes(d));
    if (outside.length) throw new UsageError(`${o.command}: --limit leaves out ${outside.join(', ')}, director(s) of ${[...new Set(out.filter((t) => t.directors.some((d) => outside.includes(d))).map((t) => t.service))].join(', ')}: a drain changes every director of a service at once (widen --limit)`);
  }
  return out;
}

/** The directors of the targets, each with the targets it serves. */
export function byDirector(targets: readonly DrainTarget[]): Map<string, DrainTarget[]> {
  const out = new Map<string, DrainTarget[]>();
  for (const t of targets) for (const d of t.directors) out.set(d, [...(out.get(d) ?? []), t]);
  return out;
}

/** The keepalived configs the roles write that may declare a target's virtual_server (director; node-svc conf.d). */
export function configPaths(targets: readonly DrainTarget[]): string[] {
  return ['/etc/keepalived/keepalived.conf', ...new Set(targets.map((t) => `/etc/keepalived/conf.d/${t.service}.conf`))];
}

const label = (t: DrainTarget) => `${t.service} ${t.host} (${t.real})`;

/**
 * The step that drains (`drain: true`) or gives back the targets on one director, planned purely from its facts:
 * the drain state file (entries added with `now`, or removed), the real server's weight in the keepalived config
 * that declares it (0, or the inventory's), validated with `keepalived -t` before the swap, and the weight in the
 * live IPVS table with `ipvsadm -e` (at once: keepalived's reload, which the caller sends when a config changed,
 * only makes keepalived's own view agree). A director that does not serve a target is a plan error: the command
 * plans every director before it changes any.
 */
export function drainStep(targets: readonly DrainTarget[], o: { drain: boolean; now: string }): Step {
  const state = fileFact(DRAIN_STATE_FILE);
  const configs = configPaths(targets).map((p) => ({ path: p, fact: fileFact(p) }));
  return {
    kind: 'drain',
    name: `${o.drain ? 'drain' : 'undrain'} ${targets.map(label).join(', ')}`,
    facts: [state, ipvsFact, ...configs.map((c) => c.fact)],
    plan(ctx) {
      const changes: Change[] = [];
      const f = ctx.fact(state);
      const current = f.exists && f.type === 'file' ? f.content : undefined;
      const entries = parseDrainState(current);
      const next = formatDrainState(o.drain ? withDrained(entries, targets, o.now) : withUndrained(entries, targets));
      if ((next ?? '') !== (current ?? '') && !(next === undefined && !f.exists)) {
        changes.push(next === undefined
          ? { summary: `remove ${DRAIN_STATE_FILE} (nothing drained any more)`, script: sh`rm -f ${DRAIN_STATE_FILE}` }
          : { summary: `${DRAIN_STATE_FILE}: ${targets.map((t) => `${t.service} ${t.host}`).join(', ')} ${o.drain ? 'drained' : 'given back'}`, script: atomicWriteScript({ path: DRAIN_STATE_FILE, content: next, mode: 0o644, owner: 'root', group: 'root' }) });
      }
      // the config: every target's weight line in the file that declares it, one write per file
      const texts = new Map<string, { was: string; text: string; what: string[] }>();
      for (const t of targets) {
        const want = o.drain ? 0 : t.weight;
        const svc = { protocol: t.protocol, vip: t.vip, port: t.port, fwmark: t.fwmark, group: t.group };
        const c = configs.find((x) => { const s = ctx.fact(x.fact); return contentOf(s) !== undefined && setConfigWeight(contentOf(s)!, svc, t.real, want) !== undefined; });
        if (!c) throw new PlanError(`no keepalived config (${configPaths([t]).join(', ')}) declares real server ${t.real} of virtual_server ${t.vip} ${t.port} (${t.service})`, 'converge the director with lvsplay run first');
        const cur = texts.get(c.path) ?? { was: contentOf(ctx.fact(c.fact))!, text: contentOf(ctx.fact(c.fact))!, what: [] };
        const edited = setConfigWeight(cur.text, svc, t.real, want)!;
        if (edited !== cur.text) cur.what.push(`${t.service} ${t.host} weight ${want}`);
        texts.set(c.path, { ...cur, text: edited });
      }
      for (const [path, c] of texts) {
        if (c.text === c.was) continue;
        changes.push({ summary: `${path}: ${c.what.join(', ')}`, script: atomicWriteScript({ path, content: c.text, mode: 0o644, owner: 'root', group: 'root', validate: 'keepalived -t -f %s' }) });
        ctx.predict.file(path).set(c.text);
      }
      // the live table: at once
      const ipvs = ctx.fact(ipvsFact);
      if (!ipvs.tool || !ipvs.kernel) throw new PlanError(`no IPVS table to change (${!ipvs.tool ? 'ipvsadm is not installed' : ipvs.message})`, 'converge the director with lvsplay run first');
      for (const t of targets) {
        const want = o.drain ? 0 : t.weight;
        const family = t.vip.includes(':') ? 6 : 4;
        const svc = ipvs.services.find((s) => (t.fwmark !== undefined ? s.protocol === 'fwmark' && s.fwmark === t.fwmark && s.family === family : s.protocol === t.protocol.toLowerCase() && s.address === t.vip && s.port === t.port));
        const row = svc?.realServers.find((r) => hostPort(r.address, r.port) === t.real);
        // out of the table (its health check fails, or keepalived is not running): keepalived adds it back with
        // the config's weight, which the config change above already set
        if (!row || row.weight === want) continue;
        const flag = { dr: '-g', tun: '-i', nat: '-m' }[row.method];
        changes.push({ summary: `${t.service}: ${t.real} weight ${row.weight} → ${want} in the IPVS table`, script: sh`ipvsadm -e ${t.fwmark !== undefined ? ['-f', String(t.fwmark), ...(family === 6 ? ['-6'] : [])] : [t.protocol === 'TCP' ? '-t' : '-u', hostPort(t.vip, t.port)]} -r ${t.real} ${flag} -w ${want}` });
      }
      return { changes };
    },
  };
}

function contentOf(f: FileState): string | undefined {
  return f.exists && f.type === 'file' ? f.content : undefined;
}

/** Active connections (ActiveConn) of each target on a director, from `ipvsadm -Ln --exact`; a missing row is 0. */
export function activeConnections(listing: string, targets: readonly DrainTarget[]): Map<DrainTarget, number> {
  const table = parseIpvsList(listing);
  return new Map(targets.map((t) => [t, table.get(serviceKey(t))?.reals.get(t.real)?.active ?? 0]));
}

/**
 * keepalived's SIGHUP reload after `drainStep` changed a config on this director (planned from the predicted
 * files), so that keepalived's own view holds the new weight too: without it, a health-check failure and recovery
 * would re-add a drained server at its old weight. A reload edits the weight in place (keepalived 2.2.7
 * init_service_rs → update_svr_wgt): no real server leaves the table, no connection is dropped. A stopped
 * keepalived is left stopped (it reads the new weight when it starts).
 */
export function reloadAfter(targets: readonly DrainTarget[]): Step {
  const reload = service('keepalived', { state: 'reloaded' });
  return {
    ...reload,
    name: 'reload keepalived (the weights changed)',
    plan(ctx) {
      if (!configPaths(targets).some((p) => ctx.predict.file(p).get() !== undefined)) return { changes: [] };
      const p = reload.plan(ctx);
      const changes = p.changes.filter((c) => c.summary.startsWith('reload'));
      return { changes, ...(changes.length < p.changes.length ? { warnings: ['keepalived is not running: its config holds the new weight, it applies when keepalived starts'] } : {}) };
    },
  };
}
