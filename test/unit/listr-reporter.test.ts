import test from 'ava';
import { ListrReporter } from '../../src/output/listr.ts';

// A host that fails before listr2 starts its row (its play waits behind the previous play's list) must not leave
// a rejected promise nobody handles: Node would end the run with an unhandled rejection instead of the recap.
test('a host failing before its listr2 row runs ends in the recap, not in an unhandled rejection', async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const out: string[] = [];
    const r = new ListrReporter((s) => out.push(s), false);
    r.event({ event: 'play_start', play: 'one', hosts: ['a'] } as any);
    r.event({ event: 'play_start', play: 'two', hosts: ['b'] } as any);
    // b fails while play one's list still holds the chain
    r.event({ event: 'unreachable', play: 'two', host: 'b', error: 'connect ECONNREFUSED' } as any);
    r.event({ event: 'host_done', play: 'two', host: 'b', status: 'unreachable', roundTrips: 0, ms: 1 } as any);
    await new Promise((res) => setTimeout(res, 50));
    r.event({ event: 'host_done', play: 'one', host: 'a', status: 'ok', roundTrips: 1, ms: 1 } as any);
    r.event({ event: 'recap', hosts: [], elapsedMs: 1, check: false, interrupted: [] } as any);
    await r.close();
    await new Promise((res) => setTimeout(res, 50));
    t.deepEqual(unhandled, []);
    t.regex(out.join(''), /unreachable: \[b\] connect ECONNREFUSED/);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
