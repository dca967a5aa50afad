import test from 'ava';
import { evaluate, expectedShares, ruleFor, type BackendExpectation } from '../../src/verify/expect.ts';

const two: BackendExpectation[] = [
  { label: 'rs1', weight: 1, healthy: true },
  { label: 'rs2', weight: 1, healthy: true },
];
const counts = (o: Record<string, number>) => new Map(Object.entries(o));

test('ruleFor: rr/wrr shares, hashing and persistence sticky, the rest reach-all', (t) => {
  t.is(ruleFor('rr', undefined), 'shares');
  t.is(ruleFor('wrr', undefined), 'shares');
  t.is(ruleFor('rr', 300), 'sticky');
  for (const s of ['sh', 'mh', 'dh', 'lblc', 'lblcr', 'fo', 'ovf']) t.is(ruleFor(s, undefined), 'sticky', s);
  for (const s of ['lc', 'wlc', 'sed', 'nq']) t.is(ruleFor(s, undefined), 'reach-all', s);
});

test('sh/mh with their -port flag hash the client port: shares by weight; without it (or with persistence) sticky', (t) => {
  t.is(ruleFor('mh', undefined, ['mh-port']), 'shares');
  t.is(ruleFor('sh', undefined, ['sh-port', 'sh-fallback']), 'shares');
  t.is(ruleFor('mh', undefined, ['mh-fallback']), 'sticky');
  t.is(ruleFor('mh', undefined, ['sh-port']), 'sticky', "another scheduler's flag changes nothing");
  t.is(ruleFor('mh', 300, ['mh-port']), 'sticky', 'persistence pins a client whatever the hash');
  const w12: BackendExpectation[] = [
    { label: 'rs1', weight: 1, healthy: true },
    { label: 'rs2', weight: 2, healthy: true },
  ];
  const fits = evaluate({ scheduler: 'mh', schedulerFlags: ['mh-port'], backends: w12, counts: counts({ rs1: 101, rs2: 199 }), failed: 0, maxFailed: 0 });
  t.true(fits.pass, fits.reasons.join('; '));
  t.is(fits.rule, 'shares');
  t.is(Math.round(fits.expected.rs2! * 100), 67);
  const even = evaluate({ scheduler: 'mh', schedulerFlags: ['mh-port'], backends: w12, counts: counts({ rs1: 150, rs2: 150 }), failed: 0, maxFailed: 0 });
  t.false(even.pass, 'mh is weighted: 50/50 does not fit weights 1:2');
  t.regex(even.reasons.join('\n'), /does not fit the mh shares/);
});

test('expectedShares: rr ignores weights, wrr follows them, unhealthy and weight-0 servers get nothing', (t) => {
  const b: BackendExpectation[] = [
    { label: 'a', weight: 2, healthy: true },
    { label: 'b', weight: 1, healthy: true },
    { label: 'c', weight: 1, healthy: false },
    { label: 'd', weight: 0, healthy: true },
  ];
  t.deepEqual(Object.fromEntries(expectedShares('rr', b)), { a: 0.5, b: 0.5, c: 0, d: 0 });
  const w = expectedShares('wrr', b);
  t.true(Math.abs(w.get('a')! - 2 / 3) < 1e-12);
  t.true(Math.abs(w.get('b')! - 1 / 3) < 1e-12);
});

test('rr 50/50 passes; 70/30 fails with the chi-square reason; verdict rows say which backend is off', (t) => {
  const ok = evaluate({ scheduler: 'rr', backends: two, counts: counts({ rs1: 50, rs2: 50 }), failed: 0, maxFailed: 0 });
  t.true(ok.pass);
  t.is(ok.rule, 'shares');
  t.deepEqual(ok.expected, { rs1: 0.5, rs2: 0.5 });
  t.deepEqual(ok.observed, { rs1: 0.5, rs2: 0.5 });
  t.deepEqual(ok.rows.map((r) => r.verdict), ['ok', 'ok']);
  const bad = evaluate({ scheduler: 'rr', backends: two, counts: counts({ rs1: 70, rs2: 30 }), failed: 0, maxFailed: 0 });
  t.false(bad.pass);
  t.regex(bad.reasons.join('\n'), /does not fit the rr shares: chi-square 16\.00, df 1, p = .* < 0\.001/);
  t.deepEqual(bad.rows.map((r) => r.verdict), ['HIGH', 'LOW']);
});

