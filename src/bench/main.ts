/** `npm run bench -- …` (src/bin/lvsplay-bench.js): the table on stdout, progress on stderr, results.json written. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.ts';
import { BenchError } from './ansible.ts';
import { runBench, type BenchResult } from './bench.ts';
import { downAllLabs } from './lab.ts';
import { BENCH_HELP, parseBenchArgs } from './options.ts';
import { startupBench } from './startup.ts';

export async function main(argv: string[]): Promise<number> {
  const log = (s: string) => process.stderr.write(s + '\n');
  const onSignal = (sig: NodeJS.Signals) => {
    log(`bench: ${sig}: taking the labs down`);
    void downAllLabs().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const o = parseBenchArgs(argv);
    if (o.help) {
      process.stdout.write(BENCH_HELP);
      return 0;
    }
    const out = path.resolve(o.out);
    const base = out.replace(/\.json$/, '');
    mkdirSync(path.dirname(out), { recursive: true });
    if (o.startup) {
      const s = await startupBench(o.reps, log);
      writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), load: s.load, rows: s.rows }, null, 2) + '\n');
      writeFileSync(`${base}.md`, s.table);
      process.stdout.write(s.table);
      return 0;
    }
    // written after every fleet size, so a failure later on keeps what was measured (the .md says how far it got)
    const save = (r: BenchResult, complete: boolean) => {
      writeFileSync(out, JSON.stringify(r.rows, null, 2) + '\n');
      writeFileSync(`${base}.md`, `${r.table}\n${r.notes}${complete ? '' : `(incomplete: sizes ${o.hosts.join(',')} were asked)\n`}`);
      writeFileSync(`${base}.samples.json`, JSON.stringify({ meta: r.meta, samples: r.samples }, null, 2) + '\n');
    };
    const r = await runBench(o, log, (partial) => save(partial, false));
    save(r, true);
    const md = `${r.table}\n${r.notes}`;
    process.stdout.write(md);
    log(`bench: wrote ${path.relative(process.cwd(), out)}`);
    return 0;
  } catch (e) {
    await downAllLabs();
    if (e instanceof UsageError) {
      log(`bench: ${e.message}`);
      return 5;
    }
    log(`\n${'!'.repeat(78)}\nbench FAILED: ${e instanceof BenchError ? e.message : (e as Error).stack ?? String(e)}\n${'!'.repeat(78)}`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
