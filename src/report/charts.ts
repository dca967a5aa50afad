/**
 * The report's charts as Vega-Lite specifications (pure data → spec; svg.ts draws them). One colour language
 * throughout: green as expected, red failed, amber changed/degraded, grey not applicable.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ReportFailoverResult, ReportHostRecap, ReportProbe, ReportRealserverRow, ReportVerifyRecord } from './records.ts';
import { faultLabel, fmtMs, holderTimeline, restoreLabel, splitBrainIntervals } from '../drill/timeline.ts';

const COLOURS = { pass: '#1a7f37', fail: '#cf222e', degraded: '#bf8700', neutral: '#6e7781', ink: '#1f2328', hold: '#0969da' } as const;

const WIDTH = 880;
const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  background: 'white',
  padding: 8,
  view: { stroke: '#d0d7de' },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const, gridColor: '#eaeef2', domainColor: '#8c959f', tickColor: '#8c959f' },
  legend: { labelFontSize: 11, titleFontSize: 11, orient: 'bottom' as const, direction: 'horizontal' as const, columns: 4, symbolType: 'square', symbolSize: 120, symbolOpacity: 1, symbolStrokeWidth: 0, labelLimit: 300, columnPadding: 16 },
  title: { fontSize: 14, anchor: 'start' as const, subtitleFontSize: 11, subtitleColor: '#57606a', offset: 10 },
};

function spec(s: Record<string, unknown>): TopLevelSpec {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: CONFIG, ...s } as TopLevelSpec;
}

const scale = (m: Record<string, string>) => ({ domain: Object.keys(m), range: Object.values(m) });

// ---- verification -------------------------------------------------------------------------------------------

const SHARE_KEYS = {
  'observed, as expected': COLOURS.pass,
  'observed, off the expected share': COLOURS.fail,
  'observed, not in the pool': '#afb8c1',
  'expected share': COLOURS.ink,
};
type ShareKey = keyof typeof SHARE_KEYS;

/** A backend row's verdict (expect.ts: ok, sticky, HIGH, LOW, MISSING, UNEXPECTED, down, -) as a colour class. */
export function shareKey(verdict: string): ShareKey {
  if (verdict === 'ok' || verdict === 'sticky') return 'observed, as expected';
  if (/^(down\b.*|-|)$/i.test(verdict)) return 'observed, not in the pool'; // down, DOWN, down (allowed)
  return 'observed, off the expected share';
}

