/**
 * The directors' IPVS connection entries of the probes (`ipvsadm -Lnc`), read only when the cross-check falls short.
 *
 * Why: IPVS counts a connection as new (the Conns counter) only when it creates an entry. A SYN whose client port
 * matches an entry still in the table (FIN_WAIT, CLOSE_WAIT … from an earlier connection that used the same port:
 * the vantage's kernel hands ports out again after a few thousand connections to one VIP) is forwarded on that
 * entry, to its real server, without a new count. Such a probe went through the director all the same. Its entry
 * outlives the probe (the FIN_WAIT/TIME_WAIT timeouts are minutes), so after the probes each answered probe either
 * has an entry on some director (it went through) or none (it bypassed the directors). Pure, but for the script.
 */
import { q } from '../shell.ts';
import { hostPort } from '../facts/netaddr.ts';

export interface ConnEntry {
  protocol: string;
  state: string;
  /** client address and port */
  client: string;
  clientPort: number;
  /** 'VIP:PORT' as ipvsadm prints it ([v6]:port) */
  virtual: string;
  /** the real server 'ADDR:PORT' the entry forwards to */
  dest: string;
}

export interface ConnQuery {
  protocol: string;
  vip: string;
  /** the VIP's ports probed (a fwmark service: several) */
  ports: number[];
  /** the probes' client ports */
  clientPorts: number[];
}

/** Only the entries of the queried services and client ports leave the director (a busy VIP has millions). */
export function connEntriesScript(queries: readonly ConnQuery[]): string {
  return `ipvsadm -Lnc 2>/dev/null | ${connEntriesFilter(queries)}`;
}

/** The awk filter of connEntriesScript: `ipvsadm -Lnc` on stdin, the queried entries on stdout. */
export function connEntriesFilter(queries: readonly ConnQuery[]): string {
  const want = queries.flatMap((c) => c.ports.flatMap((vp) => c.clientPorts.map((p) => `${c.protocol.toUpperCase()}|${hostPort(c.vip, vp)}|${p}`)));
  const awk = `BEGIN { n = split(want, a, " "); for (i = 1; i <= n; i++) w[a[i]] = 1 } NR > 2 { p = $4; sub(/.*:/, "", p); if (($1 "|" $5 "|" p) in w) print }`;
  return `awk -v want=${q(want.join(' '))} ${q(awk)}`;
}

/** Lines of `ipvsadm -Lnc` ("TCP 01:58  FIN_WAIT    198.18.0.50:51234  198.18.0.100:80    198.18.0.22:80"). */
export function parseConnEntries(text: string): ConnEntry[] {
  const out: ConnEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !/^(TCP|UDP|SCTP)$/.test(f[0]!)) continue;
    const m = /^(.*):(\d+)$/.exec(f[3]!);
    if (!m) continue;
    out.push({ protocol: f[0]!, state: f[2]!, client: m[1]!.replace(/^\[|\]$/g, ''), clientPort: Number(m[2]), virtual: f[4]!, dest: f[5]! });
  }
  return out;
}

/**
 * Of `ports` (answered probes' client ports), how many have an entry for one of `virtuals` forwarding to `dest` on
 * some director. A port matched by another client's entry would be over-counted: the vantage's address is not known
 * to the snapshot, and such a collision within minutes is rare. A fwmark service's real server is `ADDR:0` in the
 * table; its entries name the port the packet kept.
 */
export function throughDirectors(ports: readonly number[], virtuals: readonly string[], dest: string, entries: Iterable<readonly ConnEntry[]>): number {
  const have = new Set<number>();
  const anyPort = dest.endsWith(':0') ? dest.slice(0, -2) : undefined;
  const to = (d: string) => d === dest || (anyPort !== undefined && d.replace(/:\d+$/, '') === anyPort);
  for (const list of entries) for (const e of list) if (virtuals.includes(e.virtual) && to(e.dest)) have.add(e.clientPort);
  return ports.filter((p) => have.has(p)).length;
}
