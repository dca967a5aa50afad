/**
 * `npm run bench -- --startup`: how long lvsplay takes to start, against bare `node -e 0`, for the commands that
 * do not reach hosts: `--version`, `--help`, `inventory --list` on a 1,000-line inventory. Median of `reps` runs
 * each, after one warm-up (page cache). Targets (issue 16): --version ≤ 3× node; inventory --list ≤ 0.3 s.
 * Runs the compiled CLI (built first when stale), as operators do. Wall time is the target's measure, but on a
 * shared machine it mostly measures the queue for a CPU: the CPU time (user + system, measure.ts) is given beside
 * it, and its ratio to node's holds whatever the load.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';
import { ensureCompiled } from './compiled.ts';
import { measure } from './measure.ts';
import { median } from './report.ts';

/** A realistic inventory of exactly `lines` lines: groups of hosts with an address and a weight each. */
export function inventoryOfLines(lines: number): string {
  const out = ['# lvsplay start-up benchmark: generated inventory', 'all:', '  vars:', '    ansible_user: root', '    lvs_vip: 198.18.0.250', '  children:'];
  let g = 0;
  let h = 0;
  while (out.length + 3 <= lines - 2) {
    if (h % 50 === 0) {
      if (out.length + 5 > lines - 2) break;
      out.push(`    group${String(++g).padStart(2, '0')}:`, '      vars:', `        lvs_group_weight: ${g}`, '      hosts:');
    }
    h++;
    out.push(`        rs${String(h).padStart(4, '0')}:`, `          ansible_host: 198.19.${(h >> 8) & 255}.${h & 255}`, `          lvs_weight: ${(h % 5) + 1}`);
  }
  while (out.length < lines) out.push('# padding');
  return out.join('\n') + '\n';
}

export interface StartupRow {
  what: string;
  median_ms: number;
  /** median_ms / node -e 0 */
  x_node: number;
  /** median user + system CPU time, ms */
  cpu_ms: number;
  /** cpu_ms / node -e 0's */
  cpu_x_node: number;
  target: string;
  pass: boolean | null;
  samples_ms: number[];
}

interface Samples {
  wall: number[];
  cpu: number[];
}

async function timeIt(argv: string[], reps: number, dir: string): Promise<Samples> {
  const logFile = path.join(dir, 'out.log');
  const once = async () => {
    const r = await measure(argv[0]!, argv.slice(1), { cwd: PACKAGE_ROOT, env: process.env, logFile, timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}`);
    return r;
  };
  await once(); // warm-up: page cache, not measured
  const s: Samples = { wall: [], cpu: [] };
  for (let i = 0; i < reps; i++) {
    const r = await once();
    s.wall.push(r.wall_s * 1000);
    s.cpu.push(r.cpu_s * 1000);
  }
  return s;
}

export async function startupBench(reps: number, log: (s: string) => void): Promise<{ rows: StartupRow[]; load: [number, number]; table: string }> {
  await ensureCompiled(log);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvsplay-startup-'));
  try {
    const inv = path.join(dir, 'inventory-1000.yaml');
    writeFileSync(inv, inventoryOfLines(1000));
    const bin = path.join(PACKAGE_ROOT, 'src/bin/lvsplay.js');
    const node = process.execPath;
    const before = os.loadavg()[0]!;
    const base = await timeIt([node, '-e', '0'], reps, dir);
    const nodeMs = median(base.wall);
    const nodeCpu = median(base.cpu);
    const x = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const row = (what: string, s: Samples, target: string, pass: (ms: number) => boolean | null): StartupRow => {
      const ms = median(s.wall);
      const cpu = median(s.cpu);
      return { what, median_ms: Math.round(ms), x_node: x(ms, nodeMs), cpu_ms: Math.round(cpu), cpu_x_node: x(cpu, nodeCpu), target, pass: pass(ms), samples_ms: s.wall.map(Math.round) };
    };
    const rows = [
      row('node -e 0', base, '', () => null),
      row('lvsplay --version', await timeIt([node, bin, '--version'], reps, dir), '≤ 3× node -e 0', (ms) => ms <= 3 * nodeMs),
      row('lvsplay --help', await timeIt([node, bin, '--help'], reps, dir), '≤ 3× node -e 0', (ms) => ms <= 3 * nodeMs),
      row('lvsplay inventory --list (1,000 lines)', await timeIt([node, bin, 'inventory', '-i', inv, '--list'], reps, dir), '≤ 300 ms', (ms) => ms <= 300),
    ];
    const load: [number, number] = [Math.round(before * 10) / 10, Math.round(os.loadavg()[0]! * 10) / 10];
    const table = [
      '| command | wall ms | × node -e 0 | CPU ms | CPU × node -e 0 | target (wall) | met |',
      '|---|---:|---:|---:|---:|---|---|',
      ...rows.map((r) => `| ${r.what} | ${r.median_ms} | ${r.x_node.toFixed(2)} | ${r.cpu_ms} | ${r.cpu_x_node.toFixed(2)} | ${r.target} | ${r.pass === null ? '' : r.pass ? 'yes' : 'NO'} |`),
    ].join('\n');
    return { rows, load, table: `${table}\n\nmedians of ${reps} runs each (one warm-up run first); load average ${load[0]} before, ${load[1]} after; ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}\n` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
