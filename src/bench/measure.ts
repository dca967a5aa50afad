/**
 * Run a child process and measure its wall time and the controller CPU it cost: user + system time of the child
 * *and everything it started*, including processes that outlive it (Ansible's ControlPersist ssh masters detach
 * from ansible-playbook, so the child's rusage alone would miss the SSH crypto).
 *
 * How: the child is started inside a fresh cgroup (v1 cpuacct or v2 cpu.stat), which every descendant inherits;
 * after the child exits, whatever is left in the cgroup (the ssh masters) is killed by pid and the cgroup's CPU
 * total read. Without a usable cgroup, the fallback is the rusage of waited-for children (`times` of a wrapper
 * shell) plus /proc/PID/stat of the leftovers found by a marker string in their command line.
 *
 * Peak memory: every 100 ms, the sum of the proportional set sizes (PSS, /proc/PID/smaps_rollup: shared pages
 * split between the processes sharing them, so Ansible's forked workers are not counted n times) of every process
 * of the run (the cgroup's, or the child's tree); the largest sum is reported.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';

export interface MeasureOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stdout + stderr of the child go here */
  logFile: string;
  timeoutMs: number;
  /** fallback only: a string in the command line of detached leftovers (e.g. the ssh ControlPath dir) */
  leftoverMarker?: string;
  /** 'rusage': use the fallback even where a cgroup is available (tests) */
  cpu?: 'auto' | 'rusage';
}

export interface MeasureResult {
  code: number;
  wall_s: number;
  cpu_s: number;
  /** leftover processes killed after the child exited */
  leftovers: number;
  /** the largest sampled sum of PSS over the run's processes, MiB */
  peak_mb: number;
}

const SAMPLE_MS = 100;

/** PSS of one process in KiB (0 when it is gone or unreadable). */
function pssKiB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Samples the memory of `pids()` until stopped; returns the peak in MiB. */
function memorySampler(pids: () => number[]): { stop(): number } {
  let peak = 0;
  const sample = () => {
    const kib = pids().reduce((sum, pid) => sum + pssKiB(pid), 0);
    if (kib > peak) peak = kib;
  };
  const timer = setInterval(sample, SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      return Math.round((peak / 1024) * 10) / 10;
    },
  };
}

type CpuMethod =
  | { kind: 'cgroup-v1'; root: string }
  | { kind: 'cgroup-v2'; root: string }
  | { kind: 'rusage' };

let method: CpuMethod | undefined;

/** Which accounting this machine allows; probed once by creating and removing a cgroup. */
export function cpuMethod(): CpuMethod {
  if (method) return method;
  const mounts = existsSync('/proc/mounts') ? readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')) : [];
  const candidates: CpuMethod[] = [];
  for (const [, dir, type, opts] of mounts) {
    if (type === 'cgroup' && opts?.split(',').includes('cpuacct')) candidates.push({ kind: 'cgroup-v1', root: dir! });
  }
  for (const [, dir, type] of mounts) if (type === 'cgroup2') candidates.push({ kind: 'cgroup-v2', root: dir! });
  for (const c of candidates) {
    if (c.kind === 'rusage') continue;
    const probe = path.join(c.root, `lvsplay-bench-probe-${process.pid}`);
    try {
      mkdirSync(probe);
      const ok = existsSync(path.join(probe, c.kind === 'cgroup-v1' ? 'cpuacct.usage' : 'cpu.stat'));
      rmdirSync(probe);
      if (ok) return (method = c);
    } catch {
      // not writable here: try the next one
    }
  }
  return (method = { kind: 'rusage' });
}

export function describeCpuMethod(m: CpuMethod = cpuMethod()): string {
  return m.kind === 'rusage'
    ? 'rusage of the child tree plus /proc/PID/stat of detached ssh masters'
    : `a cgroup per run (${m.kind === 'cgroup-v1' ? 'cgroup v1 cpuacct' : 'cgroup v2 cpu.stat'}), detached ssh masters included`;
}

let seq = 0;

export async function measure(cmd: string, args: string[], o: MeasureOptions): Promise<MeasureResult> {
  const m: CpuMethod = o.cpu === 'rusage' ? { kind: 'rusage' } : cpuMethod();
  const out = openSync(o.logFile, 'w');
  try {
    return m.kind === 'rusage' ? await measureRusage(cmd, args, o, out) : await measureCgroup(m, cmd, args, o, out);
  } finally {
    closeSync(out);
  }
}

interface Exit {
  code: number;
  wall_s: number;
  peak_mb: number;
}

