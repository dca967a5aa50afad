/**
 * The benchmark: for each fleet size, `reps` repetitions; in each, lvsplay, best-practice Ansible and Ansible +
 * mitogen (the order rotating) each get a fresh lab, run the same configuration twice (first: everything changes;
 * second: nothing does), and leave their end state for comparison; the floor is timed on the lvsplay lab. Any
 * wrong or unequal end state, failed run or non-idempotent second run stops the benchmark with an error.
 * lvsplay and the floor run compiled (dist/, built first when missing or older than the sources).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';
import { ANSIBLE_PLAYBOOK, BenchError, ensureAnsible, parseAnsibleRecap, writeAnsibleConfig, type AnsibleFlavour } from './ansible.ts';
import { ensureCompiled } from './compiled.ts';
import { floorSpec } from './floor-spec.ts';
import { BENCH_NIC, BENCH_VIP } from './config.ts';
import { collectEndState, compareEndStates, endStateProblems } from './end-state.ts';
import { benchLabUp, type BenchLab } from './lab.ts';
import { cpuMethod, describeCpuMethod, measure, type MeasureResult } from './measure.ts';
import type { BenchOptions } from './options.ts';
import { markdownTable, summarize, tableNotes, toolOrder, type LvsplayRun, type Measured, type Phases, type RepSample, type ResultRow, type RunKind, type RunMeta, type Tool } from './report.ts';
import type { PhaseTimes } from '../engine/phases.ts';

export const ROOT = PACKAGE_ROOT;
const LVSPLAY_BIN = path.join(ROOT, 'src/bin/lvsplay.js');
const LVSPLAY_PLAYBOOK = path.join(ROOT, 'src/bench/playbooks/realserver-dr.ts');
/** compiled: the floor runs with plain node, no tsx */
const FLOOR_MAIN = path.join(ROOT, 'dist/src/bench/floor-main.js');
const RUN_TIMEOUT_MS = 30 * 60_000;

export interface BenchResult {
  rows: ResultRow[];
  samples: RepSample[];
  meta: RunMeta;
  table: string;
  notes: string;
}

type Log = (s: string) => void;

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/** The error lines of a tool's output (Ansible puts its reasons far above the recap), then the last lines. */
function failed(what: string, r: MeasureResult, logFile: string): BenchError {
  let errors: string[] = [];
  try {
    errors = readFileSync(logFile, 'utf8').split('\n').filter((l) => /UNREACHABLE!|^fatal:|\bERROR\b|error:/i.test(l)).slice(0, 8);
  } catch {
    // no log
  }
  return new BenchError(`${what} exited ${r.code} after ${r.wall_s.toFixed(1)} s\n${errors.length ? `errors:\n${errors.join('\n')}\n` : ''}last lines:\n${tail(logFile, 12)}`);
}

/** lvsplay run, timed; its JSON recap gives the per-host round trips and proves the second run changed nothing. */
async function lvsplayRun(lab: BenchLab, run: RunKind, forks: number): Promise<LvsplayRun> {
  const json = path.join(lab.dir, `lvsplay-${run}.jsonl`);
  const logFile = path.join(lab.dir, `lvsplay-${run}.log`);
  const r = await measure(process.execPath, [LVSPLAY_BIN, 'run', LVSPLAY_PLAYBOOK, '-i', lab.inventory, '--forks', String(forks), '--no-verify', '--json', json], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true' },
    logFile,
    timeoutMs: RUN_TIMEOUT_MS,
  });
  if (r.code !== 0) throw failed(`lvsplay run (${run} run, ${lab.hosts.length} hosts)`, r, logFile);
  const lines = readFileSync(json, 'utf8').trim().split('\n');
  const recap = JSON.parse(lines.at(-1)!) as { event: string; hosts: Record<string, { changed: number; failed: number; unreachable: boolean; roundTrips: number }>; phases?: PhaseTimes };
  if (recap.event !== 'recap') throw new BenchError(`lvsplay ${run} run: the last line of ${json} is not the recap`);
  if (!recap.phases) throw new BenchError(`lvsplay ${run} run: the recap in ${json} has no phases`);
  for (const h of lab.hosts) {
    const x = recap.hosts[h];
    if (!x || x.unreachable || x.failed) throw new BenchError(`lvsplay ${run} run: host ${h} ${x ? JSON.stringify(x) : 'missing from the recap'}\n${tail(logFile)}`);
    if (run === 'first' && x.changed === 0) throw new BenchError(`lvsplay first run changed nothing on ${h}: the lab was not fresh\n${tail(logFile)}`);
    if (run === 'second' && x.changed !== 0) throw new BenchError(`lvsplay second run changed ${x.changed} thing(s) on ${h}: not idempotent\n${tail(logFile)}`);
  }
  const p = recap.phases;
  const phases: Phases = {
    startup_s: p.startupMs / 1000,
    ...(p.startup ? { startup_modules_s: p.startup.modulesMs / 1000, startup_inventory_s: p.startup.inventoryMs / 1000, startup_playbook_s: p.startup.playbookMs / 1000, startup_plan_s: p.startup.planMs / 1000 } : {}),
    connect_s: p.connectMs / 1000,
    facts_s: p.factsMs / 1000,
    apply_s: p.applyMs / 1000,
  };
  return { wall_s: r.wall_s, cpu_s: r.cpu_s, peak_mb: r.peak_mb, roundTrips: Math.max(...lab.hosts.map((h) => recap.hosts[h]!.roundTrips)), phases };
}

