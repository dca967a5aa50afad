/** The result of verifying one service: an event of the run (output/events.ts), a row of the recap and the report. */
export interface VerifyRecord {
  service: string;
  expected: Record<string, number>;
  observed: Record<string, number>;
  /** false only for FAIL (a DEGRADED service passes: exit 0) */
  pass: boolean;
  detail?: string;
  /** the fields below are filled by src/verify (docs/verification.md) */
  /** PASS, FAIL, or DEGRADED: a declared real server is down and the operator accepted it (--allow-down, allowDown, maxDown) */
  verdict?: 'PASS' | 'FAIL' | 'DEGRADED';
  /** declared real servers not serving on the active director, with the cause; allowed: accepted as degraded */
  down?: Array<{ backend: string; reason: string; allowed: boolean }>;
  /** real servers taken out by `lvsplay drain` (accepted: DEGRADED) */
  drained?: string[];
  /** 'VIP:port' ('[fd00:18::100]:80' for IPv6) */
  vip?: string;
  /** address family of the service (its VIP's): 4 or 6 */
  family: 4 | 6;
  /** the service's protocol (a UDP service is probed with datagrams) */
  protocol?: 'TCP' | 'UDP';
  /** a fwmark service's mark (its `vip` reads `VIP:80,443`) */
  fwmark?: number;
  /** a fwmark service: the probes of each of its ports, and which real servers answered them */
  ports?: Array<{ port: number; probes: number; failed: number; backends: Record<string, number> }>;
  scheduler?: string;
  /** the statistical rule applied: shares (chi-square), sticky, reach-all */
  rule?: 'shares' | 'sticky' | 'reach-all';
  vantage?: string;
  /** the director holding the VIP (null: none; several: split brain, see reasons) */
  master?: string | null;
  probes?: number;
  failed?: number;
  /** chi-square p-value (rule shares) */
  p?: number;
  /** director: new connections the service's directors counted to it (summed over every director) */
  rows?: Array<{ backend: string; expected: number; observed: number; count: number; verdict: string; director?: number }>;
  /** new connections per director during the probe window (the cross-check sums them) */
  directorConns?: Record<string, number>;
  /** VIP holder changes seen during the probe window */
  vipMoves?: Array<{ from: string | null; to: string | null; between: [string, string]; became?: { host: string; instance: string; at: string; clockOffsetMs?: number } }>;
  reasons?: string[];
  notes?: string[];
}
