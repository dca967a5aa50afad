/**
 * keepalived's own view of its cluster, from its data dump (SIGUSR1, `keepalived --signum=DATA`): the checker
 * process writes /tmp/keepalived_check.data (virtual servers, real servers with `alive`, the health checkers with
 * their type, URL and destination), the VRRP process /tmp/keepalived.data (each instance's state and last
 * transition). This is the only place keepalived tells which real servers its checkers hold up; the dump changes
 * nothing keepalived does (it rewrites those two files in /tmp). Parsing is pure.
 */
import { sh } from '../shell.ts';
import type { Fact } from '../engine/types.ts';
import { section, splitSections } from './sections.ts';
import { hostPort } from './netaddr.ts';

export interface KeepalivedReal {
  address: string;
  port: number;
  /** configured weight */
  weight: number;
  /** the weight keepalived set in the IPVS table (dynamic weights, inhibit_on_failure → 0) */
  effectiveWeight: number;
  /** its checkers hold it up */
  alive: boolean;
  inhibitOnFailure: boolean;
}

export interface KeepalivedVirtual {
  /** 'TCP 198.18.0.100:80' (as ipvsadm -Ln names it) */
  key: string;
  scheduler: string;
  reals: KeepalivedReal[];
}

export interface KeepalivedChecker {
  /** 'TCP 198.18.0.100:80' */
  service: string;
  /** '198.18.0.21:80' */
  real: string;
  up: boolean;
  /** the checker completed at least one check since it was (re)started */
  hasRun: boolean;
  /** 'HTTP_GET', 'TCP_CHECK', 'MISC_CHECK' … */
  method: string;
  url?: string;
  /** where it connects: '198.18.0.21:80' */
  dest?: string;
}

export interface KeepalivedVrrpInstance {
  name: string;
  state: string;
  /** epoch seconds of the last state change */
  lastTransition?: number;
  /** its virtual addresses (without prefix length) */
  vips?: string[];
}

export interface KeepalivedDump {
  running: boolean;
  virtuals: KeepalivedVirtual[];
  checkers: KeepalivedChecker[];
  vrrp: KeepalivedVrrpInstance[];
  /** why the dump is missing or partial */
  error?: string;
}

const CHECK_FILE = '/tmp/keepalived_check.data';
const VRRP_FILE = '/tmp/keepalived.data';

/**
 * POSIX sh: signal keepalived's parent (pidfile, else the oldest keepalived process) and wait up to 2 s until a
 * dump file appears, then 0.1 s for the rest. Sections: @@kdown (not running) or @@kcheck + @@kvrrp.
 */
export const KEEPALIVED_DUMP_SCRIPT = [
  `kp=$(cat /run/keepalived.pid 2>/dev/null); { [ -n "$kp" ] && kill -0 "$kp" 2>/dev/null; } || kp=$(pgrep -o -x keepalived 2>/dev/null)`,
  `if [ -z "$kp" ]; then echo '@@kdown'; else`,
  sh`  rm -f ${VRRP_FILE} ${CHECK_FILE}; kill -USR1 "$kp" 2>/dev/null`,
  // builtins only while waiting (a process costs ~0.2 s under TCG); both children write within microseconds of
  // each other, a keepalived without VRRP (or without virtual servers) writes only one of the files
  sh`  ki=0; while [ $ki -lt 40 ] && [ ! -s ${CHECK_FILE} ] && [ ! -s ${VRRP_FILE} ]; do sleep 0.05; ki=$((ki + 1)); done; sleep 0.1`,
  sh`  echo @@kcheck; cat ${CHECK_FILE} 2>/dev/null; echo @@kvrrp; cat ${VRRP_FILE} 2>/dev/null`,
  `fi`,
].join('\n');

const kv = (line: string, name: string): string | undefined => {
  const m = new RegExp(`^\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=\\s*(.*)$`).exec(line);
  return m ? m[1]!.trim() : undefined;
};
const bracketed = (s: string) => s.replace(/^\[/, '').replace(/\]$/, '');

/** keepalived names a checker's fwmark service `FWM N` whatever its family: ipvsadm's `FWM N IPv6` for an IPv6 real server. */
const fwmarkName = (name: string, real: string) => (real.includes(':') && !name.endsWith(' IPv6') ? `${name} IPv6` : name);

