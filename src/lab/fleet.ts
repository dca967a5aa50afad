/**
 * Tier 1: the namespace fleet on this machine. Builds it by running the generated up script, tears it down from
 * the state record (kill what we started, delete the namespaces we created, remove the per-host dirs).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, runOk, LabError } from './run.ts';
import { nsNames, type LabPaths } from './paths.ts';
import { labCgroupPrefix, upScript, type FleetContext } from './scripts.ts';
import { childPids, isOurs, readPidsFile, type ProcRecord } from './state.ts';
import type { LabTopology } from './topology.ts';

export function fleetNamespaces(t: LabTopology, id: string): string[] {
  const ns = nsNames(id);
  return [ns.switch, ns.ctl, ...t.hosts.map((h) => ns.host(h.name))];
}

function machineFleetContext(p: LabPaths, t: LabTopology): FleetContext {
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

/** Where the cgroup2 hierarchy is mounted on this machine (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid). */
function cgroup2Mount(): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.startsWith('cgroup2 ')) return pre!.split(' ')[4];
  }
  return undefined;
}

/**
 * Remove the cgroups of this lab's systemd hosts (lvsplay-ID-HOST and what systemd made under it), deepest first,
 * once their processes are gone. Without a cgroup2 mount on the machine, one is mounted for the cleanup only.
 */
async function removeCgroups(id: string): Promise<number> {
  let root = cgroup2Mount();
  let tmp: string | undefined;
  if (!root) {
    tmp = mkdtempSync(path.join(tmpdir(), 'lvsplay-cgroup-'));
    if ((await run('mount', ['-t', 'cgroup2', 'cgroup2', tmp])).code !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      return 0;
    }
    root = tmp;
  }
  try {
    const tops = readdirSync(root).filter((n) => n.startsWith(labCgroupPrefix(id))).map((n) => path.join(root!, n));
    const dirs: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
      dirs.push(d); // children before their parent
    };
    tops.forEach(walk);
    for (const d of dirs) {
      // a cgroup can be removed once its last process has been reaped: wait a little for the killed ones
      for (let i = 0; ; i++) {
        try {
          rmdirSync(d);
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
          if (i >= 200) throw new LabError(`cannot remove the lab cgroup ${d}: ${(e as Error).message}`);
          await sleep(25);
        }
      }
    }
    return tops.length;
  } finally {
    if (tmp) {
      await run('umount', [tmp]);
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}

export async function fleetDown(p: LabPaths, procs: ProcRecord[], namespaces: string[]): Promise<{ killed: number; namespaces: string[] }> {
  const killed = await killProcs(procs);
  await removeCgroups(p.id);
  const deleted = await deleteNamespaces(namespaces, p.id);
  rmSync(p.hostsDir, { recursive: true, force: true });
  rmSync(p.pidsFile, { force: true });
  rmSync(path.join(p.dir, 'jump.ready'), { force: true });
  return { killed, namespaces: deleted };
}
