/**
 * Hand a VRRP instance over to its backup through keepalived itself (roles/lib/handover.ts: the instance's
 * tracked file), and back. Shared by `drill failover --mode handover` and `lvsplay handover`.
 */
import type { Connection } from '../transport/types.ts';
import { q } from '../shell.ts';
import { HANDOVER_DIR, handoverFile, handoverValue } from '../../roles/lib/handover.ts';

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
  const r = await conn.exec(script, { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`${host}: ${what} failed: ${(r.stderr.trim() || r.stdout.trim()).slice(0, 300)}`);
}

export function handOver(conn: Connection, host: string, instance: string, nopreempt: boolean): Promise<void> {
  return run(conn, host, handoverScript(instance, nopreempt), `handover of ${instance}`);
}

export function handBack(conn: Connection, host: string, instance: string): Promise<void> {
  return run(conn, host, handBackScript(instance), `giving ${instance}'s priority back`);
}
