/**
 * Tier 1: the namespace fleet on this machine. Builds it by running the generated up script, tears it down from
 * the state record (kill what we started, delete the namespaces we created, remove the per-host dirs).
 */
import { existsSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, runOk, LabError } from './run.ts';
import { nsNames, type LabPaths } from './paths.ts';
import { upScript, type FleetContext } from './scripts.ts';
import { childPids, isOurs, readPidsFile, type ProcRecord } from './state.ts';
import type { LabTopology } from './topology.ts';

export function fleetNamespaces(t: LabTopology, id: string): string[] {
  const ns = nsNames(id);
  return [ns.switch, ns.ctl, ...t.hosts.map((h) => ns.host(h.name))];
}

export function machineFleetContext(p: LabPaths, t: LabTopology): FleetContext {
  return {
    binDir: p.binDir,
    sshDir: p.sshDir,
    hostsDir: p.hostsDir,
    pidsFile: p.pidsFile,
    logFile: p.logFile,
    jumpListen: '127.0.0.1',
    jumpPort: t.jump.port,
    jumpReady: path.join(p.dir, 'jump.ready'),
    readyTimeout: 60,
  };
}

/** Build the fleet on this machine. Returns the processes started (also in the pids file, written as they start). */
export async function fleetUp(p: LabPaths, t: LabTopology): Promise<ProcRecord[]> {
  const ctx = machineFleetContext(p, t);
  rmSync(p.pidsFile, { force: true });
  rmSync(ctx.jumpReady, { force: true });
  const script = upScript(t, p.id, ctx);
  const file = path.join(p.binDir, 'up.sh');
  writeFileSync(file, script, { mode: 0o700 });
  const r = await run('/bin/sh', [file], { timeoutMs: (ctx.readyTimeout + 60) * 1000 });
  if (r.code !== 0) throw new LabError(`building the lab failed (exit ${r.code}):\n${(r.stderr || r.stdout).trim().slice(-3000)}`);
  // the script waited for the jump's ready file; make sure the recorded jump is the process that wrote it
  const procs = readPidsFile(p.pidsFile);
  const jump = procs.find((x) => x.role === 'jump');
  if (!jump || !isOurs(jump) || !existsSync(ctx.jumpReady)) {
    throw new LabError(`the lab jump host did not start on 127.0.0.1:${t.jump.port}; see ${p.logFile}` +
      `\n  (is port ${t.jump.port} in use? choose another in ansible_ssh_common_args)`);
  }
  return procs;
}

/** Kill the recorded processes that are still ours and wait until they (and their PID 1 children) are gone. */
export async function killProcs(procs: ProcRecord[]): Promise<number> {
  const ours = procs.filter(isOurs);
  const waitFor = new Set<number>();
  for (const r of ours) {
    for (const c of childPids(r.pid)) waitFor.add(c);
    waitFor.add(r.pid);
    // unshare --fork ignores SIGTERM; SIGKILL it, and --kill-child takes the host's pid namespace with it
    try {
      process.kill(r.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (let i = 0; i < 400 && [...waitFor].some((pid) => existsSync(`/proc/${pid}`)); i++) await sleep(25);
  const left = [...waitFor].filter((pid) => existsSync(`/proc/${pid}`));
  if (left.length) throw new LabError(`lab processes did not exit after SIGKILL: ${left.join(' ')}`);
  return ours.length;
}

/** Delete the lab's namespaces that exist (never one without this lab's prefix). */
export async function deleteNamespaces(names: string[], id: string): Promise<string[]> {
  const prefix = `lvp-${id}`;
  const existing = new Set(existsSync('/run/netns') ? readdirSync('/run/netns') : []);
  const del = names.filter((n) => n.startsWith(prefix) && existing.has(n));
  if (del.length === 0) return [];
  await runOk('ip', ['-batch', '-'], { input: del.map((n) => `netns del ${n}`).join('\n') + '\n', what: 'deleting lab namespaces' });
  return del;
}

export async function fleetDown(p: LabPaths, procs: ProcRecord[], namespaces: string[]): Promise<{ killed: number; namespaces: string[] }> {
  const killed = await killProcs(procs);
  const deleted = await deleteNamespaces(namespaces, p.id);
  rmSync(p.hostsDir, { recursive: true, force: true });
  rmSync(p.pidsFile, { force: true });
  rmSync(path.join(p.dir, 'jump.ready'), { force: true });
  return { killed, namespaces: deleted };
}
