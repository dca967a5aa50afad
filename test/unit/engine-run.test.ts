import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPlays } from '../../src/engine/run.ts';
import { expandPlay, hostInfo } from '../../src/engine/expand.ts';
import { serialBatches } from '../../src/engine/serial.ts';
import type { PreparedPlay } from '../../src/engine/prepare.ts';
import type { Play } from '../../src/engine/types.ts';
import type { RunEvent } from '../../src/output/events.ts';
import { UnreachableError, type Connection, type ExecResult } from '../../src/transport/types.ts';
import { spawn } from 'node:child_process';
import { LocalConnection } from '../helpers/local-connection.ts';
import { fakeInventory } from '../helpers/fake-inventory.ts';
import { appendLine, failing, testFile } from '../helpers/test-steps.ts';

function tmp(t: { teardown(f: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'lvsplay-engine-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function prepared(play: Play, hosts: string[]): PreparedPlay {
  const inv = fakeInventory(hosts);
  return {
    play,
    name: play.name ?? 'play',
    hosts,
    batches: serialBatches(hosts, play.serial),
    expansions: new Map(hosts.map((h) => [h, expandPlay(play, { host: hostInfo(inv, h), inventory: inv, playHosts: hosts })])),
  };
}

async function run(plays: PreparedPlay[], hosts: string[], opts: { check?: boolean; connect?: (h: string) => Promise<Connection>; conns?: Map<string, LocalConnection> } = {}) {
  const events: RunEvent[] = [];
  const conns = opts.conns ?? new Map<string, LocalConnection>();
  const res = await runPlays(plays, fakeInventory(hosts), {
    check: !!opts.check,
    diff: true,
    forks: 5,
    reporter: { event: (e) => events.push(e), close: async () => {} },
    connect:
      opts.connect ??
      (async (h) => {
        const c = conns.get(h) ?? new LocalConnection();
        conns.set(h, c);
        return c;
      }),
  });
  return { res, events, conns };
}

test('first run changes, second run changes nothing, check mode touches nothing', async (t) => {
  const d = tmp(t);
  const play: Play = { name: 'files', hosts: 'all', steps: [testFile(join(d, 'a'), 'A\n'), testFile(join(d, 'b'), 'B\n')] };
  const check = await run([prepared(play, ['h1'])], ['h1'], { check: true });
  t.is(check.res.recap.h1.changed, 2);
  t.false(existsSync(join(d, 'a')), '--check wrote a file');
  t.is(check.res.recap.h1.roundTrips, 1, 'check mode: one exec (facts) per host');

  const first = await run([prepared(play, ['h1'])], ['h1']);
  t.is(first.res.recap.h1.changed, 2);
  t.is(readFileSync(join(d, 'a'), 'utf8'), 'A\n');
  t.is(first.res.recap.h1.roundTrips, 2, 'one exec for facts, one for all changes');

  const second = await run([prepared(play, ['h1'])], ['h1']);
  t.is(second.res.recap.h1.changed, 0);
  t.is(second.res.recap.h1.ok, 2);
  t.is(second.res.recap.h1.roundTrips, 1, 'nothing to change: no apply exec');
});

test('round trips per host do not grow with the number of steps', async (t) => {
  const d = tmp(t);
  const steps = Array.from({ length: 40 }, (_, i) => testFile(join(d, `f${i}`), `${i}\n`));
  const r = await run([prepared({ hosts: 'all', steps }, ['h1'])], ['h1']);
  t.is(r.res.recap.h1.changed, 40);
  t.is(r.res.recap.h1.roundTrips, 2);
});

test('a failed change stops the host at that step and names it; other hosts go on', async (t) => {
  const d = tmp(t);
  const play: Play = { hosts: 'all', steps: [testFile(join(d, 'x'), 'x'), failing('disk full'), testFile(join(d, 'never'), 'n')] };
  const r = await run([prepared(play, ['h1'])], ['h1']);
  t.true(r.res.failed.has('h1'));
  const failedStep = r.events.find((e) => e.event === 'step' && e.status === 'failed');
  t.truthy(failedStep);
  t.regex((failedStep as { error: string }).error, /fail disk full.*exit 1.*disk full/s);
  t.true(existsSync(join(d, 'x')), 'the change before the failure was applied');
  t.false(existsSync(join(d, 'never')), 'the change after the failure did not run');
  t.is(r.res.recap.h1.failed, 1);
  t.is(r.res.recap.h1.changed, 1);
});

test('handlers run once at the end of the play, only when notified', async (t) => {
  const d = tmp(t);
  const log = join(d, 'handler.log');
  const play: Play = {
    hosts: 'all',
    steps: [testFile(join(d, 'c1'), '1', { notify: ['reload'] }), testFile(join(d, 'c2'), '2', { notify: ['reload'] }), testFile(join(d, 'c3'), '3')],
    handlers: { reload: appendLine(log, 'reloaded'), other: appendLine(log, 'other') },
  };
  await run([prepared(play, ['h1'])], ['h1']);
  t.is(readFileSync(log, 'utf8'), 'reloaded\n');
  await run([prepared(play, ['h1'])], ['h1']);
  t.is(readFileSync(log, 'utf8'), 'reloaded\n', 'no change → handler not run again');
  writeFileSync(join(d, 'c3'), 'drift');
  await run([prepared(play, ['h1'])], ['h1']);
  t.is(readFileSync(log, 'utf8'), 'reloaded\n', 'c3 does not notify');
});

test('a notified handler that does not exist fails the host with its name', async (t) => {
  const d = tmp(t);
  const r = await run([prepared({ hosts: 'all', steps: [testFile(join(d, 'z'), 'z', { notify: ['nope'] })] }, ['h1'])], ['h1']);
  t.true(r.res.failed.has('h1'));
  t.true(r.events.some((e) => e.event === 'step' && e.status === 'failed' && /no handler named "nope"/.test(e.error ?? '')));
});

test('an unreachable host is marked; the others complete; it is skipped in later plays', async (t) => {
  const d = tmp(t);
  const hosts = ['h1', 'bad', 'h2'];
  const mk = (n: string) => prepared({ name: n, hosts: 'all', steps: [(ctx: { host: { name: string } }) => testFile(join(d, `${n}-${ctx.host.name}`), 'x')] }, hosts);
  const r = await run([mk('p1'), mk('p2')], hosts, {
    connect: async (h) => {
      if (h === 'bad') throw new UnreachableError(h, 'bad: connect ECONNREFUSED 127.0.0.1:1');
      return new LocalConnection();
    },
  });
  t.true(r.res.unreachable.has('bad'));
  t.true(r.res.recap.bad.unreachable);
  t.true(existsSync(join(d, 'p2-h1')) && existsSync(join(d, 'p2-h2')));
  t.is(r.events.filter((e) => e.event === 'unreachable').length, 1, 'not retried in the second play');
});

test('serial batches and maxFailPercentage stop the play', async (t) => {
  const d = tmp(t);
  const hosts = ['a', 'b', 'c', 'd'];
  const play: Play = { hosts: 'all', serial: 1, maxFailPercentage: 0, steps: [(ctx: { host: { name: string } }) => (ctx.host.name === 'b' ? failing('b breaks') : testFile(join(d, ctx.host.name), 'x'))] };
  const r = await run([prepared(play, hosts)], hosts);
  t.true(r.res.aborted);
  t.true(existsSync(join(d, 'a')));
  t.false(existsSync(join(d, 'c')), 'batches after the failing one did not run');
});

test('serial: numbers, percentages and lists as Ansible', (t) => {
  const hs = Array.from({ length: 10 }, (_, i) => i);
  t.deepEqual(serialBatches(hs, 3).map((b) => b.length), [3, 3, 3, 1]);
  t.deepEqual(serialBatches(hs, '30%').map((b) => b.length), [3, 3, 3, 1]);
  t.deepEqual(serialBatches(hs, [1, '50%']).map((b) => b.length), [1, 5, 4]);
  t.deepEqual(serialBatches(hs, '1%').map((b) => b.length), Array(10).fill(1));
  t.throws(() => serialBatches(hs, 'half'), { message: /serial must be/ });
});

test('plans see the predicted state of earlier steps (ctx.predict)', async (t) => {
  const seen: unknown[] = [];
  const play: Play = {
    hosts: 'all',
    steps: [
      { kind: 'a', name: 'a', facts: [], plan: (ctx) => (ctx.predict.module('ip_vs').set(true), { changes: [] }) },
      { kind: 'b', name: 'b', facts: [], plan: (ctx) => (seen.push(ctx.predict.module('ip_vs').get()), { changes: [] }) },
    ],
  };
  await run([prepared(play, ['h1'])], ['h1']);
  t.deepEqual(seen, [true]);
});

test('--tags: a step runs when it has a wanted tag or "always"; a role name is a tag of its steps', async (t) => {
  const { selectedByTags } = await import('../../src/engine/expand.ts');
  t.true(selectedByTags(['a'], undefined));
  t.true(selectedByTags(['a'], ['all']));
  t.true(selectedByTags(['a', 'b'], ['b']));
  t.false(selectedByTags(['a'], ['b']));
  t.true(selectedByTags(['always'], ['b']));
  const role = { role: 'realserver-dr', steps: () => [appendLine('/dev/null', 'x')] };
  const inv = fakeInventory(['h1']);
  const exp = expandPlay({ hosts: 'all', roles: [role], tags: ['play-tag'] }, { host: hostInfo(inv, 'h1'), inventory: inv, playHosts: ['h1'] });
  t.deepEqual(exp.steps[0]!.tags, ['play-tag', 'realserver-dr']);
});

/** A local shell whose "connection" dies when the apply script reaches the given change (its begin marker). */
class DyingConnection extends LocalConnection {
  constructor(private readonly dieAtSection: number) {
    super();
  }
  override exec(script: string): Promise<ExecResult> {
    if (this.roundTrips === 0) return super.exec(script); // facts
    this.roundTrips++;
    return new Promise((resolve, reject) => {
      const p = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'ignore'] });
      let stdout = '';
      p.stdout.on('data', (d) => {
        stdout += d;
        const m = new RegExp(`@@[0-9a-f]+:B:${this.dieAtSection}@@\n`).exec(stdout);
        if (m) {
          p.kill('SIGKILL');
          // what had arrived when the connection died: up to that change's begin marker
          reject(new UnreachableError(this.spec.name, 'connection to root@h1:22 was closed', stdout.slice(0, m.index + m[0].length)));
        }
      });
      p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr: '' }));
      p.stdin.end(script);
    });
  }
}

