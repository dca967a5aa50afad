import test from 'ava';
import type { Probe } from '../../src/verify/probe-output.ts';
import {
  cyclePhase,
  failuresByPhase,
  analyzeFailover,
  estimateOffset,
  failoverVerdict,
  holderTimeline,
  noHolderMs,
  parseDuration,
  probeWindow,
  serialBatches,
  splitBrainIntervals,
} from '../../src/drill/timeline.ts';
import { parseAddrLine, VipWatchParser } from '../../src/drill/vip-watch.ts';

/** Probes every 30 ms from `from` to `to`; failing inside [failFrom, failTo). */
function probes(from: number, to: number, failFrom = Infinity, failTo = -Infinity, backend = (t: number) => (t < 5000 ? 'rs1' : 'rs2')): Probe[] {
  const out: Probe[] = [];
  for (let t = from, seq = 1; t < to; t += 30, seq++) {
    const ok = !(t >= failFrom && t < failTo);
    out.push({ seq, t, ms: 2, ok, info: ok ? backend(t) : 'timeout' });
  }
  return out;
}

test('graceful stop: takeover, lost probes, longest gap, preempt-back', (t) => {
  const holds = [
    { t: 0, host: 'dir1', holds: true },
    { t: 0, host: 'dir2', holds: false },
    { t: 2100, host: 'dir1', holds: false },
    { t: 2650, host: 'dir2', holds: true },
    { t: 8400, host: 'dir1', holds: true },
    { t: 8420, host: 'dir2', holds: false },
  ];
  const a = analyzeFailover({ master: 'dir1', backups: ['dir2'], holds, probes: probes(0, 11000, 2100, 2700), faultAt: 2000, restoreAt: 7000, endAt: 11000, nopreempt: false });
  t.is(a.takeoverMs, 650);
  t.is(a.newMaster, 'dir2');
  t.is(a.releasedMs, 100);
  t.is(a.preemptBackMs, 1420);
  t.is(a.noHolderMs, 550);
  // 20 ms of both holding at preempt time is split brain by the book
  t.is(a.splitBrainMs, 20);
  t.is(a.lost, 20);
  t.is(a.fault.failed, 20);
  t.is(a.baseline.failed, 0);
  t.true(a.longestGapMs >= 600 && a.longestGapMs <= 660, String(a.longestGapMs));
  const v = failoverVerdict(a, { maxTakeoverMs: 5000, maxLost: 25 }, { nopreempt: false, master: 'dir1', probed: true });
  t.deepEqual(v, [], 'a 20 ms overlap at the handover is within the default tolerance');
  t.deepEqual(failoverVerdict(a, { maxTakeoverMs: 5000, maxLost: 25, maxSplitBrainMs: 0 }, { nopreempt: false, master: 'dir1', probed: true }), ['split brain for 20ms (longest 20ms, max 0ms): dir1 and dir2 held the VIP at once']);
});

test('link down: every probe fails from the fault to the takeover: the longest gap starts at the last success before the fault', (t) => {
  const holds = [
    { t: 0, host: 'dir1', holds: true },
    { t: 0, host: 'dir2', holds: false },
    { t: 2060, host: 'dir1', holds: false },
    { t: 5350, host: 'dir2', holds: true },
  ];
  // probes every 30 ms from 0: the last success starts at 1980, all fail from 2010 (after the fault at 2000) to 5350
  const a = analyzeFailover({ master: 'dir1', backups: ['dir2'], holds, probes: probes(0, 8000, 2000, 5350), faultAt: 2000, restoreAt: 8000, endAt: 8000, nopreempt: false });
  t.is(a.lost, 112);
  t.is(a.longestGapMs, 5370 - 1980, 'from the last success before the fault to the first after the takeover');
});

