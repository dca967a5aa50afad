/** From per-repetition measurements to results.json rows and the Markdown table. Pure. */

export type RunKind = 'first' | 'second';

/** The tools the benchmark times, each on its own fresh lab. */
export const TOOLS = ['lvsplay', 'ansible', 'ansible_mitogen'] as const;
export type Tool = (typeof TOOLS)[number];

/** One timed run of a tool (or of the floor) in a child process. */
export interface Measured {
  /** wall time of the child process, seconds */
  wall_s: number;
  /** controller CPU (user + system) of the child and everything it started, seconds */
  cpu_s: number;
  /** controller peak memory: the largest sampled sum of PSS over the run's processes, MiB */
  peak_mb: number;
}

/** lvsplay's own phase timings from its JSON recap (src/engine/phases.ts), seconds. */
export interface Phases {
  startup_s: number;
  /** start-up's parts (src/engine/phases.ts StartupTimes): Node and lvsplay's modules, inventory, playbook, plan */
  startup_modules_s?: number;
  startup_inventory_s?: number;
  startup_playbook_s?: number;
  startup_plan_s?: number;
  connect_s: number;
  facts_s: number;
  apply_s: number;
}

export interface LvsplayRun extends Measured {
  /** SSH round trips per host from lvsplay's JSON recap (the maximum over the hosts) */
  roundTrips: number;
  phases: Phases;
}

/** One repetition for one fleet size: each tool on its own fresh lab, plus the floor. */
export interface RepSample {
  hosts: number;
  rep: number;
  /** the order the tools ran in this repetition (rotated from one repetition to the next) */
  order: Tool[];
  lvsplay: Record<RunKind, LvsplayRun>;
  ansible: Record<RunKind, Measured>;
  ansible_mitogen: Record<RunKind, Measured>;
  /** connect + `true` on every host with plain ssh2 in a compiled child Node process */
  floor: Measured & { /** the connect + exec part alone, measured inside the child */ ssh_s: number };
}

export interface ResultRow {
  hosts: number;
  run: RunKind;
  lvsplay_s: number;
  /** best-practice Ansible (pipelining, ControlPersist, forks = hosts) */
  ansible_s: number;
  /** the same plus the mitogen_linear strategy */
  ansible_mitogen_s: number;
  /** ansible_s / lvsplay_s */
  ratio: number;
  /** min(ansible_s, ansible_mitogen_s) / lvsplay_s: against the fastest Ansible of that cell */
  ratio_best: number;
  roundTrips: number;
  floor_s: number;
  floor_ssh_s: number;
  /** lvsplay_s / floor_s */
  lvsplay_floor: number;
  lvsplay_cpu_s: number;
  ansible_cpu_s: number;
  ansible_mitogen_cpu_s: number;
  floor_cpu_s: number;
  lvsplay_mb: number;
  ansible_mb: number;
  ansible_mitogen_mb: number;
  /** medians of lvsplay's phases (they add up to about lvsplay_s; the rest is closing connections and exit) */
  lvsplay_phases: Phases;
  reps: number;
  samples: Record<'lvsplay_s' | 'ansible_s' | 'ansible_mitogen_s' | 'floor_s' | 'lvsplay_cpu_s' | 'ansible_cpu_s' | 'ansible_mitogen_cpu_s', number[]>;
}