/** The LVS Topology and Health checkers parts of keepalived_check.data. */
function parseCheckerDump(text: string): { virtuals: KeepalivedVirtual[]; checkers: KeepalivedChecker[] } {
  const virtuals: KeepalivedVirtual[] = [];
  const checkers: KeepalivedChecker[] = [];
  let part: 'none' | 'lvs' | 'checkers' = 'none';
  let vs: (KeepalivedVirtual & { vip: string; vport: number; proto: string; fwmark?: number; v6?: boolean; group?: string }) | undefined;
  let rs: KeepalivedReal | undefined;
  // the checker being read (a group's: one per member)
  let cks: KeepalivedChecker[] = [];
  // virtual_server_group NAME → its members (VIP, port), from the group dump before the virtual servers
  const groups = new Map<string, Array<{ vip: string; port: number }>>();
  let group: Array<{ vip: string; port: number }> | undefined;
  // a group's protocol (from its virtual server), for the keys of its checkers
  const groupProto = new Map<string, string>();
  const flushVs = () => {
    // a fwmark service as ipvsadm -Ln names it: FWM 1, FWM 2 IPv6; a group: one virtual per member (IPVS has one
    // service per member, with the same real servers and checkers)
    if (vs?.group !== undefined) {
      groupProto.set(vs.group, vs.proto);
      for (const m of groups.get(vs.group) ?? []) virtuals.push({ key: `${vs.proto} ${hostPort(m.vip, m.port)}`, scheduler: vs.scheduler, reals: vs.reals });
    } else if (vs) virtuals.push({ key: vs.fwmark !== undefined ? `FWM ${vs.fwmark}${vs.v6 ? ' IPv6' : ''}` : `${vs.proto} ${hostPort(vs.vip, vs.vport)}`, scheduler: vs.scheduler, reals: vs.reals });
    vs = undefined;
    rs = undefined;
  };
  for (const line of text.split('\n')) {
    if (/^-+< LVS Topology >-+/.test(line)) { part = 'lvs'; continue; }
    if (/^-+< Health checkers >-+/.test(line)) { flushVs(); part = 'checkers'; continue; }
    if (/^-+< .* >-+/.test(line)) { flushVs(); part = 'none'; continue; }
    if (part === 'lvs') {
      const v = /^\s*VS VIP = (\S+), VPORT = (\d+)/.exec(line);
      if (v) {
        flushVs();
        vs = { key: '', vip: v[1]!, vport: Number(v[2]), proto: 'TCP', scheduler: '', reals: [] };
        continue;
      }
      const g = /^\s*Virtual Server Group = ([^,\s]+)/.exec(line);
      if (g) {
        flushVs();
        groups.set(g[1]!, (group = []));
        continue;
      }
      const member = /^\s*VIP = (\S+), VPORT = (\d+)/.exec(line);
      if (member && group && !vs) {
        group.push({ vip: member[1]!, port: Number(member[2]) });
        continue;
      }
      const vg = /^\s*VS GROUP = \[([^\]]+)\]/.exec(line);
      if (vg) {
        flushVs();
        group = undefined;
        vs = { key: '', vip: '', vport: 0, proto: 'TCP', group: vg[1]!, scheduler: '', reals: [] };
        continue;
      }
      const fw = /^\s*VS FWMARK = (\d+)/.exec(line);
      if (fw) {
        flushVs();
        vs = { key: '', vip: '', vport: 0, proto: 'TCP', fwmark: Number(fw[1]), scheduler: '', reals: [] };
        continue;
      }
      if (!vs) continue;
      const r = /^\s*RIP = (\S+), RPORT = (\d+), WEIGHT = (\d+)(?: EFF WEIGHT = (-?\d+))?/.exec(line);
      if (r) {
        rs = { address: r[1]!, port: Number(r[2]), weight: Number(r[3]), effectiveWeight: Number(r[4] ?? r[3]), alive: false, inhibitOnFailure: false };
        vs.reals.push(rs);
        continue;
      }
      if (!rs) {
        const sched = kv(line, 'lvs_sched');
        if (sched !== undefined) vs.scheduler = sched;
        const proto = kv(line, 'protocol');
        if (proto !== undefined) vs.proto = proto.toUpperCase();
        if (/^\s*Address family = inet6/.test(line)) vs.v6 = true;
        continue;
      }
      const alive = kv(line, 'alive');
      if (alive !== undefined) rs.alive = alive === '1' || alive === 'yes';
      if (/Inhibit on failure is ON/.test(line)) rs.inhibitOnFailure = true;
    } else if (part === 'checkers') {
      // `[198.18.0.100]:tcp:80 -> [198.18.0.21]:tcp:80`; a fwmark service's `FWM 1 -> [198.18.0.21]:tcp:0`
      // a group's `[web-multi]:0 -> [198.18.0.21]:tcp:80`: one checker per member (they share it)
      const h = /^\s*(?:\[([^\]]+)\]:(\w+):(\d+)|(FWM \d+(?: IPv6)?)|\[([^\]]+)\]:(\d+)) -> \[([^\]]+)\]:\w+:(\d+)/.exec(line);
      if (h) {
        const real = hostPort(h[7]!, Number(h[8]));
        const services = h[5] !== undefined
          ? (groups.get(h[5]) ?? []).map((m) => `${groupProto.get(h[5]!) ?? 'TCP'} ${hostPort(m.vip, m.port)}`)
          : [h[4] !== undefined ? fwmarkName(h[4], h[7]!) : `${h[2]!.toUpperCase()} ${hostPort(h[1]!, Number(h[3]))}`];
        cks = services.map((service) => ({ service, real, up: false, hasRun: false, method: '' }));
        checkers.push(...cks);
        continue;
      }
      if (cks.length === 0) continue;
      const set = (f: (c: KeepalivedChecker) => void) => { for (const c of cks) f(c); };
      const up = kv(line, 'Up');
      if (up !== undefined) set((c) => { c.up = up === 'yes'; });
      const run = kv(line, 'Has run');
      if (run !== undefined) set((c) => { c.hasRun = run === 'yes'; });
      const method = kv(line, 'Keepalive method');
      if (method !== undefined) set((c) => { c.method = method.split(',')[0]!.trim(); });
      const url = kv(line, 'Checked url');
      if (url !== undefined) set((c) => { c.url = url; });
      const dest = kv(line, 'Dest');
      if (dest !== undefined && cks[0]!.dest === undefined) {
        const m = /^\[([^\]]+)\]:(\d+)/.exec(dest);
        set((c) => { c.dest = m ? `${m[1]}:${m[2]}` : bracketed(dest); });
      }
    }
  }
  flushVs();
  return { virtuals, checkers };
}

