// Issue 15 point 2, end to end on tier 1: a connection that dies mid-apply never hangs the run. The real CLI runs a
// 4-host play whose middle change takes 4 s; while it runs, rs1's sshd session is killed, or the jump host's session,
// or rs1's network goes down (its veth in the switch namespace). The host is marked unreachable within the keepalive
// window, naming what it applied and what was in flight; the other hosts finish; exit 3; a re-run converges.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useLab } from '../helpers/lab.ts';
import { lvsplay, jsonLines } from '../helpers/cli.ts';
import { readState } from '../../src/lab/state.ts';
import { labPaths } from '../../src/lab/paths.ts';
import { whenSlowChangeRuns as slowChangeRuns } from '../helpers/slow-apply.ts';
import { descendants, processTable } from '../helpers/processes.ts';

const lab = useLab(test, { topology: 'test/fixtures/lab/four.yaml' });
const PB = 'test/fixtures/playbooks/slow-apply.ts';
const HOSTS = ['rs1', 'rs2', 'rs3', 'rs4'];

const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });
const ns = (host: string) => `lvp-${lab().id}-${host}`;
const whenSlowChangeRuns = (host: string) => slowChangeRuns(lab().id, host);

/** SIGKILL the sshd session processes (not the listener) serving connections to the host. */
function killHostSessions(host: string): number {
  const inNs = new Set(sh(`ip netns pids ${ns(host)}`).split('\n').filter(Boolean).map(Number));
  const listener = processTable().find((p) => inNs.has(p.pid) && p.args.includes('[listener]'));
  if (!listener) throw new Error(`no sshd listener in ${ns(host)}`);
  const sessions = processTable().filter((p) => p.ppid === listener.pid && p.args.startsWith('sshd'));
  for (const s of sessions) process.kill(s.pid, 'SIGKILL');
  return sessions.length;
}

/** SIGKILL the jump host's sshd sessions (one per connection through it). */
function killJumpSessions(): number {
  const jump = readState(labPaths(lab().dir))!.procs.find((p) => p.role === 'jump')!;
  const sessions = descendants(jump.pid).filter((p) => /^(\/usr\/sbin\/)?sshd/.test(p.args));
  for (const s of sessions) process.kill(s.pid, 'SIGKILL');
  return sessions.length;
}

/** The switch-side end of the host's management veth (eth0@ifN in the host: N is its ifindex in the switch). */
function switchPort(host: string): string {
  const idx = /eth0@if(\d+)/.exec(sh(`ip -netns ${ns(host)} -o link show eth0`))![1];
  const line = sh(`ip -netns lvp-${lab().id}.sw -o link`).split('\n').find((l) => l.startsWith(`${idx}: `))!;
  return /^\d+: ([^@:]+)/.exec(line)![1];
}

async function reset(): Promise<void> {
  for (const h of HOSTS) await lab().ssh(h, 'rm -rf /etc/lvsplay-test');
}

async function run(tag: string, extra: string[] = [], during?: () => Promise<void>) {
  const json = join(lab().dir, `${tag}.jsonl`);
  const t0 = Date.now();
  const p = lvsplay(['run', PB, '-i', lab().inventory, '--no-verify', '--json', json, ...extra], { timeoutMs: 120_000 });
  let faultAt = t0;
  if (during) {
    await during();
    faultAt = Date.now();
  }
  const r = await p;
  const ev = jsonLines(readFileSync(json, 'utf8'));
  const recap = ev.at(-1)!;
  return { ...r, ev, hosts: recap.hosts as Record<string, { changed: number; unreachable: boolean }>, afterFaultMs: Date.now() - faultAt, recap };
}

async function converges(t: import('ava').ExecutionContext) {
  const again = await run('again');
  t.is(again.code, 0, again.stdout + again.stderr);
  for (const h of HOSTS) t.false(again.hosts[h].unreachable);
  const third = await run('third');
  t.is(third.code, 0);
  for (const h of HOSTS) t.is(third.hosts[h].changed, 0, `${h} changed on the third run`);
  for (const h of HOSTS) t.is((await lab().ssh(h, 'cat /etc/lvsplay-test/first /etc/lvsplay-test/third; ls /etc/lvsplay-test/slow-done')).stdout, 'first\nthird\n/etc/lvsplay-test/slow-done\n');
}

