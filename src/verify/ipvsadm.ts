/**
 * Parsers of `ipvsadm -Ln --exact` (scheduler, weights, active/inactive connections) and
 * `ipvsadm -Ln --stats --exact` (per-real-server connection counters), and the delta of two counter snapshots.
 * Keys: service 'TCP 198.18.0.100:80', real server '198.18.0.21:80' (IPv6: 'TCP [fd00:18::100]:80',
 * '[fd00:18::21]:80', as ipvsadm prints them). Pure.
 */
import { hostPort } from '../facts/netaddr.ts';

export interface IpvsListReal {
  forward: string; // Masq, Route, Tunnel, Local
  weight: number;
  active: number;
  inactive: number;
}

export interface IpvsListService {
  key: string;
  scheduler: string;
  /** persistence timeout (s) when persistent */
  persistent?: number;
  reals: Map<string, IpvsListReal>;
}

/** The key of a service: `TCP 198.18.0.100:80`, `UDP [fd00:18::100]:53`, a fwmark service `FWM 1` (`FWM 2 IPv6`). */
export function serviceKey(s: { protocol: string; vip: string; port: number; fwmark?: number | undefined }): string {
  if (s.fwmark !== undefined) return fwmarkKey(s.fwmark, s.vip.includes(':') ? 6 : 4);
  return `${s.protocol.toUpperCase()} ${hostPort(s.vip, s.port)}`;
}

/** ipvsadm -Ln's name of a fwmark service: `FWM 1`, `FWM 2 IPv6`. */
export function fwmarkKey(mark: number, family: 4 | 6): string {
  return `FWM ${mark}${family === 6 ? ' IPv6' : ''}`;
}

/** A service line's key and the words after it (ipvsadm prints `FWM  2 IPv6 rr` for an IPv6 fwmark service). */
function lineKey(s: RegExpExecArray): { key: string; rest: string[] } {
  const rest = s[3]!.trim().split(/\s+/).filter(Boolean);
  if (s[1] === 'FWM' && rest[0] === 'IPv6') return { key: `FWM ${s[2]} IPv6`, rest: rest.slice(1) };
  return { key: `${s[1]} ${s[2]}`, rest };
}

const SERVICE_LINE = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s*(.*)$/;
const REAL_LINE = /^\s+->\s+(\S+)\s*(.*)$/;

/** `ipvsadm -Ln --exact` → services by key. Header lines are skipped; an unknown line is an error. */
export function parseIpvsList(text: string): Map<string, IpvsListService> {
  const out = new Map<string, IpvsListService>();
  let cur: IpvsListService | undefined;
  for (const line of text.split('\n')) {
    if (!line.trim() || /^IP Virtual Server/.test(line) || /^Prot /.test(line) || /->\s+RemoteAddress/.test(line)) continue;
    const s = SERVICE_LINE.exec(line);
    if (s) {
      const { key, rest } = lineKey(s);
      const pIdx = rest.indexOf('persistent');
      cur = {
        key,
        scheduler: rest[0] ?? '',
        ...(pIdx >= 0 && rest[pIdx + 1] !== undefined ? { persistent: Number(rest[pIdx + 1]) } : {}),
        reals: new Map(),
      };
      out.set(cur.key, cur);
      continue;
    }
    const r = REAL_LINE.exec(line);
    if (r && cur) {
      const [forward, weight, active, inactive] = r[2]!.trim().split(/\s+/);
      cur.reals.set(r[1]!, { forward: forward ?? '', weight: Number(weight), active: Number(active), inactive: Number(inactive) });
      continue;
    }
    throw new Error(`cannot parse ipvsadm -Ln line ${JSON.stringify(line)}`);
  }
  return out;
}

export interface IpvsCounters {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
}

export interface IpvsStatsService {
  key: string;
  total: IpvsCounters;
  reals: Map<string, IpvsCounters>;
}

function counters(fields: string[], line: string): IpvsCounters {
  const n = fields.map((f) => Number(f));
  if (n.length < 5 || n.some((x) => !Number.isFinite(x))) {
    throw new Error(`cannot parse ipvsadm --stats counters in ${JSON.stringify(line)} (use --exact: no K/M suffixes)`);
  }
  return { conns: n[0]!, inPkts: n[1]!, outPkts: n[2]!, inBytes: n[3]!, outBytes: n[4]! };
}

/** `ipvsadm -Ln --stats --exact` → services by key with their totals and per-real-server counters. */
export function parseIpvsStats(text: string): Map<string, IpvsStatsService> {
  const out = new Map<string, IpvsStatsService>();
  let cur: IpvsStatsService | undefined;
  for (const line of text.split('\n')) {
    if (!line.trim() || /^IP Virtual Server/.test(line) || /^Prot /.test(line) || /->\s+RemoteAddress/.test(line)) continue;
    const s = SERVICE_LINE.exec(line);
    if (s) {
      // FWM services print the mark (and IPv6) then the counters
      const { key, rest } = lineKey(s);
      cur = { key, total: counters(rest, line), reals: new Map() };
      out.set(cur.key, cur);
      continue;
    }
    const r = REAL_LINE.exec(line);
    if (r && cur) {
      cur.reals.set(r[1]!, counters(r[2]!.trim().split(/\s+/), line));
      continue;
    }
    throw new Error(`cannot parse ipvsadm --stats line ${JSON.stringify(line)}`);
  }
  return out;
}

/**
 * New connections per real server of one service between two snapshots. A real server absent from `before`
 * counts from 0 (it was added in between); counters that went down (service re-created) count from 0 as well.
 */
/**
 * Real servers whose connection counter went down between two snapshots: their IPVS entry was deleted and created
 * again in between (a health check that removed and re-added it, keepalived re-creating it), so how many connections
 * they took in the window cannot be known; connDeltas counts them from the re-creation.
 */
export function restartedCounters(before: IpvsStatsService | undefined, after: IpvsStatsService | undefined): string[] {
  if (!before || !after) return [];
  return [...after.reals].filter(([rs, c]) => c.conns < (before.reals.get(rs)?.conns ?? 0)).map(([rs]) => rs);
}

export function connDeltas(before: IpvsStatsService | undefined, after: IpvsStatsService | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (!after) return out;
  for (const [rs, c] of after.reals) {
    const b = before?.reals.get(rs)?.conns ?? 0;
    out.set(rs, c.conns >= b ? c.conns - b : c.conns);
  }
  return out;
}
