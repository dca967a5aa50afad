/** From per-repetition measurements to results.json rows and the Markdown table. Pure. */

export type RunKind = 'first' | 'second';

/** One timed run of a tool (or of the floor) in a child process. */
export interface Measured {
  /** wall time of the child process, seconds */
  wall_s: number;
  /** controller CPU (user + system) of the child and everything it started, seconds */
  cpu_s: number;
}

export interface LvsplayRun extends Measured {
  /** SSH round trips per host from lvsplay's JSON recap (the maximum over the hosts) */
  roundTrips: number;
}

/** One repetition for one fleet size: each tool on its own fresh lab, plus the floor. */
export interface RepSample {
  hosts: number;
  rep: number;
  /** which tool ran first in this repetition (they alternate) */
  order: ['lvsplay', 'ansible'] | ['ansible', 'lvsplay'];
  lvsplay: Record<RunKind, LvsplayRun>;
  ansible: Record<RunKind, Measured>;
  /** connect + `true` on every host with ssh2 in a child Node process */
  floor: Measured & { /** the connect + exec part alone, measured inside the child */ ssh_s: number };
}

export interface ResultRow {
  hosts: number;
  run: RunKind;
  lvsplay_s: number;
  ansible_s: number;
  /** ansible_s / lvsplay_s */
  ratio: number;
  roundTrips: number;
  floor_s: number;
  floor_ssh_s: number;
  /** lvsplay_s / floor_s */
  lvsplay_floor: number;
  lvsplay_cpu_s: number;
  ansible_cpu_s: number;
  floor_cpu_s: number;
  reps: number;
  samples: { lvsplay_s: number[]; ansible_s: number[]; floor_s: number[]; lvsplay_cpu_s: number[]; ansible_cpu_s: number[] };
}

export function median(xs: number[]): number {
  if (xs.length === 0) throw new RangeError('median of no samples');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const r2 = (x: number) => Math.round(x * 100) / 100;

/** One row per fleet size and run kind, medians over the repetitions, in the order the sizes were measured. */
export function summarize(samples: RepSample[]): ResultRow[] {
  const sizes = [...new Set(samples.map((s) => s.hosts))];
  const rows: ResultRow[] = [];
  for (const n of sizes) {
    const reps = samples.filter((s) => s.hosts === n);
    const floor = reps.map((s) => s.floor.wall_s);
    for (const run of ['first', 'second'] as const) {
      const l = reps.map((s) => s.lvsplay[run].wall_s);
      const a = reps.map((s) => s.ansible[run].wall_s);
      const lc = reps.map((s) => s.lvsplay[run].cpu_s);
      const ac = reps.map((s) => s.ansible[run].cpu_s);
      const lvsplay_s = median(l);
      const ansible_s = median(a);
      const floor_s = median(floor);
      rows.push({
        hosts: n,
        run,
        lvsplay_s: r3(lvsplay_s),
        ansible_s: r3(ansible_s),
        // from the published (rounded) seconds, so a reader recomputing the ratio from the row gets this number
        ratio: r2(r3(ansible_s) / r3(lvsplay_s)),
        roundTrips: Math.max(...reps.map((s) => s.lvsplay[run].roundTrips)),
        floor_s: r3(floor_s),
        floor_ssh_s: r3(median(reps.map((s) => s.floor.ssh_s))),
        lvsplay_floor: r2(lvsplay_s / floor_s),
        lvsplay_cpu_s: r3(median(lc)),
        ansible_cpu_s: r3(median(ac)),
        floor_cpu_s: r3(median(reps.map((s) => s.floor.cpu_s))),
        reps: reps.length,
        samples: { lvsplay_s: l.map(r3), ansible_s: a.map(r3), floor_s: floor.map(r3), lvsplay_cpu_s: lc.map(r3), ansible_cpu_s: ac.map(r3) },
      });
    }
  }
  return rows;
}

const f2 = (x: number) => x.toFixed(2);

/** The Markdown table (stdout and the README). */
export function markdownTable(rows: ResultRow[]): string {
  const head = [
    '| hosts | run | lvsplay s | ansible s | ansible/lvsplay | lvsplay CPU s | ansible CPU s | round trips/host | floor s | lvsplay/floor |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const body = rows.map(
    (r) =>
      `| ${r.hosts} | ${r.run} | ${f2(r.lvsplay_s)} | ${f2(r.ansible_s)} | ${f2(r.ratio)}× | ${f2(r.lvsplay_cpu_s)} | ${f2(r.ansible_cpu_s)} | ${r.roundTrips} | ${f2(r.floor_s)} | ${f2(r.lvsplay_floor)}× |`,
  );
  return [...head, ...body].join('\n') + '\n';
}

export interface RunMeta {
  date: string;
  machine: string;
  reps: number;
  cpuMethod: string;
  ansibleVersion: string;
}

/** Lines under the table: what was measured, and how. */
export function tableNotes(m: RunMeta): string {
  return [
    `${m.date}, ${m.machine}; median of ${m.reps} fresh-lab run${m.reps === 1 ? '' : 's'} per cell, ${m.ansibleVersion}.`,
    'Wall times include process start-up. first = fresh hosts (every task changes), second = the same run again (nothing changes).',
    `CPU = user + system time of the controller process and everything it started (${m.cpuMethod}); the lab's sshd processes are not counted.`,
    'floor = a Node child process that opens one ssh2 connection per host (same concurrency) and runs `true`: the least an SSH push tool can do.',
  ].join('\n') + '\n';
}