test.serial("rs1's sshd session killed mid-apply: rs1 unreachable at once, naming what it applied and the change in flight; the others finish; exit 3", async (t) => {
  await reset();
  const r = await run('host-kill', [], async () => {
    await whenSlowChangeRuns('rs1');
    t.true(killHostSessions('rs1') >= 1);
  });
  t.is(r.code, 3, r.stdout + r.stderr);
  t.true(r.afterFaultMs < 10_000, `the run ended ${r.afterFaultMs} ms after the kill`);
  t.true(r.hosts.rs1.unreachable);
  t.is(r.hosts.rs1.changed, 1, 'the first change is known applied');
  for (const h of ['rs2', 'rs3', 'rs4']) t.is(r.hosts[h].changed, 3, `${h} finished`);
  const lost = r.ev.find((e) => e.event === 'unreachable' && e.host === 'rs1')!;
  t.deepEqual(lost.applied, ['create /etc/lvsplay-test/first']);
  t.is(lost.inFlight, 'slow change (4 s)');
  t.regex(r.stdout, /unreachable: \[rs1\] .*was closed; applied before the loss: "create \/etc\/lvsplay-test\/first"; in flight: "slow change \(4 s\)"/);
  t.regex(r.stdout, /PLAY RECAP/);
  await converges(t);
});

test.serial("the jump host's session killed mid-apply: every host behind it unreachable at once; exit 3; a re-run converges", async (t) => {
  await reset();
  const r = await run('jump-kill', [], async () => {
    await whenSlowChangeRuns('rs1');
    t.true(killJumpSessions() >= 1);
  });
  t.is(r.code, 3, r.stdout + r.stderr);
  t.true(r.afterFaultMs < 10_000, `the run ended ${r.afterFaultMs} ms after the kill`);
  for (const h of HOSTS) {
    t.true(r.hosts[h].unreachable, h);
    const lost = r.ev.find((e) => e.event === 'unreachable' && e.host === h)!;
    t.is(lost.inFlight, 'slow change (4 s)', h);
  }
  await converges(t);
});

test.serial("rs1's network down mid-apply: unreachable within the keepalive window (--keepalive 6), the others finish; exit 3", async (t) => {
  await reset();
  const port = switchPort('rs1');
  try {
    const r = await run('net-down', ['--keepalive', '6'], async () => {
      await whenSlowChangeRuns('rs1');
      sh(`ip -netns lvp-${lab().id}.sw link set ${port} down`);
    });
    t.is(r.code, 3, r.stdout + r.stderr);
    // silence counts from the last packet rs1 sent (up to ~1 s before the link went down)
    t.true(r.afterFaultMs >= 4000 && r.afterFaultMs < 6000 + 4000, `the run ended ${r.afterFaultMs} ms after the link went down`);
    t.true(r.hosts.rs1.unreachable);
    for (const h of ['rs2', 'rs3', 'rs4']) t.is(r.hosts[h].changed, 3, `${h} finished`);
    t.regex(r.stdout, /unreachable: \[rs1\] .*stopped answering: no reply to SSH keepalives.*applied before the loss: "create \/etc\/lvsplay-test\/first"; in flight: "slow change \(4 s\)"/);
  } finally {
    sh(`ip -netns lvp-${lab().id}.sw link set ${port} up`);
  }
  await converges(t);
});

test.serial('--keepalive takes seconds from 1 to 3600 (exit 5 otherwise, before any host is touched)', async (t) => {
  const r = await lvsplay(['run', PB, '-i', lab().inventory, '--keepalive', '0']);
  t.is(r.code, 5);
  t.regex(r.stderr, /--keepalive must be a number of seconds from 1 to 3600, got "0"/);
});
