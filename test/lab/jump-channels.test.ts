// Issue 16 point 4 on tier 1: hosts behind one jump share connections to it, at most --jump-channels per connection.
// Ten hosts behind the lab jump with a cap of 4: the jump's side shows exactly 3 connections made during the run,
// carrying 4, 4 and 2 hosts; every host is configured; a second run changes nothing. With two connections (cap 5),
// killing the jump's sshd of one marks only the hosts it carried unreachable; the others finish.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useLab } from '../helpers/lab.ts';
import { lvsplay, jsonLines } from '../helpers/cli.ts';
import { readState } from '../../src/lab/state.ts';
import { labPaths } from '../../src/lab/paths.ts';
import { whenSlowChangeRuns } from '../helpers/slow-apply.ts';
import { descendants, processTable } from '../helpers/processes.ts';

const lab = useLab(test, { topology: 'test/fixtures/lab/ten.yaml' });
const PB = 'test/fixtures/playbooks/slow-apply.ts';
const HOSTS = Array.from({ length: 10 }, (_, i) => `rs${i + 1}`);
const ADDRESS = new Map(HOSTS.map((h, i) => [`198.19.0.${31 + i}`, h]));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Local ports of the established TCP connections to the jump's port on 127.0.0.1 (the controller's ends). */
function jumpClientPorts(): string[] {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( dport = :${lab().port} )`], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map((l) => /127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:\d+/.exec(l)![1]);
}

/**
 * The hosts each jump sshd process connects to: from the jump's network namespace, every established connection to
 * a host's port 22 with the pid of the sshd holding it.
 */
function hostsBySshd(): Map<number, Set<string>> {
  const out = execFileSync('ip', ['netns', 'exec', `lvp-${lab().id}.ctl`, 'ss', '-Htnp', 'state', 'established'], { encoding: 'utf8' });
  const by = new Map<number, Set<string>>();
  for (const l of out.split('\n').filter(Boolean)) {
    const m = /\s(198\.19\.0\.\d+):22\s.*users:\(\("sshd",pid=(\d+)/.exec(l);
    if (!m || !ADDRESS.has(m[1])) continue;
    const pid = Number(m[2]);
    if (!by.has(pid)) by.set(pid, new Set());
    by.get(pid)!.add(ADDRESS.get(m[1])!);
  }
  return by;
}

async function reset(): Promise<void> {
  await Promise.all(HOSTS.map((h) => lab().ssh(h, 'rm -rf /etc/lvsplay-test')));
}

/** The CLI run; `during` runs while it does, `sample` every 100 ms until it ends. */
async function run(tag: string, extra: string[], during?: () => Promise<void>, sample?: () => void) {
  const json = join(lab().dir, `${tag}.jsonl`);
  let done = false;
  const p = lvsplay(['run', PB, '-i', lab().inventory, '--no-verify', '--json', json, ...extra], { timeoutMs: 180_000 }).finally(() => (done = true));
  const sampling = (async () => {
    while (sample && !done) {
      sample();
      await sleep(100);
    }
  })();
  await during?.();
  const r = await p;
  await sampling;
  const ev = jsonLines(readFileSync(json, 'utf8'));
  return { ...r, ev, hosts: ev.at(-1)!.hosts as Record<string, { changed: number; unreachable: boolean }> };
}

test.serial('10 hosts behind the jump, --jump-channels 4: exactly 3 jump connections (4, 4 and 2 hosts), every host configured; a re-run changes nothing', async (t) => {
  await reset();
  const ports = new Set<string>();
  let split: number[] = [];
  let carried = new Set<string>();
  const r = await run(
    'cap4',
    ['--jump-channels', '4'],
    async () => {
      // every host is in its 4 s change: all ten host connections are open now
      await Promise.all(HOSTS.map((h) => whenSlowChangeRuns(lab().id, h)));
      const by = hostsBySshd();
      split = [...by.values()].map((s) => s.size).sort();
      carried = new Set([...by.values()].flatMap((s) => [...s]));
    },
    () => jumpClientPorts().forEach((p) => ports.add(p)),
  );
  t.is(r.code, 0, r.stdout + r.stderr);
  t.is(ports.size, 3, `connections to the jump seen during the run: ${[...ports].join(', ')}`);
  t.deepEqual(split, [2, 4, 4], 'hosts per jump sshd');
  t.is(carried.size, 10);
  for (const h of HOSTS) t.is(r.hosts[h].changed, 3, `${h} configured`);
  const again = await run('cap4-again', ['--jump-channels', '4']);
  t.is(again.code, 0, again.stdout + again.stderr);
  for (const h of HOSTS) t.is(again.hosts[h].changed, 0, `${h} changed on the second run`);
});

test.serial("two jump connections (--jump-channels 5): one's sshd killed mid-apply marks only its 5 hosts unreachable; the others finish; exit 3; a re-run converges", async (t) => {
  await reset();
  let lost = new Set<string>();
  const r = await run('cap5-kill', ['--jump-channels', '5'], async () => {
    await Promise.all(HOSTS.map((h) => whenSlowChangeRuns(lab().id, h)));
    const by = hostsBySshd();
    t.deepEqual([...by.values()].map((s) => s.size), [5, 5], 'two jump connections of 5 hosts');
    const [pid, hosts] = [...by].find(([, s]) => s.has('rs1'))!;
    lost = hosts;
    // the whole sshd of that connection: the jump's per-connection process tree that holds the socket
    const jump = readState(labPaths(lab().dir))!.procs.find((p) => p.role === 'jump')!;
    const table = processTable();
    const trees = descendants(jump.pid, table).filter((p) => /^(\/usr\/sbin\/)?sshd/.test(p.args) && !/^(\/usr\/sbin\/)?sshd/.test(table.find((x) => x.pid === p.ppid)?.args ?? ''));
    const tree = trees.find((top) => top.pid === pid || descendants(top.pid, table).some((d) => d.pid === pid))!;
    t.truthy(tree, `the jump sshd holding rs1's connection (pid ${pid})`);
    for (const p of [tree, ...descendants(tree.pid, table)]) process.kill(p.pid, 'SIGKILL');
  });
  t.is(r.code, 3, r.stdout + r.stderr);
  t.is(lost.size, 5);
  for (const h of HOSTS) {
    if (lost.has(h)) {
      t.true(r.hosts[h].unreachable, `${h} was behind the killed connection`);
      t.is(r.ev.find((e) => e.event === 'unreachable' && e.host === h)?.inFlight, 'slow change (4 s)', h);
    } else {
      t.false(r.hosts[h].unreachable, `${h} was behind the other connection`);
      t.is(r.hosts[h].changed, 3, `${h} finished`);
    }
  }
  const again = await run('cap5-again', ['--jump-channels', '5']);
  t.is(again.code, 0, again.stdout + again.stderr);
  for (const h of HOSTS) t.false(again.hosts[h].unreachable, h);
  for (const h of HOSTS) t.is((await lab().ssh(h, 'ls /etc/lvsplay-test')).stdout, 'first\nslow-done\nthird\n', h);
});

test.serial('--jump-channels takes a whole number from 1 to 16384 (exit 5 before any host is touched); a bad lvsplay_jump_channels is exit 4', async (t) => {
  const r = await lvsplay(['run', PB, '-i', lab().inventory, '--jump-channels', '0']);
  t.is(r.code, 5);
  t.regex(r.stderr, /--jump-channels must be a whole number of hosts per jump connection from 1 to 16384, got "0"/);
  const bad = await lvsplay(['run', PB, '-i', lab().inventory, '-e', 'lvsplay_jump_channels=lots']);
  t.is(bad.code, 4, bad.stdout + bad.stderr);
  t.regex(bad.stderr, /lvsplay_jump_channels must be a whole number of hosts per connection to a jump host, from 1 to 16384 .*not "lots"/);
  t.regex(bad.stderr, /Nothing was changed on any host|nothing was changed on any host/);
});
