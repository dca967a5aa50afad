/**
 * Report data (records.ts) → the page's sections: cards with the measured values, the charts (charts.ts, drawn by
 * svg.ts), tables, and the reasons of every FAIL/DEGRADED verdict.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { FailoverReport, RealserversReport, ReportData, ReportFailoverResult, ReportRealserverRow, ReportVerifyRecord, RunReport } from './records.ts';
import { verdictOf } from './records.ts';
import { failoverChart, realserversChart, recapChart, shareKey, verifyChart, verifyRows } from './charts.ts';
import { tone, type Block, type Card, type Page, type Section } from './page.ts';
import { faultLabel, fmtMs } from '../drill/timeline.ts';

type Draw = (spec: TopLevelSpec) => Promise<string>;

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const ms = (v: number | undefined, none = '—') => (v === undefined ? none : fmtMs(v));
const pValue = (p: number) => (p < 1e-4 ? p.toExponential(2) : p.toFixed(4));

/** The worst of several verdicts: FAIL over DEGRADED over anything else over PASS. */
export function worst(verdicts: string[]): string {
  if (verdicts.length === 0) return 'PASS';
  const rank = (v: string) => ({ fail: 3, degraded: 2, neutral: 1, pass: 0 })[tone(v)] ?? 1;
  return [...verdicts].sort((a, b) => rank(b) - rank(a))[0]!;
}

function reasonsOf(verdict: string, reasons: string[]): Array<{ tone: string; text: string }> {
  const t = tone(verdict) === 'pass' ? 'neutral' : tone(verdict);
  return reasons.map((text) => ({ tone: t, text: `${verdict}: ${text}` }));
}

// ---- verification ---------------------------------------------------------------------------------------------

async function verifyBlock(r: ReportVerifyRecord, draw: Draw): Promise<Block> {
  const v = verdictOf(r);
  const failedRow = verifyRows(r).find((x) => x.backend === '(failed)');
  // the record's note on failed probes ("failed probes: 50× ECONNREFUSED") is shown with the reasons
  const failedNote = r.notes.find((n) => n.startsWith('failed probes:'));
  // why: the reasons; a verdict without reasons (DEGRADED) says why in notes that start with it, or in its down list
  const verdictNotes = tone(v) === 'pass' ? [] : r.notes.filter((n) => n.toUpperCase().startsWith(`${v}:`));
  const why = r.reasons.length ? r.reasons
    : verdictNotes.length ? verdictNotes.map((n) => n.slice(v.length + 1).trim())
    : tone(v) === 'pass' ? []
    : r.down?.length ? r.down.map((d) => d.reason)
    : r.detail ? [r.detail] : [];
  const cards: Card[] = [
    { label: 'VIP carried by', value: r.master === undefined ? '—' : (r.master ?? 'nobody'), tone: r.master === null ? 'fail' : '' },
    { label: 'probes', value: String(r.probes ?? '—') },
    { label: 'failed probes', value: String(r.failed ?? failedRow?.count ?? '—'), tone: (r.failed ?? 0) > 0 ? 'fail' : 'pass' },
  ];
  if (r.p !== undefined) cards.push({ label: 'chi-square p', value: pValue(r.p), tone: r.p < 0.001 ? 'fail' : 'pass' });
  return {
    title: `${r.service}${r.vip ? ` — ${r.vip}` : ''}`,
    verdict: v,
    facts: [`IPv${r.family ?? 4}`, r.protocol === 'UDP' && 'UDP', r.fwmark !== undefined && `fwmark ${r.fwmark}`, r.scheduler && `scheduler ${r.scheduler}`, r.rule && `rule ${r.rule}${r.rule === 'shares' ? ' (chi-square, fails below p = 0.001)' : ''}`, r.vantage && `probed from ${r.vantage}`].filter((x): x is string => !!x),
    cards,
    reasons: [...reasonsOf(v, why), ...(failedNote ? [{ tone: 'neutral', text: failedNote }] : [])],
    svg: await draw(verifyChart(r)),
    caption: 'Bars: the share of the probes each real server answered (green within the expected share, red off it); black mark: the share the scheduler and weights should give.',
    tables: [
      {
        head: ['real server', 'expected', 'observed', 'probes', 'director counted', 'verdict'],
        rows: verifyRows(r).map((x) => [x.backend, pct(x.expected), pct(x.observed), x.count === undefined ? '—' : String(x.count), (x as { director?: number }).director === undefined ? '—' : String((x as { director?: number }).director), x.verdict || '—']),
        tones: verifyRows(r).map((x) => ({ 'observed, as expected': 'pass', 'observed, off the expected share': 'fail' } as Record<string, string>)[shareKey(x.verdict)] ?? ''),
      },
      // a fwmark service: what each of its ports saw (every port must answer; persistence: one server on all)
      ...(r.ports?.length
        ? [{
            head: ['port', 'probes', 'failed', 'answered by'],
            rows: r.ports.map((p) => [String(p.port), String(p.probes), String(p.failed), Object.entries(p.backends).map(([b, n]) => `${b} ${n}`).join(', ') || '—']),
            tones: r.ports.map((p) => (p.probes > 0 && p.failed === p.probes ? 'fail' : p.failed ? '' : 'pass')),
          }]
        : []),
    ],
    notes: r.notes.filter((n) => n !== failedNote && !verdictNotes.includes(n)),
  };
}