test('SIGKILL: the killed master keeps the VIP, split brain and thresholds fail the drill', (t) => {
  const holds = [
    { t: 0, host: 'dir1', holds: true },
    { t: 0, host: 'dir2', holds: false },
    { t: 5500, host: 'dir2', holds: true },
  ];
  const a = analyzeFailover({ master: 'dir1', backups: ['dir2'], holds, probes: probes(0, 9000), faultAt: 2000, restoreAt: 7000, endAt: 9000, nopreempt: false });
  t.is(a.takeoverMs, 3500);
  t.is(a.releasedMs, undefined);
  t.is(a.splitBrainMs, 3500);
  t.is(a.preemptBackMs, undefined);
  const v = failoverVerdict(a, { maxTakeoverMs: 3000, maxLost: 0 }, { nopreempt: false, master: 'dir1', probed: true });
  t.is(v.length, 3);
  t.regex(v[0]!, /takeover took 3\.50s \(max 3\.00s\)/);
  t.regex(v[1]!, /split brain for 3\.50s/);
  t.regex(v[2]!, /did not take the VIP back/);
});

test('no takeover at all, and nopreempt: staying on the backup is the expected outcome', (t) => {
  const none = analyzeFailover({ master: 'a', backups: ['b'], holds: [{ t: 0, host: 'a', holds: true }, { t: 1500, host: 'a', holds: false }], probes: [], faultAt: 1000, restoreAt: 5000, endAt: 6000, nopreempt: false });
  t.is(none.takeoverMs, undefined);
  t.is(none.noHolderMs, 4500);
  t.regex(failoverVerdict(none, { maxTakeoverMs: 5000, maxLost: 0 }, { nopreempt: false, master: 'a', probed: false })[0]!, /no backup took the VIP over/);
  const np = analyzeFailover({ master: 'a', backups: ['b'], holds: [{ t: 0, host: 'a', holds: true }, { t: 1000, host: 'a', holds: false }, { t: 1800, host: 'b', holds: true }], probes: [], faultAt: 1000, restoreAt: 5000, endAt: 9000, nopreempt: true });
  t.is(np.preemptBackMs, undefined);
  t.deepEqual(failoverVerdict(np, { maxTakeoverMs: 5000, maxLost: 0 }, { nopreempt: true, master: 'a', probed: false }), []);
});

test('timeline helpers', (t) => {
  const tl = holderTimeline([{ t: 10, host: 'a', holds: true }, { t: 10, host: 'b', holds: false }, { t: 20, host: 'b', holds: true }, { t: 30, host: 'a', holds: false }]);
  t.deepEqual(tl, [{ t: 10, holders: ['a'] }, { t: 20, holders: ['a', 'b'] }, { t: 30, holders: ['b'] }]);
  t.deepEqual(splitBrainIntervals(tl, 0, 100), [{ from: 20, to: 30, hosts: ['a', 'b'] }]);
  t.is(noHolderMs(tl, 0, 100), 10);
  t.is(estimateOffset([{ remote: 1000, local: 5030 }, { remote: 2000, local: 6010 }, { remote: 3000, local: 7100 }]), 4010);
  t.is(estimateOffset([]), 0);
  const w = probeWindow(probes(0, 3000, 1000, 1600), 0, 3000);
  t.is(w.failed, 20);
  t.deepEqual(w.errors, { timeout: 20 });
  t.is(w.longestGapMs, 630);
  // a window ending while probes still fail: the gap runs to the window's end
  t.is(probeWindow(probes(0, 3000, 2000, 9999), 0, 3000).longestGapMs, 1020);
});