/** ansible-playbook, timed, with a fresh ControlPersist directory (each run starts cold, like lvsplay). */
async function ansibleRun(lab: BenchLab, flavour: AnsibleFlavour, run: RunKind, forks: number): Promise<Measured> {
  const runDir = path.join(lab.dir, `${flavour}-${run}`);
  const controlDir = mkdtempSync(path.join(os.tmpdir(), 'lvb-')); // short: ssh control socket paths are limited
  try {
    const cfg = writeAnsibleConfig(runDir, { forks, sshConfig: lab.sshConfig, controlDir, localTmp: path.join(runDir, 'tmp'), flavour });
    const logFile = path.join(lab.dir, `${flavour}-${run}.log`);
    const r = await measure('ansible-playbook', ['-i', lab.ansibleInventory, ANSIBLE_PLAYBOOK], {
      cwd: runDir,
      env: { ...process.env, ANSIBLE_CONFIG: cfg, ANSIBLE_NOCOLOR: '1' },
      logFile,
      timeoutMs: RUN_TIMEOUT_MS,
      leftoverMarker: controlDir,
    });
    const what = flavour === 'ansible' ? 'ansible-playbook' : 'ansible-playbook (mitogen)';
    if (r.code !== 0) throw failed(`${what} (${run} run, ${lab.hosts.length} hosts)`, r, logFile);
    const recap = parseAnsibleRecap(readFileSync(logFile, 'utf8'));
    for (const h of lab.hosts) {
      const x = recap.get(h);
      if (!x || x.unreachable || x.failed) throw new BenchError(`${what} ${run} run: host ${h} ${x ? JSON.stringify(x) : 'missing from the PLAY RECAP'}\n${tail(logFile)}`);
      if (run === 'first' && x.changed === 0) throw new BenchError(`${what} first run changed nothing on ${h}: the lab was not fresh\n${tail(logFile)}`);
      if (run === 'second' && x.changed !== 0) throw new BenchError(`${what} second run changed ${x.changed} task(s) on ${h}: the Ansible playbook is not idempotent\n${tail(logFile)}`);
    }
    return { wall_s: r.wall_s, cpu_s: r.cpu_s, peak_mb: r.peak_mb };
  } finally {
    rmSync(controlDir, { recursive: true, force: true });
  }
}

/** The floor in its own (compiled, plain) Node process, same concurrency as the tools. */
async function floorRun(lab: BenchLab, forks: number): Promise<RepSample['floor']> {
  const logFile = path.join(lab.dir, 'floor.log');
  const specFile = path.join(lab.dir, 'floor-spec.json');
  writeFileSync(specFile, JSON.stringify(floorSpec(lab, forks)));
  const r = await measure(process.execPath, [FLOOR_MAIN, specFile], {
    cwd: ROOT,
    env: process.env,
    logFile,
    timeoutMs: RUN_TIMEOUT_MS,
  });
  if (r.code !== 0) throw failed(`the floor (${lab.hosts.length} hosts)`, r, logFile);
  const line = readFileSync(logFile, 'utf8').trim().split('\n').at(-1)!;
  const f = JSON.parse(line) as { hosts: number; ssh_s: number };
  if (f.hosts !== lab.hosts.length) throw new BenchError(`the floor reached ${f.hosts} hosts, not ${lab.hosts.length}`);
  return { wall_s: r.wall_s, cpu_s: r.cpu_s, peak_mb: r.peak_mb, ssh_s: f.ssh_s };
}