async function verifySection(records: ReportVerifyRecord[], draw: Draw): Promise<Section> {
  const blocks: Block[] = [];
  for (const r of records) blocks.push(await verifyBlock(r, draw));
  const counts = new Map<string, number>();
  for (const r of records) counts.set(verdictOf(r), (counts.get(verdictOf(r)) ?? 0) + 1);
  return { title: 'Verification', intro: `${records.length} service${records.length === 1 ? '' : 's'}: ${[...counts].map(([v, n]) => `${n} ${v}`).join(', ')}.`, blocks };
}

// ---- the run --------------------------------------------------------------------------------------------------

function runVerdict(r: RunReport): string {
  const hosts = Object.values(r.recap?.hosts ?? {});
  const v: string[] = r.verify.map(verdictOf);
  if (hosts.some((h) => h.failed > 0 || h.unreachable)) v.push('FAIL');
  if (!r.recap && r.start) v.push('INCOMPLETE');
  return worst(v);
}

async function runSections(r: RunReport, draw: Draw): Promise<Section[]> {
  const out: Section[] = [];
  const hosts = r.recap?.hosts ?? {};
  if (r.start || Object.keys(hosts).length) {
    const list = Object.entries(hosts);
    const sum = (f: (h: (typeof list)[number][1]) => number) => list.reduce((a, [, h]) => a + f(h), 0);
    const hostMs = new Map<string, number>();
    for (const d of r.hostsDone) hostMs.set(d.host, (hostMs.get(d.host) ?? 0) + d.ms);
    const blocks: Block[] = [
      {
        title: 'Recap',
        ...(r.recap ? {} : { verdict: 'INCOMPLETE' }),
        facts: [r.start && `playbook ${r.start.playbook}`, r.start && `inventory ${r.start.inventory}`, r.recap?.check || r.start?.check ? 'check mode: nothing was changed' : '', r.plays.length ? `plays: ${r.plays.map((p) => p.play).join(', ')}` : ''].filter((x): x is string => !!x),
        cards: [
          { label: 'hosts', value: String(list.length || r.start?.hosts.length || 0) },
          { label: 'changed', value: String(sum((h) => h.changed)), tone: sum((h) => h.changed) ? 'degraded' : '' },
          { label: 'failed', value: String(sum((h) => h.failed)), tone: sum((h) => h.failed) ? 'fail' : 'pass' },
          { label: 'unreachable', value: String(list.filter(([, h]) => h.unreachable).length), tone: list.some(([, h]) => h.unreachable) ? 'fail' : 'pass' },
          { label: 'round trips', value: String(sum((h) => h.roundTrips)) },
          { label: 'elapsed', value: r.recap ? fmtMs(r.recap.elapsedMs) : '—' },
        ],
        reasons: [
          ...r.plays.filter((p) => p.abort).map((p) => ({ tone: 'fail', text: `play "${p.play}" aborted: ${p.abort}` })),
          ...r.unreachable.map((u) => ({ tone: 'fail', text: `${u.host} unreachable: ${u.error}` })),
          ...r.steps.filter((s) => s.status === 'failed').map((s) => ({ tone: 'fail', text: `${s.host}: ${s.step} failed${s.error ? `: ${s.error}` : ''}` })),
        ],
        ...(list.length ? { svg: await draw(recapChart(hosts)) } : {}),
        caption: 'Steps per host by outcome (ok counts every step that succeeded; the changed ones are shown apart).',
        tables: [
          {
            head: ['host', 'ok', 'changed', 'failed', 'skipped', 'unreachable', 'round trips', 'time'],
            rows: list.map(([h, x]) => [h, String(x.ok), String(x.changed), String(x.failed), String(x.skipped), x.unreachable ? 'yes' : 'no', String(x.roundTrips), hostMs.has(h) ? fmtMs(hostMs.get(h)!) : '—']),
          },
        ],
      },
    ];
    const changed = r.steps.filter((s) => s.status === 'changed' || s.status === 'failed');
    const byHost = new Map<string, typeof changed>();
    for (const s of changed) byHost.set(s.host, [...(byHost.get(s.host) ?? []), s]);
    const onePlay = new Set(changed.map((s) => s.play)).size <= 1;
    blocks.push({
      title: 'Changes per host',
      ...(changed.length === 0 ? { notes: ['no step changed anything'] } : {}),
      tables: [...byHost].sort((a, b) => a[0].localeCompare(b[0])).map(([host, steps]) => ({
        title: `${host}: ${steps.filter((s) => s.status === 'changed').length} changed${steps.some((s) => s.status === 'failed') ? `, ${steps.filter((s) => s.status === 'failed').length} failed` : ''}`,
        head: [...(onePlay ? [] : ['play']), 'step', 'what changed', 'status'],
        rows: steps.map((s) => [...(onePlay ? [] : [s.play]), s.step, (s.status === 'failed' ? [s.error ?? 'failed'] : s.changes).join('\n'), s.status]),
        tones: steps.map((s) => (s.status === 'failed' ? 'fail' : 'degraded')),
      })),
    });
    out.push({ title: 'Run', blocks });
  }
  if (r.verify.length) out.push(await verifySection(r.verify, draw));
  return out;
}