test('parseDuration and serialBatches', (t) => {
  t.is(parseDuration('5s'), 5000);
  t.is(parseDuration('500ms'), 500);
  t.is(parseDuration('1.5s'), 1500);
  t.is(parseDuration('2m'), 120_000);
  t.is(parseDuration('3'), 3000);
  t.is(parseDuration('fast'), undefined);
  t.deepEqual(serialBatches(['a', 'b', 'c'], 1), [['a'], ['b'], ['c']]);
  t.deepEqual(serialBatches(['a', 'b', 'c', 'd'], '50%'), [['a', 'b'], ['c', 'd']]);
  t.deepEqual(serialBatches(['a', 'b', 'c'], '10%'), [['a'], ['b'], ['c']]);
  t.deepEqual(serialBatches(['a', 'b', 'c'], '2'), [['a', 'b'], ['c']]);
  t.throws(() => serialBatches(['a'], '0'));
  t.throws(() => serialBatches(['a'], 'x%'));
});

test('ip addr / ip monitor lines and the VIP watcher', (t) => {
  t.deepEqual(parseAddrLine('3: eth1    inet 198.18.0.100/32 scope global eth1\\       valid_lft forever preferred_lft forever'), { deleted: false, ifname: 'eth1', address: '198.18.0.100' });
  t.deepEqual(parseAddrLine('Deleted 3: eth1    inet 198.18.0.100/32 scope global eth1'), { deleted: true, ifname: 'eth1', address: '198.18.0.100' });
  t.deepEqual(parseAddrLine('[ADDR]3: eth1    inet 10.0.0.1/24 brd 10.0.0.255 scope global eth1'), { deleted: false, ifname: 'eth1', address: '10.0.0.1' });
  t.is(parseAddrLine('2: eth0    inet6 fe80::1/64 scope link'), undefined);
  const w = new VipWatchParser('dir1', '198.18.0.100');
  w.push('PID 4242\n@@initial\n1: lo    inet 127.0.0.1/8 scope host lo\n1: lo    inet 198.18.0.100/32 scope global lo\n3: eth1    inet 198.18.0.1', 100);
  t.false(w.ready);
  w.push('1/24 scope global eth1\n3: eth1    inet 198.18.0.100/32 scope global eth1\n@@monitor\n', 110);
  t.true(w.ready);
  t.is(w.pid, 4242);
  w.push('Deleted 3: eth1    inet 198.18.0.100/32 scope global eth1\n', 500);
  w.push('3: eth1    inet 198.18.0.100/32 scope global eth1\n1: lo    inet 198.18.0.100/32 scope global lo\n', 900);
  t.deepEqual(w.events, [
    { t: 110, host: 'dir1', holds: true },
    { t: 500, host: 'dir1', holds: false },
    { t: 900, host: 'dir1', holds: true },
  ]);
  // a DR real server holds the VIP on lo only: not a holder
  const rs = new VipWatchParser('rs1', '198.18.0.100');
  rs.push('PID 1\n@@initial\n1: lo    inet 198.18.0.100/32 scope global lo\n@@monitor\n', 5);
  t.deepEqual(rs.events, [{ t: 5, host: 'rs1', holds: false }]);
});

test('failed probes of a real server cycle are counted by the phase they started in', (t) => {
  const at = { drain: 1000, stop: 2000, removed: 3000, start: 4000, back: 5000 };
  t.is(cyclePhase(at, 500), 'draining');
  t.is(cyclePhase(at, 1999), 'draining');
  t.is(cyclePhase(at, 2000), 'stopped');
  t.is(cyclePhase(at, 3500), 'removed');
  t.is(cyclePhase(at, 4000), 'restarting');
  t.is(cyclePhase(at, 9000), 'rejoined');
  // not removed by the health checker: stopped until the restart
  t.is(cyclePhase({ drain: 1000, stop: 2000, start: 4000 }, 3500), 'stopped');
  const p = (time: number, ok: boolean): Probe => ({ seq: time, t: time, ms: 5, ok, info: ok ? 'rs2' : 'ECONNREFUSED' });
  const probes = [p(900, false), p(1500, true), p(2100, false), p(2200, false), p(3100, false), p(4500, true), p(5100, false), p(7000, false)];
  t.deepEqual(failuresByPhase(probes, at, 1000, 6000), { stopped: 2, removed: 1, rejoined: 1 });
});
