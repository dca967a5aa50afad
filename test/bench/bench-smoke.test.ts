// `npm run bench` end to end with 2 hosts and 1 repetition: real labs, real lvsplay, real ansible-playbook (plain
// and with mitogen), the compiled floor.
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
    const timer = setTimeout(() => p.kill('SIGINT'), 420_000);
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
  t.regex(r.stdout, /^\| hosts \| run \| lvsplay s \| ansible s \| mitogen s \| best\/lvsplay \| lvsplay CPU s \| ansible CPU s \| mitogen CPU s \| lvsplay MiB \| ansible MiB \| mitogen MiB \| round trips\/host \| floor s \| lvsplay\/floor \| lvsplay start-up \/ connect \/ facts \/ apply s \|$/m);
  t.regex(r.stdout, /^\| 2 \| first \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+× \|/m);
  t.regex(r.stdout, /^\| 2 \| second \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+× \|/m);

  const rows = JSON.parse(readFileSync(out, 'utf8')) as Array<Record<string, unknown>>;
  t.deepEqual(rows.map((x) => [x.hosts, x.run]), [[2, 'first'], [2, 'second']]);
  for (const x of rows) {
    for (const k of ['lvsplay_s', 'ansible_s', 'ansible_mitogen_s', 'ratio', 'ratio_best', 'floor_s', 'floor_ssh_s', 'lvsplay_cpu_s', 'ansible_cpu_s', 'ansible_mitogen_cpu_s', 'floor_cpu_s', 'lvsplay_mb', 'ansible_mb', 'ansible_mitogen_mb']) {
      t.true(typeof x[k] === 'number' && (x[k] as number) > 0, `${k} = ${x[k]}`);
    }
    const n = (k: string) => x[k] as number;
    t.is(x.ratio, Math.round((n('ansible_s') / n('lvsplay_s')) * 100) / 100);
    t.is(x.ratio_best, Math.round((Math.min(n('ansible_s'), n('ansible_mitogen_s')) / n('lvsplay_s')) * 100) / 100);
    // lvsplay's own phases: start-up and connecting always cost something, and they fit in its wall time
    const p = x.lvsplay_phases as Record<string, number>;
    t.true(p.startup_s! > 0 && p.connect_s! > 0 && p.facts_s! > 0, JSON.stringify(p));
    t.true(p.startup_s! + p.connect_s! + p.facts_s! + p.apply_s! <= n('lvsplay_s'), JSON.stringify(p));
    // the floor does less than lvsplay: connecting and `true` only
    t.true(n('floor_ssh_s') < n('floor_s'));
  }
  // lvsplay: facts + one apply on fresh hosts; facts only when nothing changes (the bench itself fails on any change)
  t.is(rows[0]!.roundTrips, 2);
  t.is(rows[1]!.roundTrips, 1);
  t.regex(r.stderr, /end states equal/);
  t.regex(readFileSync(out.replace(/\.json$/, '.md'), 'utf8'), /median of 1 fresh-lab run/);

  // every lab it brought up is down, and its namespaces are gone
  const ids = [...r.stderr.matchAll(/bench: lab (\w+) up:/g)].map((m) => m[1]!);
  t.is(ids.length, 3, 'one fresh lab per tool');
  t.regex(r.stderr, /ansible-mitogen/, 'the Ansible versions line names mitogen');
  t.deepEqual([...r.stderr.matchAll(/bench: lab (\w+) down/g)].map((m) => m[1]).sort(), [...ids].sort());
  const ns = (await run('ip', ['netns', 'list'])).stdout;
  for (const id of ids) t.false(ns.includes(`lvp-${id}`), `namespaces of lab ${id} are left:\n${ns}`);
});