// ---- failover drill -------------------------------------------------------------------------------------------

function windowRow(name: string, w: NonNullable<NonNullable<ReportFailoverResult['analysis']>['baseline']> | undefined): string[] {
  if (!w) return [name, '—', '—', '—', '—'];
  const errs = Object.entries(w.errors).map(([k, n]) => `${n}× ${k}`).join(', ');
  const answered = Object.entries(w.backends).map(([k, n]) => `${k} ${n}`).join(', ');
  return [name, String(w.sent), String(w.failed), errs || '—', answered || '—'];
}

async function failoverBlock(r: ReportFailoverResult, draw: Draw): Promise<Block> {
  const a = r.analysis;
  const v = verdictOf(r);
  const split = a?.splitBrainMs ?? 0;
  return {
    title: `${r.instance} — VIP ${r.vip}`,
    verdict: v,
    facts: [`fault: ${faultLabel(r.mode, r.master)}`, `backups: ${r.backups.join(', ') || '—'}`, r.probed ? `probing ${r.probed} from ${r.vantage}` : 'no probe traffic', r.nopreempt ? 'nopreempt' : 'preempt'],
    cards: a
      ? [
          { label: 'takeover', value: ms(a.takeoverMs, 'never'), tone: a.takeoverMs === undefined ? 'fail' : '' },
          { label: 'new master', value: a.newMaster ?? '—' },
          { label: 'lost probes', value: r.probed ? String(a.lost) : 'n/a', tone: r.probed ? (a.lost ? 'fail' : 'pass') : '' },
          { label: 'longest gap', value: r.probed ? fmtMs(a.longestGapMs) : 'n/a' },
          { label: 'split brain', value: split > 0 ? fmtMs(split) : 'no', tone: split > 0 ? 'fail' : 'pass' },
          { label: 'preempt back', value: ms(a.preemptBackMs, r.nopreempt ? 'none (nopreempt)' : 'never') },
          { label: 'old master released', value: ms(a.releasedMs, 'kept the VIP'), tone: a.releasedMs === undefined ? 'fail' : '' },
        ]
      : [],
    reasons: reasonsOf(v, r.reasons),
    ...(r.holds.length ? { svg: await draw(failoverChart(r)) } : {}),
    caption: 'Lanes: who held the VIP (from the VIP watchers on each director); client probes as ticks (green ok, orange refused, red timeout); dashed: fault, takeover, restore and preempt-back with the measured times; red shade: split brain (two holders at once).',
    tables: a && r.probed
      ? [{ title: 'Probes by period', head: ['period', 'sent', 'failed', 'errors', 'answered by'], rows: [windowRow('before the fault', a.baseline), windowRow('fault → restore', a.fault), windowRow('after the restore', a.restore)] }]
      : [],
    notes: r.notes,
  };
}

async function failoverSections(d: FailoverReport, draw: Draw): Promise<Section[]> {
  const blocks: Block[] = [];
  for (const r of d.results) blocks.push(await failoverBlock(r, draw));
  return [{ title: `Failover drill (${d.mode})`, intro: `${d.results.length} VRRP instance${d.results.length === 1 ? '' : 's'} in ${fmtMs(d.elapsedMs)}.`, blocks }];
}

