/**
 * The lab's record of what it created. Written *before* anything is created (the namespace names) and completed
 * after (pids with their start times), so that `lab down` works after a crash and never touches anything else:
 * a pid is killed only when its start time and command still match the record.
 */
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import type { LabPaths } from './paths.ts';

export interface ProcRecord {
  role: 'host' | 'jump' | 'vm';
  name: string; // host name, '-' for the jump/vm
  pid: number;
  /** /proc/PID/stat field 22 (clock ticks since boot): pid + start time identify one process for its lifetime */
  start: string;
}

export interface HostRecord {
  name: string;
  mgmt: string;
  ns: string;
}

export interface LabState {
  version: 1;
  id: string;
  tier: 'ns' | 'vm';
  inventory: string;
  topologyHash: string;
  jumpPort: number;
  /** namespaces on this machine that the lab created (tier 1); empty for the VM tier */
  namespaces: string[];
  hosts: HostRecord[];
  procs: ProcRecord[];
  phase: 'building' | 'up';
  startedAt: string;
  upSeconds?: number;
  vm?: { consoleLog: string; share: string };
}

export function readState(p: LabPaths): LabState | undefined {
  if (!existsSync(p.stateFile)) return undefined;
  const s = JSON.parse(readFileSync(p.stateFile, 'utf8')) as LabState;
  // pids the up script recorded but lvsplay never merged (it crashed mid-way)
  return { ...s, procs: mergeProcs(s.procs, readPidsFile(p.pidsFile)) };
}

export function writeState(p: LabPaths, s: LabState): void {
  const tmp = `${p.stateFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, p.stateFile);
}

/** Lines `ROLE NAME PID START` appended by the up script. */
export function readPidsFile(file: string): ProcRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 4 && /^\d+$/.test(f[2]))
    .map(([role, name, pid, start]) => ({ role: role as ProcRecord['role'], name, pid: Number(pid), start }));
}

function mergeProcs(a: ProcRecord[], b: ProcRecord[]): ProcRecord[] {
  const key = (r: ProcRecord) => `${r.pid}:${r.start}`;
  const seen = new Set(a.map(key));
  return [...a, ...b.filter((r) => !seen.has(key(r)))];
}

/** Start time of a live process, or undefined when it is gone. */
export function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Is this exactly the process we recorded (not a later process that reused the pid)? */
export function isOurs(r: ProcRecord): boolean {
  return procStart(r.pid) === r.start;
}

/** Direct children of a process (the PID 1 of a host is the child of its unshare). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
