/**
 * keepalived's LVS and VRRP tuning options (keepalived.conf(5), keepalived 2.2.7), as zod shapes spread into the
 * cluster schemas: a virtual service's quorum, alpha/omega, inhibit_on_failure, scheduler flags and one-packet
 * scheduling; a VRRP instance's preempt_delay and gratuitous ARP timing; lvs_vrrp's max_auto_priority and the sync
 * daemon's id and maxlen; the IPVS sysctl conn_reuse_mode.
 */
import * as z from 'zod';

const commandLine = z.string().regex(/^\/[^"\n\\]*$/, { error: 'must be a command starting with an absolute path, without " or newlines' });

/** ipvsadm -b flags keepalived sets with the keyword of the same name (sh-*: scheduler sh, mh-*: scheduler mh). */
export const SCHEDULER_FLAGS = ['sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'] as const;

/** Options of an lvs_services entry (virtual_server). */
export const serviceOptionsShape = {
  /** minimum sum of the weights of the live real servers; below it the service is down (sorry_server, quorum_down) */
  quorum: z.number().int().min(1).max(65535 * 256).optional(),
  /** quorum is gained at quorum + hysteresis and lost below quorum - hysteresis (a flap dampener) */
  hysteresis: z.number().int().min(0).max(65535).optional(),
  /** run when the quorum is gained / lost */
  quorum_up: commandLine.optional(),
  quorum_down: commandLine.optional(),
  /** every real server starts down until its check passes (no traffic to an unchecked server after a start) */
  alpha: z.boolean().default(false),
  /** on shutdown, run quorum_down and the servers' down notifications */
  omega: z.boolean().default(false),
  /** a failing real server stays in the table with weight 0 instead of being removed (its connections drain) */
  inhibit_on_failure: z.boolean().default(false),
  /** scheduler flags (ipvsadm -b): sh-port, sh-fallback for sh; mh-port, mh-fallback for mh */
  scheduler_flags: z.array(z.enum(SCHEDULER_FLAGS, { error: `scheduler flags are ${SCHEDULER_FLAGS.join(', ')}` })).default([]),
  /** one-packet scheduling (ipvsadm -o): every UDP datagram is scheduled on its own; UDP only */
  ops: z.boolean().default(false),
};

/** Options of a VRRP instance. */
export const vrrpInstanceOptionsShape = {
  /**
   * seconds to wait before taking over from a lower-priority master at start-up (0-1000). keepalived honours it only
   * when the initial state is not MASTER, so an instance with a preempt_delay starts BACKUP on every member.
   */
  preempt_delay: z.number().int().min(0).max(1000).optional(),
  /** seconds after becoming MASTER before the second burst of gratuitous ARPs (0: none; keepalived's default 5) */
  garp_master_delay: z.number().int().min(0).max(255).optional(),
  /** resend gratuitous ARPs every N seconds while MASTER (0: never, the default) */
  garp_master_refresh: z.number().int().min(0).max(86400).optional(),
};

/** Options of lvs_vrrp as a whole (global_defs). */
export const vrrpGlobalOptionsShape = {
  /**
   * let keepalived raise its own realtime scheduling priority up to this (1-99) when its timers run late, so VRRP
   * adverts keep their pace on a loaded director; -1 disables the start-up warning without raising it
   */
  max_auto_priority: z.number().int().min(-1).max(99).optional(),
};

/** Options of lvs_vrrp.lvs_sync_daemon besides interface and instance. */
export const syncDaemonOptionsShape = {
  /** syncid (0-255): directors of different clusters on one segment must differ */
  id: z.number().int().min(0).max(255).optional(),
  /** largest sync message in bytes (Linux 4.3+); keep it below the interface MTU minus headers */
  maxlen: z.number().int().min(1).max(65507).optional(),
};

/**
 * net.ipv4.vs.conn_reuse_mode: 0, 1 (the kernel's default) or 2. With conntrack=1 (node-svc) on kernels before 5.9,
 * 1 drops the SYN of a reused client port for a second: set 0 there, as kube-proxy does.
 */
export const CONN_REUSE_MODE = 'net.ipv4.vs.conn_reuse_mode';
export function connReuseModeProblem(key: string, value: number): string | undefined {
  return key === CONN_REUSE_MODE && ![0, 1, 2].includes(value) ? `${key} is 0, 1 or 2 (0 on kernels before 5.9 when conntrack=1, as kube-proxy does)` : undefined;
}
