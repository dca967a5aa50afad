/**
 * One exec per director per snapshot: its addresses (`ip -j addr`: who holds the VIP) and its IPVS table with
 * weights and connection counters. Parsing is pure; `snapshotDirector` is the only I/O here.
 */
import type { Connection } from '../transport/types.ts';
import { parseInterfaces, parseIpJson } from '../facts/ip.ts';
import { section, splitSections } from '../facts/sections.ts';
import { KEEPALIVED_DUMP_SCRIPT, parseKeepalivedDump, type KeepalivedDump } from '../facts/keepalived-dump.ts';
import { parseIpvsList, parseIpvsStats, type IpvsListService, type IpvsStatsService } from './ipvsadm.ts';
import { DRAIN_STATE_FILE, parseDrainState, type DrainEntry } from '../cluster/drain.ts';
import { q } from '../shell.ts';

export interface AddrEntry {
  ifname: string;
  address: string;
  up: boolean;
}

export interface DirectorSnapshot {
  host: string;
  /** orchestrator clock (ms) when the output arrived */
  at: number;
  /**
   * the host's clock minus the orchestrator's (ms), to within the exec's start latency: the script reads the host's
   * clock first. Converts the host's own times (keepalived's last transition) to the orchestrator clock; a VM lab
   * under TCG drifts tens of seconds in half an hour, and hosts without NTP drift too
   */
  clockOffsetMs?: number;
  addrs: AddrEntry[];
  list?: Map<string, IpvsListService>;
  stats?: Map<string, IpvsStatsService>;
  /** why the IPVS table is missing (no ipvsadm, no IPVS in the kernel, not root …) */
  ipvsError?: string;
  /** keepalived's checker and VRRP state (its data dump), when the snapshot asked for it */
  keepalived?: KeepalivedDump;
  /** real servers `lvsplay drain` took out on this director (its drain state file) */
  drained: DrainEntry[];
}

const IPVS_SNAPSHOT = [
  // first, so the reading is close to the exec's start (GNU date; %N unsupported prints no digits: no offset)
  `echo "@@clock $(date +%s%N 2>/dev/null)"`,
  `echo @@addr`,
  `ip -j addr show 2>/dev/null || echo '[]'`,
  `if ! command -v ipvsadm >/dev/null 2>&1; then echo '@@ipvserror ipvsadm is not installed'`,
  `elif out=$(ipvsadm -Ln --exact 2>&1); then echo @@list; printf '%s\\n' "$out"; echo @@stats; ipvsadm -Ln --stats --exact 2>&1`,
  `else echo "@@ipvserror $(printf '%s' "$out" | head -n 1)"; fi`,
  `echo @@drained`,
  `cat ${q(DRAIN_STATE_FILE)} 2>/dev/null || true`,
];

/** The snapshot script; with `keepalived`, its data dump too (still one exec). */
export function snapshotScript(keepalived: boolean): string {
  return [...IPVS_SNAPSHOT, ...(keepalived ? [KEEPALIVED_DUMP_SCRIPT] : [])].join('\n');
}

/** IPv4 and IPv6 addresses per interface from `ip -j addr show` (parsed as the interfaces fact parses it). */
export function parseIpAddrJson(text: string): AddrEntry[] {
  const key = 'ip -j addr';
  const ifaces = parseInterfaces(key, [], parseIpJson(key, text.trim() || '[]', 0));
  return [...ifaces.values()].flatMap((i) => i.addresses.map((a) => ({ ifname: i.name, address: a.address, up: i.up })));
}

/** The interface on which the host serves `vip` as a director (not lo, tunl0, ip6tnl0: DR/TUN real servers keep the VIP there). */
export function vipInterface(addrs: readonly AddrEntry[], vip: string): string | undefined {
  return addrs.find((a) => a.address === vip && a.ifname !== 'lo' && !a.ifname.startsWith('tunl') && !a.ifname.startsWith('ip6tnl') && a.up)?.ifname;
}

/** The host's clock minus the orchestrator's (ms) from the `@@clock` line (ns since the epoch), read at `sentAt`. */
export function clockOffset(arg: string | undefined, sentAt: number | undefined): number | undefined {
  const ns = arg?.trim();
  if (!ns || !/^\d{16,}$/.test(ns) || sentAt === undefined) return undefined;
  return Math.round(Number(BigInt(ns) / 1000n) / 1000 - sentAt);
}

/** `sentAt`: orchestrator clock when the exec was sent (the clock offset needs it). */
export function parseSnapshot(host: string, stdout: string, at: number, sentAt?: number): DirectorSnapshot {
  const s = splitSections(stdout);
  const addr = section(s, 'addr');
  const snap: DirectorSnapshot = { host, at, addrs: addr ? parseIpAddrJson(addr.lines.join('\n')) : [], drained: parseDrainState(section(s, 'drained')?.lines.join('\n')) };
  const offset = clockOffset(section(s, 'clock')?.arg, sentAt);
  if (offset !== undefined) snap.clockOffsetMs = offset;
  const err = section(s, 'ipvserror');
  if (err) snap.ipvsError = err.arg.trim() || 'ipvsadm failed';
  const list = section(s, 'list');
  const stats = section(s, 'stats');
  try {
    if (list) snap.list = parseIpvsList(list.lines.join('\n'));
    if (stats) snap.stats = parseIpvsStats(stats.lines.join('\n'));
  } catch (e) {
    snap.ipvsError = (e as Error).message;
    delete snap.list;
    delete snap.stats;
  }
  if (!addr) snap.ipvsError = snap.ipvsError ?? 'no output from the snapshot script';
  if (section(s, 'kdown') || section(s, 'kcheck') || section(s, 'kvrrp')) snap.keepalived = parseKeepalivedDump(stdout);
  return snap;
}

/** The snapshot takes well under a second (a keepalived dump waits for its file); this bound catches a hung host. */
export const SNAPSHOT_TIMEOUT_MS = 30_000;

export async function snapshotDirector(host: string, conn: Connection, keepalived = false): Promise<DirectorSnapshot> {
  const sentAt = Date.now();
  const r = await conn.exec(snapshotScript(keepalived), { timeoutMs: SNAPSHOT_TIMEOUT_MS });
  return parseSnapshot(host, r.stdout, Date.now(), sentAt);
}