/** `memoryOf`: the processes whose memory is sampled, given the child's pid (default: the child's tree). */
function runChild(argv: string[], o: MeasureOptions, stdio: Array<'ignore' | number>, memoryOf: (pid: number) => number[] = descendantsAndSelf): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { cwd: o.cwd, env: o.env, stdio });
    const memory = memorySampler(() => (child.pid ? memoryOf(child.pid) : []));
    // on timeout the whole tree goes (the rusage wrapper shell does not exec the tool)
    const timer = setTimeout(() => {
      for (const pid of descendantsAndSelf(child.pid!).reverse()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }, o.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      memory.stop();
      reject(e);
    });
    // 'exit', not 'close': detached descendants may hold inherited descriptors open long after the child is gone
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const wall_s = (performance.now() - t0) / 1000;
      resolve({ code: code ?? (signal ? 128 : -1), wall_s, peak_mb: memory.stop() });
    });
  });
}

async function measureCgroup(m: Extract<CpuMethod, { root: string }>, cmd: string, args: string[], o: MeasureOptions, out: number): Promise<MeasureResult> {
  const cg = path.join(m.root, `lvsplay-bench-${process.pid}-${++seq}`);
  mkdirSync(cg);
  try {
    // the shell joins the cgroup, then execs the tool: the tool and all its descendants are accounted there
    const wrapper = ['/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg, cmd, ...args];
    const exit = await runChild(wrapper, o, ['ignore', out, out], () => cgroupPids(cg));
    const leftovers = await killCgroup(cg);
    return { ...exit, cpu_s: cgroupCpu(m, cg), leftovers };
  } finally {
    await killCgroup(cg).catch(() => 0);
    try {
      rmdirSync(cg);
    } catch {
      // a process we could not kill keeps it; the name says whose it is
    }
  }
}

function cgroupPids(cg: string): number[] {
  try {
    return readFileSync(path.join(cg, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Kill what is left in the cgroup (only processes our child started) and wait until it is empty. */
async function killCgroup(cg: string): Promise<number> {
  const first = cgroupPids(cg);
  let pids = first;
  for (let i = 0; pids.length > 0 && i < 100; i++) {
    for (const pid of pids) {
      try {
        process.kill(pid, i < 20 ? 'SIGTERM' : 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 50));
    pids = cgroupPids(cg);
  }
  if (pids.length) throw new Error(`bench: processes ${pids.join(' ')} in ${cg} did not exit`);
  return first.length;
}

function cgroupCpu(m: Extract<CpuMethod, { root: string }>, cg: string): number {
  if (m.kind === 'cgroup-v1') return Number(readFileSync(path.join(cg, 'cpuacct.usage'), 'utf8').trim()) / 1e9;
  const stat = readFileSync(path.join(cg, 'cpu.stat'), 'utf8');
  const usec = /^usage_usec (\d+)$/m.exec(stat);
  if (!usec) throw new Error(`bench: no usage_usec in ${cg}/cpu.stat`);
  return Number(usec[1]) / 1e6;
}

/** dash/bash `times`: the second line is the children's user and system time, e.g. `0m1.230000s 0m0.450000s`. */
export function parseTimes(text: string): number {
  const line = text.trim().split('\n')[1];
  const m = line ? /^(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s$/.exec(line.trim()) : null;
  if (!m) throw new Error(`bench: cannot read the shell's times output: ${JSON.stringify(text)}`);
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
}

async function measureRusage(cmd: string, args: string[], o: MeasureOptions, out: number): Promise<MeasureResult> {
  // `times` goes to a file, not a pipe: a pipe would be inherited by detached descendants and held open
  const timesFile = `${o.logFile}.times`;
  const wrapper = ['/bin/sh', '-c', 't=$1; shift; "$@"; rc=$?; times > "$t"; exit $rc', 'sh', timesFile, cmd, ...args];
  const exit = await runChild(wrapper, o, ['ignore', out, out]);
  // a child killed on timeout takes the wrapper with it: no times line, no CPU figure
  let cpu = existsSync(timesFile) ? parseTimes(readFileSync(timesFile, 'utf8')) : Number.NaN;
  rmSync(timesFile, { force: true });
  let leftovers = 0;
  if (o.leftoverMarker) {
    const tree = pidsWithMarker(o.leftoverMarker).flatMap(descendantsAndSelf);
    for (const pid of new Set(tree)) {
      cpu += procCpu(pid);
      try {
        process.kill(pid, 'SIGKILL');
        leftovers++;
      } catch {
        // gone meanwhile
      }
    }
  }
  return { ...exit, cpu_s: cpu, leftovers };
}

function descendantsAndSelf(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // exited
  }
  return [pid, ...kids.flatMap(descendantsAndSelf)];
}

function pidsWithMarker(marker: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(marker)) out.push(Number(d));
    } catch {
      // exited
    }
  }
  return out;
}

/** utime + stime + cutime + cstime of a live process, seconds (assumes the usual 100 clock ticks per second). */
function procCpu(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return 0;
  }
}
