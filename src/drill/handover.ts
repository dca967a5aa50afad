/**
 * Hand a VRRP instance over to its backup through keepalived itself (src/cluster/handover.ts: the instance's
 * tracked file), and back. Shared by `drill failover --mode handover` and `lvsplay handover`.
 */
import type { Connection } from '../transport/types.ts';
import { q } from '../shell.ts';
import { UsageError } from '../errors.ts';
import { CONTROL_EXEC_TIMEOUT_MS } from './exec-timeouts.ts';
import { HANDOVER_DIR, handoverFile, handoverValue } from '../cluster/handover.ts';

/**
 * The script lowering `instance`'s priority on one member. It refuses (exit 3) when the running keepalived
 * configuration does not track the file (a director converged before handover tracking existed): writing it would
 * change nothing and the drill would wait for a takeover that never comes.
 */
export function handoverScript(instance: string, nopreempt: boolean, configDir = '/etc/keepalived'): string {
  const f = handoverFile(instance);
  return [
    `f=${q(f)}`,
    `grep -rqsF "file \\"$f\\"" ${q(configDir)} && [ -d ${q(HANDOVER_DIR)} ] || { echo "keepalived does not track $f: converge the director with lvsplay run first (its role adds the handover tracker)" >&2; exit 3; }`,
    `printf '%s\\n' ${handoverValue(nopreempt)} > "$f"`,
  ].join('\n');
}

/** The script giving the priority back (keepalived reads a removed tracked file as 0). */
export function handBackScript(instance: string): string {
  return `rm -f ${q(handoverFile(instance))}`;
}

/** Is a handover of `instance` in effect on this member? (the file holds a non-zero number) */
export function handoverStateScript(instance: string): string {
  return `v=$(cat ${q(handoverFile(instance))} 2>/dev/null) || v=0; echo "handover=\${v:-0}"`;
}

async function run(conn: Connection, host: string, script: string, what: string): Promise<void> {
  const r = await conn.exec(script, { timeoutMs: CONTROL_EXEC_TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`${host}: ${what} failed: ${(r.stderr.trim() || r.stdout.trim()).slice(0, 300)}`);
}

export function handOver(conn: Connection, host: string, instance: string, nopreempt: boolean): Promise<void> {
  return run(conn, host, handoverScript(instance, nopreempt), `handover of ${instance}`);
}

export function handBack(conn: Connection, host: string, instance: string): Promise<void> {
  return run(conn, host, handBackScript(instance), `giving ${instance}'s priority back`);
}

export interface HandoverPlan {
  instance: string;
  vip: string;
  nopreempt: boolean;
  /** members by priority, highest first */
  members: Array<{ host: string; priority: number }>;
}

/**
 * Which instances `lvsplay handover` moves (or gives back with `back`), validated before any host is touched:
 * every named instance exists with two or more members, and (--limit) every member the command may write to is
 * inside the limit. No name with `back`: every instance.
 */
export function planHandover(pairs: ReadonlyArray<{ instance: string; vips: string[]; nopreempt: boolean; members: Array<{ host: string; priority: number }> }>, names: string[], o: { back: boolean; limit?: string[] }): HandoverPlan[] {
  const known = pairs.map((p) => p.instance);
  if (!o.back && names.length === 0) throw new UsageError(`handover: name the VRRP instance to move (instances: ${known.join(', ') || 'none'}), or --back`);
  for (const n of names) if (!known.includes(n)) throw new UsageError(`handover: no VRRP instance "${n}" with two or more members (instances: ${known.join(', ') || 'none'})`);
  const chosen = pairs.filter((p) => (names.length ? names.includes(p.instance) : true));
  if (o.limit) {
    for (const p of chosen) {
      const outside = p.members.map((m) => m.host).filter((h) => !o.limit!.includes(h));
      if (outside.length) throw new UsageError(`handover: --limit leaves out ${outside.join(', ')}, member(s) of ${p.instance}: a handover reads and may write every member (widen --limit)`);
    }
  }
  return chosen.map((p) => ({ instance: p.instance, vip: p.vips[0]!, nopreempt: p.nopreempt, members: p.members }));
}
