/**
 * The drain state of a director: which real servers `lvsplay drain` took out of which services, and since when.
 * It lives in one file on each director (DRAIN_STATE_FILE); the director and node-svc roles read it as a fact and
 * render `weight 0` for a drained real server, so keepalived itself keeps the drain across a reload or a restart,
 * and a later `lvsplay run` neither undoes it nor reports it as a change. `lvsplay undrain` removes the entries.
 *
 * Why a state file and not keepalived's own FILE_CHECK/track_file weight on the real server: keepalived.conf(5) of
 * 2.2.7 says that track_file weights for real servers "are not fully implemented yet. In particular allowing
 * weight 0, handling negative calculated values and reloading" — exactly what a drain needs. Pure.
 */
import type { ResolvedService } from './cluster.ts';

export const DRAIN_STATE_FILE = '/etc/keepalived/lvsplay-drained';

export interface DrainEntry {
  /** the lvs_services (or lvs_node_svc) service name */
  service: string;
  /** the real server's inventory host name */
  host: string;
  /** ISO 8601 UTC time of the drain */
  since: string;
}

const HEADER = [
  '# managed by lvsplay: real servers drained by `lvsplay drain` (weight 0 in keepalived.conf until `lvsplay undrain`)',
  '# SERVICE HOST SINCE',
];

/** The file's lines → entries; lines that are not `SERVICE HOST SINCE` are ignored (the header, a hand edit). */
export function parseDrainState(text: string | undefined): DrainEntry[] {
  const out: DrainEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const w = line.trim().split(/\s+/);
    if (w.length !== 3 || line.trimStart().startsWith('#') || !/^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(w[2]!)) continue;
    if (!out.some((e) => e.service === w[0] && e.host === w[1])) out.push({ service: w[0]!, host: w[1]!, since: w[2]! });
  }
  return out;
}

/** Entries → the file's content (sorted, so the same state is the same bytes); empty state: no file. */
export function formatDrainState(entries: readonly DrainEntry[]): string | undefined {
  if (entries.length === 0) return undefined;
  const lines = [...entries].sort((a, b) => a.service.localeCompare(b.service) || a.host.localeCompare(b.host)).map((e) => `${e.service} ${e.host} ${e.since}`);
  return `${[...HEADER, ...lines].join('\n')}\n`;
}

export function drainEntry(entries: readonly DrainEntry[], service: string, host: string): DrainEntry | undefined {
  return entries.find((e) => e.service === service && e.host === host);
}

/** A real server of a service: what drain and undrain name. */
export type DrainPair = Pick<DrainEntry, 'service' | 'host'>;

/** The state after draining `pairs` at `now`: an entry already there keeps its time. */
export function withDrained(entries: readonly DrainEntry[], pairs: readonly DrainPair[], now: string): DrainEntry[] {
  const out = [...entries];
  // a pair named twice (a virtual_server_group's members are one service) is one entry
  for (const p of pairs) if (!drainEntry(out, p.service, p.host)) out.push({ service: p.service, host: p.host, since: now });
  return out;
}

/** The state after giving `pairs` back. */
export function withUndrained(entries: readonly DrainEntry[], pairs: readonly DrainPair[]): DrainEntry[] {
  return entries.filter((e) => !pairs.some((p) => p.host === e.host && p.service === e.service));
}

/** A resolved service with its drained real servers at weight 0 (what the roles render into keepalived.conf). */
export function applyDrain(s: ResolvedService, entries: readonly DrainEntry[]): ResolvedService {
  if (!entries.some((e) => e.service === s.service.name)) return s;
  return { ...s, realServers: s.realServers.map((r) => (drainEntry(entries, s.service.name, r.host) ? { ...r, weight: 0 } : r)) };
}

/**
 * `text` (a keepalived config written by the roles) with the weight of real server `real` ('ADDR:PORT', '[IPv6]:PORT') of
 * `virtual_server VIP PORT` (protocol `protocol`) set to `weight`: the same bytes the roles render for that weight.
 * undefined when the config does not declare that real server with a weight line.
 */
export function setConfigWeight(text: string, service: { protocol: string; vip: string; port: number; fwmark?: number | undefined; group?: string | undefined }, real: string, weight: number): string | undefined {
  const lines = text.split('\n');
  // 'ADDR:PORT' or '[IPv6]:PORT' (hostPort) as keepalived.conf writes it: `real_server ADDR PORT`
  const realServerLine = real.replace(/^\[?(.*?)\]?:(\d+)$/, '$1 $2');
  const body = (l: string) => l.replace(/[#!].*$/, '').trim();
  const opens = (l: string) => (body(l).match(/\{/g)?.length ?? 0) - (body(l).match(/\}/g)?.length ?? 0);
  for (let i = 0; i < lines.length; i++) {
    // a fwmark service's block names its mark (and no protocol: the mark rule has it)
    // a virtual_server_group's block names the group (its members share the real servers)
    const head = service.fwmark !== undefined ? `virtual_server fwmark ${service.fwmark} {` : service.group !== undefined ? `virtual_server group ${service.group} {` : `virtual_server ${service.vip} ${service.port} {`;
    if (body(lines[i]!) !== head) continue;
    // the block's extent, its protocol (keepalived's default TCP) and the real server's weight line inside it
    let depth = 1;
    let end = i + 1;
    for (; end < lines.length && depth > 0; end++) depth += opens(lines[end]!);
    const block = lines.slice(i + 1, end);
    let d = 1;
    let protocol = 'TCP';
    let weightLine: number | undefined;
    let inReal = false;
    block.forEach((l, j) => {
      const b = body(l);
      if (d === 1 && /^protocol\s+\S+$/.test(b)) protocol = b.split(/\s+/)[1]!.toUpperCase();
      if (d === 1 && b === `real_server ${realServerLine} {`) inReal = true;
      else if (inReal && d === 2 && /^weight\s+\d+$/.test(b)) weightLine = i + 1 + j;
      d += opens(l);
      if (d <= 1) inReal = false;
    });
    if ((service.fwmark === undefined && protocol !== service.protocol.toUpperCase()) || weightLine === undefined) continue;
    const out = [...lines];
    out[weightLine] = lines[weightLine]!.replace(/weight\s+\d+/, `weight ${weight}`);
    return out.join('\n');
  }
  return undefined;
}