const LABEL: Record<Tool, string> = { lvsplay: 'lvsplay', ansible: 'ansible-playbook', ansible_mitogen: 'ansible-playbook + mitogen' };

/** Wanted state on every host, and the same state under every tool; else a loud error with what differs. */
export function checkEndStates(states: Partial<Record<Tool, Map<string, string>>>, hosts: string[]): void {
  const problems: string[] = [];
  const tools = Object.keys(states) as Tool[];
  for (const tool of tools) {
    for (const h of hosts) {
      const snap = states[tool]!.get(h);
      if (snap === undefined) {
        problems.push(`${tool}: no end state from ${h}`);
        continue;
      }
      for (const p of endStateProblems(snap, BENCH_VIP, BENCH_NIC)) problems.push(`${tool} on ${h}: ${p}`);
    }
  }
  const [ref, ...others] = tools;
  for (const t of others) problems.push(...compareEndStates(states[ref!]!, states[t]!, [`after ${LABEL[ref!]}`, `after ${LABEL[t]}`]));
  if (problems.length) {
    throw new BenchError(`END STATES WRONG OR DIFFERENT: the timings are void\n  ${problems.join('\n  ')}`);
  }
}

function machine(): string {
  const cpu = os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  let distro = '';
  try {
    distro = `Debian ${readFileSync('/etc/debian_version', 'utf8').trim()}, `;
  } catch {
    // not Debian
  }
  const load = os.loadavg()[0]!.toFixed(1);
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${distro}Linux ${os.release()}, Node ${process.version} (load average ${load} at start: a shared machine, expect noise)`;
}

/** `onSize` is called after each fleet size with everything so far (results are written as they come). */
export async function runBench(o: BenchOptions, log: Log, onSize?: (r: BenchResult) => void): Promise<BenchResult> {
  await ensureCompiled(log);
  const ansibleVersion = await ensureAnsible(log);
  const meta: RunMeta = { date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), machine: machine(), reps: o.reps, cpuMethod: describeCpuMethod(cpuMethod()), ansibleVersion, load: {} };
  log(`bench: ${meta.machine}`);
  log(`bench: ${ansibleVersion}; CPU accounting: ${meta.cpuMethod}`);
  const samples: RepSample[] = [];
  for (const n of o.hosts) {
    meta.load[String(n)] = Math.round(os.loadavg()[0]! * 10) / 10;
    for (let rep = 0; rep < o.reps; rep++) {
      const order = toolOrder(rep);
      const states: Partial<Record<Tool, Map<string, string>>> = {};
      const s = { hosts: n, rep: rep + 1, order } as RepSample;
      let hosts: string[] = [];
      for (const tool of order) {
        const lab = await benchLabUp(n, log);
        hosts = lab.hosts;
        try {
          if (tool === 'lvsplay') {
            const first = await lvsplayRun(lab, 'first', n);
            const second = await lvsplayRun(lab, 'second', n);
            s.lvsplay = { first, second };
            s.floor = await floorRun(lab, n);
          } else {
            const first = await ansibleRun(lab, tool, 'first', n);
            const second = await ansibleRun(lab, tool, 'second', n);
            s[tool] = { first, second };
          }
          states[tool] = await collectEndState(lab.inventory, BENCH_NIC, n);
        } finally {
          await lab.down();
        }
      }
      checkEndStates(states, hosts);
      samples.push(s);
      const t = (m: Measured) => `${m.wall_s.toFixed(2)} s (cpu ${m.cpu_s.toFixed(2)}, ${m.peak_mb.toFixed(0)} MiB)`;
      log(
        `bench: ${n} hosts, rep ${rep + 1}/${o.reps} (${order.join(', ')}; load ${os.loadavg()[0]!.toFixed(1)}): lvsplay first ${t(s.lvsplay.first)} second ${t(s.lvsplay.second)}; ` +
          `ansible first ${t(s.ansible.first)} second ${t(s.ansible.second)}; mitogen first ${t(s.ansible_mitogen.first)} second ${t(s.ansible_mitogen.second)}; floor ${t(s.floor)}; end states equal`,
      );
    }
    onSize?.(result(samples, meta));
  }
  return result(samples, meta);
}

function result(samples: RepSample[], meta: RunMeta): BenchResult {
  const rows = summarize(samples);
  return { rows, samples: [...samples], meta, table: markdownTable(rows), notes: tableNotes(meta) };
}