export function verifyRows(r: ReportVerifyRecord): Array<{ backend: string; expected: number; observed: number; count?: number; verdict: string }> {
  if (r.rows?.length) return r.rows;
  // an older or minimal record: only the maps
  return [...new Set([...Object.keys(r.expected), ...Object.keys(r.observed)])].map((b) => ({ backend: b, expected: r.expected[b] ?? 0, observed: r.observed[b] ?? 0, verdict: '' }));
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Observed share per backend (bars, coloured by the row's verdict) with the expected share as a black mark. */
export function verifyChart(r: ReportVerifyRecord): TopLevelSpec {
  const values = verifyRows(r).map((row) => ({
    backend: row.backend,
    observed: row.observed,
    expected: row.expected,
    key: row.verdict ? shareKey(row.verdict) : 'observed, as expected',
    label: `${row.count !== undefined ? `${row.count} · ` : ''}${pct(row.observed)} (expected ${pct(row.expected)})${row.verdict && row.verdict !== 'ok' ? ` ${row.verdict}` : ''}`,
  }));
  const y = { field: 'backend', type: 'nominal', sort: null, title: 'real server', axis: { labelLimit: 160 } };
  const x = { type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%', title: 'share of the probes' } };
  return spec({
    width: WIDTH - 320,
    height: { step: 34 },
    data: { values },
    layer: [
      { mark: { type: 'bar', height: { band: 0.62 } }, encoding: { y, x: { field: 'observed', ...x }, color: { field: 'key', type: 'nominal', scale: scale(SHARE_KEYS), title: null } } },
      { mark: { type: 'tick', thickness: 3, bandSize: 30 }, encoding: { y, x: { field: 'expected', ...x }, color: { datum: 'expected share' } } },
      { mark: { type: 'text', align: 'left', dx: 6, fontSize: 11, color: COLOURS.ink }, encoding: { y, x: { field: 'observed', ...x }, text: { field: 'label' } } },
    ],
  });
}

// ---- the run ------------------------------------------------------------------------------------------------

const RECAP_KEYS = { 'ok (unchanged)': '#4ac26b', changed: '#d4a72c', failed: COLOURS.fail, skipped: '#afb8c1', unreachable: '#24292f' };

/** Steps per host by outcome (stacked), as Ansible's PLAY RECAP. */
export function recapChart(hosts: Record<string, ReportHostRecap>): TopLevelSpec {
  const values = Object.entries(hosts).flatMap(([host, h]) => [
    { host, status: 'ok (unchanged)', n: Math.max(0, h.ok - h.changed) },
    { host, status: 'changed', n: h.changed },
    { host, status: 'failed', n: h.failed },
    { host, status: 'skipped', n: h.skipped },
    ...(h.unreachable ? [{ host, status: 'unreachable', n: 1 }] : []),
  ]).filter((v) => v.n > 0);
  const order = Object.keys(RECAP_KEYS);
  return spec({
    width: WIDTH - 200,
    height: { step: 26 },
    data: { values: values.map((v) => ({ ...v, o: order.indexOf(v.status) })) },
    mark: { type: 'bar', height: { band: 0.7 } },
    encoding: {
      y: { field: 'host', type: 'nominal', sort: Object.keys(hosts), title: 'host', axis: { labelLimit: 160 } },
      x: { field: 'n', type: 'quantitative', stack: 'zero', title: 'steps', axis: { tickMinStep: 1 } },
      color: { field: 'status', type: 'nominal', scale: scale(RECAP_KEYS), title: null, legend: { columns: 5 } },
      order: { field: 'o' },
    },
  });
}

// ---- failover drill ------------------------------------------------------------------------------------------

/** A probe's outcome class: ok, refused (RST), timeout, or another error. */
export function probeOutcome(p: Pick<ReportProbe, 'ok' | 'info'>): 'ok' | 'refused' | 'timeout' | 'error' {
  if (p.ok) return 'ok';
  if (/refused|ECONNREFUSED|ECONNRESET|reset/i.test(p.info)) return 'refused';
  if (/timeout|timed out|ETIMEDOUT/i.test(p.info)) return 'timeout';
  return 'error';
}

const PROBE_KEYS = { 'probe ok': '#4ac26b', 'probe refused': '#fb8f44', 'probe timeout': COLOURS.fail, 'probe failed (other)': '#8250df' };
const probeKey = (p: Pick<ReportProbe, 'ok' | 'info'>) => ({ ok: 'probe ok', refused: 'probe refused', timeout: 'probe timeout', error: 'probe failed (other)' })[probeOutcome(p)];
const PROBES_LANE = 'client probes';
/** px per lane of the failover timeline */
const LANE = 44;

/** Per host, the intervals it held the VIP (from the watchers' events), clipped to [.., end]. */
export function holdIntervals(holds: ReadonlyArray<{ t: number; host: string; holds: boolean }>, end: number): Array<{ host: string; from: number; to: number }> {
  const out: Array<{ host: string; from: number; to: number }> = [];
  const since = new Map<string, number>();
  for (const e of [...holds].sort((a, b) => a.t - b.t)) {
    if (e.holds && !since.has(e.host)) since.set(e.host, e.t);
    else if (!e.holds && since.has(e.host)) {
      out.push({ host: e.host, from: since.get(e.host)!, to: e.t });
      since.delete(e.host);
    }
  }
  for (const [host, from] of since) out.push({ host, from, to: Math.max(from, end) });
  return out.sort((a, b) => a.from - b.from);
}

export interface Moment {
  at: number;
  label: string;
}

/** The annotated moments of a failover drill: fault, takeover, restore, preempt-back (ms, orchestrator clock). */
export function failoverMoments(r: ReportFailoverResult): Moment[] {
  const a = r.analysis;
  if (r.faultAt === undefined) return [];
  const fault = `fault: ${faultLabel(r.mode, r.master, 'link')}`;
  const m: Moment[] = [{ at: r.faultAt, label: fault }];
  if (a?.takeoverMs !== undefined) m.push({ at: r.faultAt + a.takeoverMs, label: `takeover by ${a.newMaster ?? '?'}: ${fmtMs(a.takeoverMs)}` });
  if (r.restoreAt !== undefined && r.restoreAt > 0) {
    m.push({ at: r.restoreAt, label: restoreLabel(r.mode) });
    if (a?.preemptBackMs !== undefined) m.push({ at: r.restoreAt + a.preemptBackMs, label: `${r.nopreempt ? 'taken back despite nopreempt' : 'preempt back'} to ${r.master}: ${fmtMs(a.preemptBackMs)}` });
  }
  return m;
}

/** One lane per director (who held the VIP), a lane of probe outcomes, the fault/takeover/restore/preempt-back
 *  rules, the longest gap, and split brain shaded; x: seconds since the fault. */
export function failoverChart(r: ReportFailoverResult): TopLevelSpec {
  const t0 = r.faultAt ?? r.holds[0]?.t ?? 0;
  const end = r.endAt ?? Math.max(t0, ...r.holds.map((h) => h.t));
  const s = (t: number) => Math.round(t - t0) / 1000;
  const hosts = [...new Set([...(r.master ? [r.master] : []), ...r.backups, ...r.holds.map((h) => h.host)])];
  const probes = r.probeLog ?? [];
  const lanes = [...hosts, ...(probes.length ? [PROBES_LANE] : [])];
  const start = Math.min(t0, ...r.holds.map((h) => h.t), ...probes.map((p) => p.t));
  // the drill's own analysis when the record has it (the numbers in the cards), else from the watchers' events
  const split = r.analysis?.splitBrain ?? splitBrainIntervals(holderTimeline(r.holds), start, end);
  // a record without its probes (older drills) draws the holders only: no probe keys in the legend
  const keys: Record<string, string> = { 'holds the VIP': COLOURS.hold, 'split brain': '#ff8182', ...(probes.length ? { ...PROBE_KEYS, 'longest gap': '#24292f' } : {}) };
  const color = { field: 'key', type: 'nominal', scale: scale(keys), title: null };
  const x = (field: string) => ({ field, type: 'quantitative', title: 'seconds since the fault' });
  const y = { field: 'lane', type: 'nominal', sort: lanes, scale: { domain: lanes }, title: null, axis: { labelLimit: 140, labelFontWeight: 'bold' } };
  const layers: unknown[] = [
    {
      // a handover's overlap of a few ms is shaded but not labelled (the cards give the total)
      data: { values: split.map((i) => ({ from: s(i.from), to: s(i.to), key: 'split brain', label: i.to - i.from >= 50 ? `split brain ${fmtMs(i.to - i.from)}` : '' })) },
      layer: [
        { mark: { type: 'rect', opacity: 0.35 }, encoding: { x: x('from'), x2: { field: 'to' }, color } },
        ...[{ stroke: 'white', strokeWidth: 4 }, {}].map((halo) => ({ mark: { type: 'text', baseline: 'middle', align: 'left', dx: 4, fontSize: 11, fontWeight: 'bold', color: '#a40e26', ...halo }, encoding: { x: x('from'), y: { value: probes.length ? (lanes.length - 1) * LANE : lanes.length * LANE - 10 }, text: { field: 'label' } } })),
      ],
    },
    {
      data: { values: holdIntervals(r.holds, end).map((i) => ({ lane: i.host, from: s(i.from), to: s(i.to), key: 'holds the VIP' })) },
      mark: { type: 'bar', height: { band: 0.5 }, cornerRadius: 2 },
      encoding: { y, x: x('from'), x2: { field: 'to' }, color },
    },
    {
      data: { values: [...probes].sort((a, b) => Number(b.ok) - Number(a.ok)).map((p) => ({ lane: PROBES_LANE, t: s(p.t), key: probeKey(p) })) },
      mark: { type: 'tick', thickness: 1.5, bandSize: 22 },
      encoding: { y, x: x('t'), color, opacity: { condition: { test: "datum.key === 'probe ok'", value: 0.55 }, value: 1 } },
    },
  ];
  const gapFrom = r.analysis?.longestGapFrom;
  if (probes.length && gapFrom !== undefined && r.analysis) {
    layers.push({
      data: { values: [{ lane: PROBES_LANE, from: s(gapFrom), to: s(gapFrom + r.analysis.longestGapMs), key: 'longest gap', label: `longest gap ${fmtMs(r.analysis.longestGapMs)}` }] },
      layer: [
        { mark: { type: 'bar', height: 5, yOffset: 16 }, encoding: { y, x: x('from'), x2: { field: 'to' }, color } },
        ...[{ stroke: 'white', strokeWidth: 4 }, {}].map((halo) => ({ mark: { type: 'text', align: 'left', baseline: 'middle', dx: 4, yOffset: 16, fontSize: 11, fontWeight: 'bold', color: '#24292f', ...halo }, encoding: { y, x: x('to'), text: { field: 'label' } } })),
      ],
    });
  }
  failoverMoments(r).forEach((m, i) => {
    layers.push({
      data: { values: [{ t: s(m.at), label: m.label }] },
      layer: [
        { mark: { type: 'rule', strokeDash: [4, 3], color: '#57606a' }, encoding: { x: x('t') } },
        // staggered above the lanes so that close moments (a fast takeover) stay readable
        { mark: { type: 'text', align: 'left', dx: 3, baseline: 'bottom', fontSize: 11, color: '#24292f' }, encoding: { x: x('t'), y: { value: -4 - 14 * (3 - (i % 4)) }, text: { field: 'label' } } },
      ],
    });
  });
  return spec({
    width: WIDTH - 150,
    height: lanes.length * LANE,
        layer: layers,
  });
}

// ---- realservers drill ---------------------------------------------------------------------------------------

const PHASE_KEYS = { drained: '#54aeff', stopped: '#fb8f44', removed: '#afb8c1', restarting: '#c297ff', rejoined: '#4ac26b' };
/** failuresByPhase names the first phase 'draining'; the report says what state the server was in. */
const PHASE_OF: Record<string, keyof typeof PHASE_KEYS> = { draining: 'drained', drained: 'drained', stopped: 'stopped', removed: 'removed', restarting: 'restarting', rejoined: 'rejoined' };

const rowLane = (r: Pick<ReportRealserverRow, 'batch' | 'backend'>) => `batch ${r.batch}: ${r.backend}`;

/** The phases of one real server's cycle as intervals (ms); the last one ends at `end`. */
export function phaseIntervals(r: ReportRealserverRow, end: number): Array<{ phase: keyof typeof PHASE_KEYS; from: number; to: number }> {
  const at = r.at;
  if (!at) return [];
  const marks: Array<[keyof typeof PHASE_KEYS, number | undefined]> = [['drained', at.drain], ['stopped', at.stop], ['removed', at.removed], ['restarting', at.start], ['rejoined', at.back]];
  const present = marks.filter((m): m is [keyof typeof PHASE_KEYS, number] => m[1] !== undefined).sort((a, b) => a[1] - b[1]);
  return present.map(([phase, from], i) => ({ phase, from, to: Math.max(from, present[i + 1]?.[1] ?? end) }));
}

/** Per service: one lane per real server of each batch with its phases on a time axis, the probes below, and
 *  the failed probes counted in the phase they started in. */
export function realserversChart(rows: ReportRealserverRow[]): TopLevelSpec {
  // the rows of one batch share its probes: each once
  const seen = new Set<string>();
  const probes = rows.flatMap((r) => r.probeLog ?? []).filter((p) => {
    const k = `${p.t} ${p.ok} ${p.info}`;
    return !seen.has(k) && !!seen.add(k);
  });
  const t0 = Math.min(...rows.map((r) => r.at?.drain ?? Infinity), ...probes.map((p) => p.t));
  const s = (t: number) => Math.round(t - t0) / 1000;
  const lanes = [...rows.map(rowLane), ...(probes.length ? [PROBES_LANE] : [])];
  // where a row's last phase ends: the next batch's drain, else its own probes (the window's last one, or the end
  // of a gap that ran to the window's end), else a second after its last moment
  const endOf = (r: ReportRealserverRow, i: number) => {
    const next = rows.slice(i + 1).find((x) => x.batch > r.batch)?.at?.drain;
    const last = Math.max(...Object.values(r.at ?? {}).filter((v): v is number => typeof v === 'number'));
    const gapEnd = r.probes?.gapFrom !== undefined ? r.probes.gapFrom + r.probes.longestGapMs : 0;
    return next ?? Math.max(last + 1000, gapEnd, ...(r.probeLog ?? []).map((p) => p.t));
  };
  const phases = rows.flatMap((r, i) => phaseIntervals(r, endOf(r, i)).map((p) => ({ lane: rowLane(r), from: s(p.from), to: s(p.to), key: p.phase, label: p.phase, ms: fmtMs(p.to - p.from) })));
  const failed = rows.flatMap((r) => {
    const iv = phaseIntervals(r, endOf(r, rows.indexOf(r)));
    return Object.entries(r.failedIn).filter(([, n]) => n > 0).map(([ph, n]) => {
      const p = iv.find((x) => x.phase === PHASE_OF[ph]) ?? iv[0];
      // a failure in a phase of no length (removed and restarted at once) sits at its moment
      return { lane: rowLane(r), t: s(p ? (p.from + p.to) / 2 : r.at?.drain ?? t0), label: `${n} failed` };
    });
  }).map((f, i) => ({ ...f, above: i % 2 === 0 }));
  const keys: Record<string, string> = { ...PHASE_KEYS, ...(probes.length ? PROBE_KEYS : {}) };
  const color = { field: 'key', type: 'nominal', scale: scale(keys), title: null, legend: { columns: 5 } };
  const x = (field: string) => ({ field, type: 'quantitative', title: 'seconds since the first drain' });
  const y = { field: 'lane', type: 'nominal', sort: lanes, scale: { domain: lanes }, title: null, axis: { labelLimit: 180, labelFontWeight: 'bold' } };
  return spec({
    width: WIDTH - 200,
    height: lanes.length * 46,
    layer: [
      {
        data: { values: phases },
        layer: [
          { mark: { type: 'bar', height: { band: 0.6 } }, encoding: { y, x: x('from'), x2: { field: 'to' }, color, tooltip: [{ field: 'label' }, { field: 'ms' }] } },
        ],
      },
      {
        data: { values: [...probes].sort((a, b) => Number(b.ok) - Number(a.ok)).map((p) => ({ lane: PROBES_LANE, t: s(p.t), key: probeKey(p) })) },
        mark: { type: 'tick', thickness: 1.5, bandSize: 20 },
        encoding: { y, x: x('t'), color, opacity: { condition: { test: "datum.key === 'probe ok'", value: 0.55 }, value: 1 } },
      },
      {
        data: { values: failed },
        layer: [
          { mark: { type: 'point', shape: 'cross', size: 90, filled: true, color: COLOURS.fail }, encoding: { y, x: x('t') } },
          // labels alternately above and below the bar: short phases side by side stay readable
          ...[true, false].flatMap((above) => [{ stroke: 'white', strokeWidth: 3 }, {}].map((halo) => ({
            transform: [{ filter: `${above ? '' : '!'}datum.above` }],
            mark: { type: 'text', align: 'center', yOffset: above ? -15 : 15, fontSize: 10.5, fontWeight: 'bold', color: '#a40e26', ...halo },
            encoding: { y, x: x('t'), text: { field: 'label' } },
          }))),
        ],
      },
    ],
  });
}
