/** Which host goes to which connection to a jump host, and when a further connection is dialed (src/transport/jump-lines.ts). */
import test from 'ava';
import { chooseLine, JumpLines } from '../../src/transport/jump-lines.ts';

test('chooseLine: the first connection with room takes the channel, a dialing one included; full ones open one more', (t) => {
  t.is(chooseLine([], 4), 'open');
  t.deepEqual(chooseLine([{ channels: 3, dialing: true }], 4), { take: 0 });
  t.is(chooseLine([{ channels: 4, dialing: false }], 4), 'open');
  t.deepEqual(chooseLine([{ channels: 4, dialing: false }, { channels: 2, dialing: false }], 4), { take: 1 });
  // a channel freed on the first connection is reused before the second fills
  t.deepEqual(chooseLine([{ channels: 3, dialing: false }, { channels: 1, dialing: false }], 4), { take: 0 });
});

test('chooseLine: every connection full and one still dialing: wait for it (never two dials at once)', (t) => {
  t.is(chooseLine([{ channels: 4, dialing: false }, { channels: 4, dialing: true }], 4), 'wait');
  t.is(chooseLine([{ channels: 1, dialing: true }], 1), 'wait');
});

/** A fake dial that records how many dials run at once; each dial finishes after a tick. */
function fakeDialer() {
  const d = { dials: 0, inFlight: 0, maxInFlight: 0, gone: [] as Array<() => void>, fail: undefined as Error | undefined };
  const dial = async (gone: () => void) => {
    d.dials++;
    d.inFlight++;
    d.maxInFlight = Math.max(d.maxInFlight, d.inFlight);
    await new Promise((r) => setTimeout(r, 5));
    d.inFlight--;
    if (d.fail) throw d.fail;
    d.gone.push(gone);
    return `client${d.dials}`;
  };
  return { d, dial };
}

test('10 hosts at once with a cap of 4: 3 connections (4, 4, 2), dialed one after the other', async (t) => {
  const lines = new JumpLines<string>();
  const { d, dial } = fakeDialer();
  const slots = await Promise.all(Array.from({ length: 10 }, () => lines.acquire(4, dial)));
  t.deepEqual(slots.map((s) => s.line), [1, 1, 1, 1, 2, 2, 2, 2, 3, 3]);
  t.deepEqual(slots.map((s) => s.client), ['client1', 'client1', 'client1', 'client1', 'client2', 'client2', 'client2', 'client2', 'client3', 'client3']);
  t.is(d.dials, 3);
  t.is(d.maxInFlight, 1);
  t.deepEqual(lines.channels(), [4, 4, 2]);
  t.deepEqual(lines.clients(), ['client1', 'client2', 'client3']);
});

test('a released channel is reused before a further connection is dialed; release twice counts once', async (t) => {
  const lines = new JumpLines<string>();
  const { d, dial } = fakeDialer();
  const slots = await Promise.all(Array.from({ length: 4 }, () => lines.acquire(2, dial)));
  t.deepEqual(lines.channels(), [2, 2]);
  slots[0].release();
  slots[0].release();
  t.deepEqual(lines.channels(), [1, 2]);
  const again = await lines.acquire(2, dial);
  t.is(again.line, 1);
  t.is(d.dials, 2);
});

test('the cap is the caller\'s: a host with a lower cap does not join a connection that carries as many', async (t) => {
  const lines = new JumpLines<string>();
  const { dial } = fakeDialer();
  await Promise.all([lines.acquire(4, dial), lines.acquire(4, dial)]);
  t.is((await lines.acquire(2, dial)).line, 2);
  t.is((await lines.acquire(4, dial)).line, 1);
});

test('a connection that is gone takes no more hosts: the next host dials a new one', async (t) => {
  const lines = new JumpLines<string>();
  const { d, dial } = fakeDialer();
  await Promise.all(Array.from({ length: 3 }, () => lines.acquire(2, dial)));
  d.gone[0](); // connection 1 closed; its hosts' own connections close with it
  t.deepEqual(lines.clients(), ['client2']);
  t.is((await lines.acquire(2, dial)).line, 2);
  const next = await lines.acquire(2, dial);
  t.is(next.line, 3);
  t.is(next.client, 'client3');
});

test('a failed dial fails every host waiting on it, those waiting for room too; the next host dials again', async (t) => {
  const lines = new JumpLines<string>();
  const { d, dial } = fakeDialer();
  d.fail = new Error('connection refused');
  const results = await Promise.allSettled(Array.from({ length: 5 }, () => lines.acquire(2, dial)));
  t.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected', 'rejected', 'rejected']);
  t.is((results[4] as PromiseRejectedResult).reason.message, 'connection refused');
  t.is(d.dials, 1, 'one dial for all of them: no retry storm on a bastion that is down');
  t.deepEqual(lines.channels(), []);
  d.fail = undefined;
  t.is((await lines.acquire(2, dial)).line, 2);
});
