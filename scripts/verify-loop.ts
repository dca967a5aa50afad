/**
 * Issue 11's measurement on the VM lab: consecutive `lvsplay run playbooks/site.ts` alternating two
 * configurations (test/helpers/alternating.ts), each end-of-run verification must PASS with the new shares; and
 * optionally samples of `lvsplay verify` after a run that changed nothing (its summary line's seconds).
 *
 *   flock /work/vm.lock npx tsx scripts/verify-loop.ts --lab --runs 10 [--first 0] [--verify-samples 3] --out FILE
 *   npx tsx scripts/verify-loop.ts -i LAB_INVENTORY --runs 10 ...       (a lab that is already up)
 *   ... --limit directors,realservers_nat                                 (only the hosts the configurations change)
 *   ... --runs 20 --limited-runs 4                 (then 4 more runs, continuing the alternation, with --limit:
 *                                                   default directors,realservers_nat, so the settle wait follows
 *                                                   the directors' reload directly)
 *
 * `--lab` brings a fresh VM lab up, runs site.ts once to build the cluster (not counted), and always tears the lab
 * down. `--lvsplay BIN` measures another checkout's CLI (e.g. the code before a change) on the same lab for
 * `--verify-samples`. One JSON line per sample to --out, then a summary line. Exit 1 when a run did not PASS.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jsonLines, lvsplay } from '../test/helpers/cli.ts';
import { slowLabInventory, startLab, type Lab } from '../test/helpers/lab.ts';
import { readAlternatingRun, tunShareRs1, variantLabel, writeVariant } from '../test/helpers/alternating.ts';
import { loadInventory } from '../src/inventory/index.ts';

const SITE = 'playbooks/site.ts';
const { values: o } = parseArgs({
  options: {
    lab: { type: 'boolean' },
    inventory: { type: 'string', short: 'i' },
    runs: { type: 'string', default: '0' },
    first: { type: 'string', default: '0' },
    'verify-samples': { type: 'string', default: '0' },
    lvsplay: { type: 'string', multiple: true },
    out: { type: 'string', default: 'verify-loop.jsonl' },
    /** the alternating runs only on these hosts (e.g. directors,realservers_nat: the hosts the configurations change);
     *  with --limited-runs, only that second series */
    limit: { type: 'string' },
    'limited-runs': { type: 'string', default: '0' },
  },
});
if (!o.lab === !o.inventory) throw new Error('give --lab (a fresh VM lab) or -i INVENTORY (a lab that is up)');

const out = (rec: Record<string, unknown>) => {
  appendFileSync(o.out!, JSON.stringify({ at: new Date().toISOString(), ...rec }) + '\n');
  process.stdout.write(JSON.stringify(rec) + '\n');
};
const seconds = (t0: number) => Math.round((performance.now() - t0) / 100) / 10;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? { n: s.length, min: s[0], median: s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2, max: s.at(-1) } : { n: 0 };
};