// ---- realservers drill ----------------------------------------------------------------------------------------

async function realserversSections(d: RealserversReport, draw: Draw): Promise<Section[]> {
  const services = [...new Set(d.rows.map((r) => r.service))];
  const blocks: Block[] = [];
  for (const svc of services) {
    const rows = d.rows.filter((r) => r.service === svc);
    const v = worst(rows.map(verdictOf));
    const failed = rows.reduce((a, r) => a + Object.values(r.failedIn).reduce((x, y) => x + y, 0), 0);
    blocks.push({
      title: `${svc} — rolling, serial ${d.serial}`,
      verdict: v,
      cards: [
        { label: 'real servers', value: String(rows.length) },
        { label: 'batches', value: String(new Set(rows.map((r) => r.batch)).size) },
        { label: 'failed probes', value: String(failed), tone: failed ? 'fail' : 'pass' },
        { label: 'slowest removal', value: ms(Math.max(...rows.map((r) => r.removedMs ?? -1)) < 0 ? undefined : Math.max(...rows.map((r) => r.removedMs ?? -1))) },
        { label: 'slowest rejoin', value: ms(Math.max(...rows.map((r) => r.rejoinedMs ?? -1)) < 0 ? undefined : Math.max(...rows.map((r) => r.rejoinedMs ?? -1))) },
      ],
      reasons: rows.flatMap((r) => reasonsOf(verdictOf(r), r.reasons.map((x) => `${r.backend}: ${x}`))),
      ...(rows.some((r) => r.at) ? { svg: await draw(realserversChart(rows)) } : {}),
      caption: 'Per real server of each batch: drained (weight 0), stopped, removed by the health checker, restarting, rejoined; client probes as ticks; a red cross counts the failed probes in the phase they started in.',
      tables: [
        {
          head: ['batch', 'real server', 'drained', 'stopped by', 'removed', 'rejoined', 'answering', 'probes', 'failed', 'failed by phase', 'verdict'],
          rows: rows.map((r: ReportRealserverRow) => [
            String(r.batch), r.backend,
            r.drainedMs !== undefined ? fmtMs(r.drainedMs) : r.activeLeft !== undefined ? `${r.activeLeft} left` : '—',
            r.stoppedBy?.replace(/ \(.*$/, '') ?? '—', ms(r.removedMs, 'never'), ms(r.rejoinedMs, 'never'), ms(r.answeredMs),
            String(r.probes?.sent ?? '—'), String(r.probes?.failed ?? '—'),
            Object.entries(r.failedIn).map(([k, n]) => `${k} ${n}`).join(', ') || '—', verdictOf(r),
          ]),
          tones: rows.map((r) => tone(verdictOf(r))),
        },
      ],
      notes: [...new Set(rows.flatMap((r) => r.notes))],
    });
  }
  return [{ title: 'Realservers drill', intro: `${d.rows.length} real server${d.rows.length === 1 ? '' : 's'} taken out and back in ${fmtMs(d.elapsedMs)}.`, blocks }];
}

// ---- the page -------------------------------------------------------------------------------------------------

export async function buildPage(data: ReportData, o: { source: string; draw: Draw; now?: Date }): Promise<Page> {
  const generated = (o.now ?? new Date()).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  if (data.kind === 'failover') {
    return { title: 'lvsplay — failover drill', verdict: worst(data.results.map(verdictOf)), subtitle: `mode ${data.mode}, ${data.results.map((r) => r.instance).join(', ')}`, source: o.source, generated, sections: await failoverSections(data, o.draw) };
  }
  if (data.kind === 'realservers') {
    return { title: 'lvsplay — realservers drill', verdict: data.rows.length ? worst(data.rows.map(verdictOf)) : 'FAIL', subtitle: `serial ${data.serial}, services ${[...new Set(data.rows.map((r) => r.service))].join(', ')}`, source: o.source, generated, sections: await realserversSections(data, o.draw) };
  }
  const isRun = !!data.start || Object.keys(data.recap?.hosts ?? {}).length > 0;
  return {
    title: isRun ? `lvsplay — run${data.start ? ` ${data.start.playbook}` : ''}` : 'lvsplay — verification',
    verdict: runVerdict(data),
    subtitle: isRun ? `${Object.keys(data.recap?.hosts ?? {}).length} hosts${data.verify.length ? `, ${data.verify.length} services verified` : ''}` : `${data.verify.length} services`,
    source: o.source,
    generated,
    sections: await runSections(data, o.draw),
  };
}