test('wrr 2:1 passes at 66/34 and fails when traffic is split evenly (a weight changed behind our back)', (t) => {
  const w: BackendExpectation[] = [
    { label: 'rs1', weight: 2, healthy: true },
    { label: 'rs2', weight: 1, healthy: true },
  ];
  t.true(evaluate({ scheduler: 'wrr', backends: w, counts: counts({ rs1: 66, rs2: 34 }), failed: 0, maxFailed: 0 }).pass);
  t.false(evaluate({ scheduler: 'wrr', backends: w, counts: counts({ rs1: 50, rs2: 50 }), failed: 0, maxFailed: 0 }).pass);
});

test('a stopped web server without health check: failed probes and a missing backend fail the service', (t) => {
  const e = evaluate({ scheduler: 'rr', backends: two, counts: counts({ rs1: 50 }), failed: 50, maxFailed: 0 });
  t.false(e.pass);
  t.regex(e.reasons.join('\n'), /50 of 100 probes failed \(allowed: 0\)/);
  t.is(e.rows.find((r) => r.backend === 'rs2')!.verdict, 'MISSING');
  t.is(e.observed['(failed)'], 0.5);
});

test('a backend removed by the health checker: expected stays the declared share (DOWN), the rest fits among itself', (t) => {
  const b = [two[0]!, { ...two[1]!, healthy: false }];
  const e = evaluate({ scheduler: 'rr', backends: b, counts: counts({ rs1: 100 }), failed: 0, maxFailed: 0 });
  t.true(e.pass, e.reasons.join('; '));
  t.deepEqual(e.expected, { rs1: 0.5, rs2: 0.5 });
  t.deepEqual(e.rows.map((r) => r.verdict), ['ok', 'DOWN']);
  // accepted as down: it is expected to get nothing
  const a = evaluate({ scheduler: 'rr', backends: [two[0]!, { ...two[1]!, healthy: false, allowedDown: true }], counts: counts({ rs1: 100 }), failed: 0, maxFailed: 0 });
  t.deepEqual(a.expected, { rs1: 1, rs2: 0 });
  t.is(a.rows[1]!.verdict, 'down (allowed)');
});

test('answers from an unknown backend fail (stale real server), as does no healthy server', (t) => {
  const e = evaluate({ scheduler: 'rr', backends: two, counts: counts({ rs1: 40, rs2: 40, old9: 20 }), failed: 0, maxFailed: 0 });
  t.false(e.pass);
  t.regex(e.reasons.join('\n'), /20 probes answered by "old9"/);
  const none = evaluate({ scheduler: 'rr', backends: two.map((b) => ({ ...b, healthy: false })), counts: counts({}), failed: 10, maxFailed: 100 });
  t.false(none.pass);
  t.regex(none.reasons.join('\n'), /no healthy real server/);
});

test('sticky: all on one backend passes, spread fails; reach-all needs every healthy server', (t) => {
  const sticky = evaluate({ scheduler: 'sh', backends: two, counts: counts({ rs2: 100 }), first: 'rs2', failed: 0, maxFailed: 0 });
  t.true(sticky.pass);
  t.deepEqual(sticky.expected, { rs1: 0, rs2: 1 });
  const spread = evaluate({ scheduler: 'rr', persistence: 300, backends: two, counts: counts({ rs1: 50, rs2: 50 }), first: 'rs1', failed: 0, maxFailed: 0 });
  t.false(spread.pass);
  t.regex(spread.reasons.join('\n'), /persistence 300s: one client must stick to one real server/);
  t.true(evaluate({ scheduler: 'wlc', backends: two, counts: counts({ rs1: 90, rs2: 10 }), failed: 0, maxFailed: 0 }).pass);
  const lc = evaluate({ scheduler: 'lc', backends: two, counts: counts({ rs1: 100 }), failed: 0, maxFailed: 0 });
  t.false(lc.pass);
  t.regex(lc.reasons.join('\n'), /none from rs2/);
});

test('maxFailed tolerates some failed probes; too few probes for chi-square gives a note', (t) => {
  t.true(evaluate({ scheduler: 'rr', backends: two, counts: counts({ rs1: 49, rs2: 49 }), failed: 2, maxFailed: 2 }).pass);
  const few = evaluate({ scheduler: 'rr', backends: two, counts: counts({ rs1: 2, rs2: 2 }), failed: 0, maxFailed: 0 });
  t.true(few.pass);
  t.regex(few.notes.join('\n'), /chi-square test is weak/);
});