let lab: Lab | undefined;
let failed = 0;
try {
  let inv = o.inventory!;
  let dir = '.';
  if (o.lab) {
    const t0 = performance.now();
    lab = await startLab({ topology: 'inventory/lab.yaml', vm: true });
    inv = slowLabInventory(lab);
    dir = lab.dir;
    out({ step: 'lab up', dir, seconds: seconds(t0) });
    // Ctrl-C or a kill between runs must not leave the VM running (the lock's next holder needs the machine)
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        out({ step: 'interrupted', signal: sig });
        void lab!.down().finally(() => process.exit(130));
      });
    }
    const t1 = performance.now();
    const site = await lvsplay(['run', SITE, '-i', inv, '--no-verify'], { timeoutMs: 20 * 60_000 });
    out({ step: 'site run (fresh lab, not counted)', code: site.code, seconds: seconds(t1) });
    if (site.code !== 0) throw new Error(`the site run failed:\n${site.stdout.slice(-3000)}${site.stderr}`);
  }

  // verification cost after a run that changed nothing: the verify command's own summary line
  const samples = Number(o['verify-samples']);
  if (samples > 0) {
    const json = join(dir, 'no-change.jsonl');
    const still = await lvsplay(['run', SITE, '-i', inv, '--no-verify', '--json', json], { timeoutMs: 20 * 60_000 });
    const hosts = (jsonLines(readFileSync(json, 'utf8')).at(-1)?.hosts ?? {}) as Record<string, { changed: number }>;
    out({ step: 'run before the samples', code: still.code, changed: Object.entries(hosts).filter(([, h]) => h.changed).map(([h, x]) => `${h}:${x.changed}`) });
    // interleaved, so a change of the machine's load hits every CLI alike
    const bins = o.lvsplay ?? [undefined];
    const times = new Map<string, number[]>(bins.map((b) => [b ?? 'this checkout', []]));
    for (let k = 0; k < samples; k++) {
      for (const bin of bins) {
        const r = await lvsplay(['verify', SITE, '-i', inv], { timeoutMs: 10 * 60_000, ...(bin ? { bin } : {}) });
        const m = /services? passed[^\n]* in ([\d.]+)s/.exec(r.stdout);
        if (m) times.get(bin ?? 'this checkout')!.push(Number(m[1]));
        out({ step: 'verify sample', bin: bin ?? 'this checkout', code: r.code, seconds: m ? Number(m[1]) : null, summary: r.stdout.trim().split('\n').at(-1) });
        if (r.code !== 0) failed++;
      }
    }
    for (const [bin, xs] of times) out({ step: 'verify cost', bin, ...stats(xs) });
  }

  // the alternating runs: one series of --runs (limited by --limit unless --limited-runs is given), then
  // --limited-runs more with --limit, continuing the alternation (so every run changes the configuration)
  const base = loadInventory(inv).hosts.get('dir1')!.vars.lvs_services as any[];
  const series = async (name: string, first: number, runs: number, limit: string | undefined) => {
    const times: number[] = [];
    const waits: number[] = [];
    let pass = 0;
    for (let i = first; i < first + runs; i++) {
      const ev = writeVariant(join(dir, `alt-${i}.json`), base, i);
      const json = join(dir, `alt-${i}.jsonl`);
      writeFileSync(json, '');
      const t0 = performance.now();
      const r = await lvsplay(['run', SITE, '-i', inv, ...(limit ? ['--limit', limit] : []), '-e', `@${ev}`, '--json', json], { timeoutMs: 20 * 60_000 });
      const s = seconds(t0);
      const v = readAlternatingRun(r.stdout, json);
      const ok = r.code === 0 && Object.keys(v.verdicts).length === 4 && Object.values(v.verdicts).every((x) => x === 'PASS') && Math.abs((v.tunExpected.rs1 ?? -1) - tunShareRs1(i)) < 1e-9;
      times.push(s);
      if (v.settleSeconds !== undefined) waits.push(v.settleSeconds);
      if (ok) pass++;
      else failed++;
      out({ step: 'run', series: name, i, config: variantLabel(i), code: r.code, pass: ok, seconds: s, settled: v.settled, verdicts: v.verdicts, shares: v.shares, ...(ok ? {} : { details: v.details, tail: r.stdout.slice(-2000) }) });
    }
    if (runs > 0) out({ step: 'summary', series: name, ...(limit ? { limit } : {}), runs, pass, seconds: stats(times), settleWaits: stats(waits) });
  };
  const first = Number(o.first);
  const runs = Number(o.runs);
  const limited = Number(o['limited-runs']);
  await series(limited > 0 || !o.limit ? 'full' : 'limited', first, runs, limited > 0 ? undefined : o.limit);
  await series('limited', first + runs, limited, o.limit ?? 'directors,realservers_nat');
} finally {
  await lab?.down();
}
process.exitCode = failed ? 1 : 0;