export function median(xs: number[]): number {
  if (xs.length === 0) throw new RangeError('median of no samples');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const r2 = (x: number) => Math.round(x * 100) / 100;
const r1 = (x: number) => Math.round(x * 10) / 10;

/** The tools' order in repetition `rep` (0-based): rotated, so that each tool goes first as often as the others. */
export function toolOrder(rep: number): Tool[] {
  return TOOLS.map((_, i) => TOOLS[(i + rep) % TOOLS.length]!);
}

/** One row per fleet size and run kind, medians over the repetitions, in the order the sizes were measured. */
export function summarize(samples: RepSample[]): ResultRow[] {
  const sizes = [...new Set(samples.map((s) => s.hosts))];
  const rows: ResultRow[] = [];
  for (const n of sizes) {
    const reps = samples.filter((s) => s.hosts === n);
    const floor = reps.map((s) => s.floor.wall_s);
    for (const run of ['first', 'second'] as const) {
      const of = (f: (s: RepSample) => number) => reps.map(f);
      const l = of((s) => s.lvsplay[run].wall_s);
      const a = of((s) => s.ansible[run].wall_s);
      const m = of((s) => s.ansible_mitogen[run].wall_s);
      const lc = of((s) => s.lvsplay[run].cpu_s);
      const ac = of((s) => s.ansible[run].cpu_s);
      const mc = of((s) => s.ansible_mitogen[run].cpu_s);
      // ratios from the published (rounded) seconds, so a reader recomputing them from the row gets these numbers
      const lvsplay_s = r3(median(l));
      const ansible_s = r3(median(a));
      const ansible_mitogen_s = r3(median(m));
      const floor_s = r3(median(floor));
      const phase = (k: keyof Phases) => r3(median(of((s) => s.lvsplay[run].phases[k] ?? 0)));
      rows.push({
        hosts: n,
        run,
        lvsplay_s,
        ansible_s,
        ansible_mitogen_s,
        ratio: r2(ansible_s / lvsplay_s),
        ratio_best: r2(Math.min(ansible_s, ansible_mitogen_s) / lvsplay_s),
        roundTrips: Math.max(...of((s) => s.lvsplay[run].roundTrips)),
        floor_s,
        floor_ssh_s: r3(median(of((s) => s.floor.ssh_s))),
        lvsplay_floor: r2(lvsplay_s / floor_s),
        lvsplay_cpu_s: r3(median(lc)),
        ansible_cpu_s: r3(median(ac)),
        ansible_mitogen_cpu_s: r3(median(mc)),
        floor_cpu_s: r3(median(of((s) => s.floor.cpu_s))),
        lvsplay_mb: r1(median(of((s) => s.lvsplay[run].peak_mb))),
        ansible_mb: r1(median(of((s) => s.ansible[run].peak_mb))),
        ansible_mitogen_mb: r1(median(of((s) => s.ansible_mitogen[run].peak_mb))),
        lvsplay_phases: {
          startup_s: phase('startup_s'),
          ...(reps.every((x) => x.lvsplay[run].phases.startup_modules_s !== undefined)
            ? { startup_modules_s: phase('startup_modules_s'), startup_inventory_s: phase('startup_inventory_s'), startup_playbook_s: phase('startup_playbook_s'), startup_plan_s: phase('startup_plan_s') }
            : {}),
          connect_s: phase('connect_s'),
          facts_s: phase('facts_s'),
          apply_s: phase('apply_s'),
        },
        reps: reps.length,
        samples: {
          lvsplay_s: l.map(r3),
          ansible_s: a.map(r3),
          ansible_mitogen_s: m.map(r3),
          floor_s: floor.map(r3),
          lvsplay_cpu_s: lc.map(r3),
          ansible_cpu_s: ac.map(r3),
          ansible_mitogen_cpu_s: mc.map(r3),
        },
      });
    }
  }
  return rows;
}

const f2 = (x: number) => x.toFixed(2);
const f0 = (x: number) => x.toFixed(0);

/** The Markdown table (stdout and docs/benchmark.md). */
export function markdownTable(rows: ResultRow[]): string {
  const head = [
    '| hosts | run | lvsplay s | ansible s | mitogen s | best/lvsplay | lvsplay CPU s | ansible CPU s | mitogen CPU s | lvsplay MiB | ansible MiB | mitogen MiB | round trips/host | floor s | lvsplay/floor | lvsplay start-up / connect / facts / apply s |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  const body = rows.map((r) => {
    const p = r.lvsplay_phases;
    return (
      `| ${r.hosts} | ${r.run} | ${f2(r.lvsplay_s)} | ${f2(r.ansible_s)} | ${f2(r.ansible_mitogen_s)} | ${f2(r.ratio_best)}× | ` +
      `${f2(r.lvsplay_cpu_s)} | ${f2(r.ansible_cpu_s)} | ${f2(r.ansible_mitogen_cpu_s)} | ${f0(r.lvsplay_mb)} | ${f0(r.ansible_mb)} | ${f0(r.ansible_mitogen_mb)} | ` +
      `${r.roundTrips} | ${f2(r.floor_s)} | ${f2(r.lvsplay_floor)}× | ${f2(p.startup_s)} / ${f2(p.connect_s)} / ${f2(p.facts_s)} / ${f2(p.apply_s)} |`
    );
  });
  return [...head, ...body].join('\n') + '\n';
}

export interface RunMeta {
  date: string;
  machine: string;
  reps: number;
  cpuMethod: string;
  ansibleVersion: string;
  /** 1-minute load average before each fleet size, e.g. {"5": 0.4, "20": 1.2} */
  load: Record<string, number>;
}

/** Lines under the table: what was measured, and how. */
export function tableNotes(m: RunMeta): string {
  const load = Object.entries(m.load).map(([n, l]) => `${n} hosts: ${l.toFixed(1)}`).join(', ');
  return [
    `${m.date}, ${m.machine}; median of ${m.reps} fresh-lab run${m.reps === 1 ? '' : 's'} per cell, ${m.ansibleVersion}. Load average (1 min) before each size: ${load}.`,
    'Wall times include process start-up. first = fresh hosts (every task changes), second = the same run again (nothing changes).',
    'ansible = best-practice settings (forks = hosts, pipelining, ControlPersist, no facts); mitogen = the same with the mitogen_linear strategy; best/lvsplay = min(ansible, mitogen) / lvsplay.',
    `CPU = user + system time of the controller process and everything it started (${m.cpuMethod}); MiB = peak of the summed PSS of those processes (sampled every 100 ms); the lab's sshd processes are not counted.`,
    'floor = a compiled plain-ssh2 Node client (no tsx, no lvsplay code) that connects to every host through the same jump (same concurrency) and runs `true`; lvsplay phases are from its own --json recap.',
  ].join('\n') + '\n';
}