/** The VRRP Topology part of keepalived.data: each instance's state. */
function parseVrrpDump(text: string): KeepalivedVrrpInstance[] {
  const out: KeepalivedVrrpInstance[] = [];
  let cur: KeepalivedVrrpInstance | undefined;
  let inVips = false;
  for (const line of text.split('\n')) {
    const i = /^\s*VRRP Instance = (\S+)/.exec(line);
    if (i) {
      cur = { name: i[1]!, state: '' };
      out.push(cur);
      continue;
    }
    if (/^-+< .* >-+/.test(line) && !/VRRP Topology/.test(line)) cur = undefined;
    if (!cur) continue;
    const st = kv(line, 'State');
    if (st !== undefined && !cur.state) cur.state = st;
    const lt = kv(line, 'Last transition');
    if (lt !== undefined) {
      const n = Number(lt.split(/\s+/)[0]);
      if (Number.isFinite(n)) cur.lastTransition = n;
    }
    // "   Virtual IP (3):" then one "     198.18.0.100 dev eth1 scope global set" line per address
    const addr = /^\s+([0-9a-fA-F.:]+)(?:\/\d+)? dev /.exec(line);
    if (/^\s*Virtual IP \(\d+\):/.test(line)) {
      cur.vips = [];
      inVips = true;
    } else if (inVips && addr) cur.vips!.push(addr[1]!);
    else inVips = false;
  }
  return out;
}

/** The output of KEEPALIVED_DUMP_SCRIPT (its sections may sit among other sections of a larger script). */
export function parseKeepalivedDump(stdout: string): KeepalivedDump {
  const s = splitSections(stdout);
  if (section(s, 'kdown')) return { running: false, virtuals: [], checkers: [], vrrp: [] };
  const check = section(s, 'kcheck');
  const vrrp = section(s, 'kvrrp');
  if (!check && !vrrp) return { running: false, virtuals: [], checkers: [], vrrp: [], error: 'no keepalived data dump in the output' };
  const c = parseCheckerDump(check?.lines.join('\n') ?? '');
  const v = parseVrrpDump(vrrp?.lines.join('\n') ?? '');
  const empty = !check?.lines.length && !vrrp?.lines.length;
  return { running: true, ...c, vrrp: v, ...(empty ? { error: 'keepalived wrote no data dump within 2 s' } : {}) };
}

/** keepalived's checker and VRRP view (its data dump), for steps that must not fight keepalived. */
export const keepalivedDumpFact: Fact<KeepalivedDump> = {
  key: 'keepalived-dump',
  command: KEEPALIVED_DUMP_SCRIPT,
  parse: (stdout) => parseKeepalivedDump(stdout),
};

/** The checker of one real server of a service, and the words an operator reads: "HTTP_GET http://…/healthz". */
export function checkerOf(dump: KeepalivedDump | undefined, service: string, real: string): KeepalivedChecker | undefined {
  return dump?.checkers.find((c) => c.service === service && c.real === real);
}

export function describeChecker(c: KeepalivedChecker): string {
  const dest = c.dest ?? c.real;
  if (c.method === 'HTTP_GET' || c.method === 'SSL_GET') return `${c.method} ${c.method === 'SSL_GET' ? 'https' : 'http'}://${dest}${c.url ?? '/'}`;
  if (c.method === 'TCP_CHECK') return `TCP_CHECK connect ${dest}`;
  return `${c.method || 'check'} ${dest}`;
}
