// measure(): wall time, and CPU of the child *and* of what it left running detached (like ssh ControlPersist
// masters), which are killed afterwards. Both accountings: the cgroup one (when this machine allows it) and the
// rusage fallback.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuMethod, measure } from '../../src/bench/measure.ts';

// ~0.3 s of CPU in the child, then a detached grandchild (its cmdline holds the marker) that burns CPU and would
// live for 30 s if nobody killed it
const spin = 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done';
// the leftover spins twice as long as the child, so "both accounted" (~3 spins) and "leftover lost" (~1 spin) stay
// far apart even when a busy machine makes one spin cost 0.3 s here and 0.55 s there
const script = (marker: string) => `${spin}; sh -c '${spin}; ${spin}; echo burnt > "$1"; sleep 30' ${marker} "$DONE" >/dev/null 2>&1 & while [ ! -s "$DONE" ]; do sleep 0.05; done; echo main done`;

for (const cpu of ['auto', 'rusage'] as const) {
  test.serial(`${cpu}: child + detached leftover accounted, leftover killed`, async (t) => {
    if (cpu === 'auto' && cpuMethod().kind === 'rusage') return t.pass('no usable cgroup here: the rusage test covers it');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lvsplay-measure-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const marker = `lvsplay-measure-marker-${process.pid}-${cpu}`;
    const done = path.join(dir, 'done');
    const solo = await measure('/bin/sh', ['-c', spin], { cwd: dir, env: process.env, logFile: path.join(dir, 'solo.log'), timeoutMs: 60_000, cpu });
    const r = await measure('/bin/sh', ['-c', script(marker)], {
      cwd: dir,
      env: { ...process.env, DONE: done },
      logFile: path.join(dir, 'out.log'),
      timeoutMs: 60_000,
      leftoverMarker: marker,
      cpu,
    });
    t.is(r.code, 0);
    t.is(readFileSync(path.join(dir, 'out.log'), 'utf8'), 'main done\n');
    t.true(r.wall_s > 0 && r.wall_s < 30, `wall ${r.wall_s}`);
    t.true(r.leftovers >= 1, 'the detached sleeper was killed');
    // three spins (child + the leftover's two) cost clearly more than one
    t.true(r.cpu_s > solo.cpu_s * 2, `cpu ${r.cpu_s} vs one spin ${solo.cpu_s}`);
    await new Promise((res) => setTimeout(res, 200));
    const { stdout } = await import('node:child_process').then((c) => new Promise<{ stdout: string }>((res) => c.execFile('pgrep', ['-f', marker], (_e, stdout) => res({ stdout }))));
    t.is(stdout.trim(), '', 'nothing with the marker is left running');
  });
}

for (const cpu of ['auto', 'rusage'] as const) {
  test.serial(`${cpu}: peak memory is the summed PSS of the run's processes`, async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lvsplay-measure-mem-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    // two processes each touching 60 MB (private pages) for a second: the peak holds both
    const hog = `node -e "const b = Buffer.alloc(60e6, 1); setTimeout(() => b.length, 1500)"`;
    const r = await measure('/bin/sh', ['-c', `${hog} & ${hog}; wait`], { cwd: dir, env: process.env, logFile: path.join(dir, 'mem.log'), timeoutMs: 60_000, cpu });
    t.is(r.code, 0);
    t.true(r.peak_mb > 110, `peak ${r.peak_mb} MiB for two 60 MB processes`);
    t.true(r.peak_mb < 400, `peak ${r.peak_mb} MiB`);
  });
}
