// `npm run bench` end to end with 2 hosts and 1 repetition: real labs, real lvsplay, real ansible-playbook.
// Asserts what the benchmark produces and checks (table, results.json, equal end states, an idempotent second
// run, no lab left behind), never the speed. Needs root and ansible-core (the benchmark installs it when missing).
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/cli.ts';
import { run } from '../../src/lab/run.ts';

function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'src/bin/lvsplay-bench.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    // SIGINT: the benchmark takes its labs down before exiting
    const timer = setTimeout(() => p.kill('SIGINT'), 240_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

test('bench --hosts 2 --reps 1: table, results.json, equal end states, second run unchanged, labs removed', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvsplay-bench-smoke-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'results.json');
  const r = await bench(['--hosts', '2', '--reps', '1', '--out', out]);
  t.is(r.code, 0, r.stderr);

  // the Markdown table on stdout: header + one row per run kind
  t.regex(r.stdout, /^\| hosts \| run \| lvsplay s \| ansible s \| ansible\/lvsplay \| lvsplay CPU s \| ansible CPU s \| round trips\/host \| floor s \| lvsplay\/floor \|$/m);
  t.regex(r.stdout, /^\| 2 \| first \| [\d.]+ \| [\d.]+ \| [\d.]+× \|/m);
  t.regex(r.stdout, /^\| 2 \| second \| [\d.]+ \| [\d.]+ \| [\d.]+× \|/m);

  const rows = JSON.parse(readFileSync(out, 'utf8')) as Array<Record<string, unknown>>;
  t.deepEqual(rows.map((x) => [x.hosts, x.run]), [[2, 'first'], [2, 'second']]);
  for (const x of rows) {
    for (const k of ['lvsplay_s', 'ansible_s', 'ratio', 'floor_s', 'lvsplay_cpu_s', 'ansible_cpu_s']) {
      t.true(typeof x[k] === 'number' && (x[k] as number) > 0, `${k} = ${x[k]}`);
    }
    t.is(x.ratio, Math.round(((x.ansible_s as number) / (x.lvsplay_s as number)) * 100) / 100);
  }
  // lvsplay: facts + one apply on fresh hosts; facts only when nothing changes (the bench itself fails on any change)
  t.is(rows[0]!.roundTrips, 2);
  t.is(rows[1]!.roundTrips, 1);
  t.regex(r.stderr, /end states equal/);
  t.regex(readFileSync(out.replace(/\.json$/, '.md'), 'utf8'), /median of 1 fresh-lab run/);

  // every lab it brought up is down, and its namespaces are gone
  const ids = [...r.stderr.matchAll(/bench: lab (\w+) up:/g)].map((m) => m[1]!);
  t.is(ids.length, 2, 'one fresh lab per tool');
  t.deepEqual([...r.stderr.matchAll(/bench: lab (\w+) down/g)].map((m) => m[1]).sort(), [...ids].sort());
  const ns = (await run('ip', ['netns', 'list'])).stdout;
  for (const id of ids) t.false(ns.includes(`lvp-${id}`), `namespaces of lab ${id} are left:\n${ns}`);
});