test('a connection lost mid-apply: the changes known applied are reported, the one in flight named, the host unreachable', async (t) => {
  const d = tmp(t);
  const conn = new DyingConnection(2);
  const play = prepared({ name: 'p', hosts: 'all', steps: [testFile(join(d, 'a'), 'a'), testFile(join(d, 'b'), 'b'), testFile(join(d, 'c'), 'c'), testFile(join(d, 'e'), 'e')] }, ['h1']);
  const r = await run([play], ['h1'], { connect: async () => conn });
  t.true(r.res.unreachable.has('h1'));
  t.false(r.res.failed.has('h1'));
  t.deepEqual(r.events.filter((e) => e.event === 'step').map((e) => (e as { step: string }).step), [`testfile ${join(d, 'a')}`, `testfile ${join(d, 'b')}`]);
  t.is(r.res.recap.h1.changed, 2);
  const lost = r.events.find((e) => e.event === 'unreachable') as Extract<RunEvent, { event: 'unreachable' }>;
  t.deepEqual(lost.applied, [`write ${join(d, 'a')}`, `write ${join(d, 'b')}`]);
  t.is(lost.inFlight, `write ${join(d, 'c')}`);
  t.regex(lost.error, /was closed; applied before the loss: "write .*\/a", "write .*\/b"; in flight: "write .*\/c" \(it may or may not have completed; a re-run converges\)/);
});

test('a connection lost before the apply script printed anything: nothing known applied, nothing in flight', async (t) => {
  const d = tmp(t);
  const play = prepared({ name: 'p', hosts: 'all', steps: [testFile(join(d, 'a'), 'a')] }, ['h1']);
  const conn = new LocalConnection();
  let n = 0;
  const lossy: Connection = {
    spec: conn.spec,
    get roundTrips() {
      return n;
    },
    exec: async (s) => (++n === 1 ? conn.exec(s) : Promise.reject(new UnreachableError('h1', 'h1 stopped answering', ''))),
    close: async () => {},
  };
  const r = await run([play], ['h1'], { connect: async () => lossy });
  const lost = r.events.find((e) => e.event === 'unreachable') as Extract<RunEvent, { event: 'unreachable' }>;
  t.deepEqual(lost.applied, []);
  t.is(lost.inFlight, undefined);
  t.is(lost.error, 'h1 stopped answering; no change was applied before the loss');
});
