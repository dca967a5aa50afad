/**
 * What a report is drawn from: the JSON Lines events of `run`/`verify --json` or the JSON of `drill --json`, read
 * with loose schemas: only the fields a report shows are checked, extra fields and unknown events are ignored, and a
 * verdict may be any word (PASS, FAIL, DEGRADED…), so records from newer versions still render.
 */
import * as z from 'zod';
import { formatZodIssues, ValidationError } from '../errors.ts';

const num = z.number();
const opt = <T extends z.ZodType>(t: T) => t.optional();

const verifyRow = z.looseObject({ backend: z.string(), expected: num, observed: num, count: num, verdict: z.string(), director: opt(num) });

const verifyRecordSchema = z.looseObject({
  service: z.string(),
  pass: z.boolean(),
  /** a newer record's own verdict word (e.g. DEGRADED); else PASS/FAIL from pass */
  verdict: opt(z.string()),
  expected: z.record(z.string(), num).default({}),
  observed: z.record(z.string(), num).default({}),
  detail: opt(z.string()),
  vip: opt(z.string()),
  /** 4 or 6 (records of older runs have none: IPv4) */
  family: opt(z.union([z.literal(4), z.literal(6)])),
  scheduler: opt(z.string()),
  /** TCP or UDP (newer records) */
  protocol: opt(z.string()),
  /** a fwmark service's mark, and its probes per port */
  fwmark: opt(num),
  ports: opt(z.array(z.looseObject({ port: num, probes: num, failed: num, backends: z.record(z.string(), num).default({}) }))),
  rule: opt(z.string()),
  vantage: opt(z.string()),
  master: opt(z.string().nullable()),
  probes: opt(num),
  failed: opt(num),
  p: opt(num),
  rows: opt(z.array(verifyRow)),
  reasons: z.array(z.string()).default([]),
  notes: z.array(z.string()).default([]),
  /** real servers found down (newer records) */
  down: opt(z.array(z.looseObject({ backend: z.string(), reason: z.string() }))),
});
export type ReportVerifyRecord = z.infer<typeof verifyRecordSchema>;

const hostRecap = z.looseObject({ ok: num, changed: num, failed: num, skipped: num.default(0), unreachable: z.boolean(), roundTrips: num.default(0) });
export type ReportHostRecap = z.infer<typeof hostRecap>;

const stepEvent = z.looseObject({ event: z.literal('step'), play: z.string(), host: z.string(), step: z.string(), status: z.string(), handler: z.boolean().default(false), changes: z.array(z.string()).default([]), error: opt(z.string()), skipped: opt(z.string()) });
export type ReportStep = z.infer<typeof stepEvent>;

const eventSchemas = {
  run_start: z.looseObject({ playbook: z.string(), inventory: z.string(), check: z.boolean().default(false), hosts: z.array(z.string()).default([]) }),
  play_start: z.looseObject({ play: z.string(), hosts: z.array(z.string()).default([]) }),
  step: stepEvent,
  host_done: z.looseObject({ play: z.string(), host: z.string(), status: z.string(), roundTrips: num.default(0), ms: num.default(0) }),
  unreachable: z.looseObject({ play: z.string(), host: z.string(), error: z.string() }),
  play_abort: z.looseObject({ play: z.string(), reason: z.string() }),
  play_end: z.looseObject({ play: z.string(), ms: num.default(0) }),
  verify: z.looseObject({ result: verifyRecordSchema }),
  recap: z.looseObject({ hosts: z.record(z.string(), hostRecap).default({}), verify: z.array(verifyRecordSchema).default([]), elapsedMs: num.default(0), check: z.boolean().default(false) }),
} as const;
type EventName = keyof typeof eventSchemas;
type EventOf<K extends EventName> = z.infer<(typeof eventSchemas)[K]>;

const probe = z.looseObject({ t: num, ms: num.default(0), ok: z.boolean(), info: z.string().default('') });
export type ReportProbe = z.infer<typeof probe>;
const interval = z.looseObject({ from: num, to: num, hosts: z.array(z.string()).default([]) });
const windowStats = z.looseObject({ sent: num, ok: num.default(0), failed: num, longestGapMs: num.default(0), gapFrom: opt(num), errors: z.record(z.string(), num).default({}), backends: z.record(z.string(), num).default({}) });

const failoverResult = z.looseObject({
  instance: z.string(),
  vip: z.string(),
  mode: z.string().default('stop'),
  master: opt(z.string()),
  backups: z.array(z.string()).default([]),
  nopreempt: z.boolean().default(false),
  probed: opt(z.string()),
  vantage: opt(z.string()),
  analysis: opt(
    z.looseObject({
      takeoverMs: opt(num),
      newMaster: opt(z.string()),
      releasedMs: opt(num),
      preemptBackMs: opt(num),
      splitBrain: z.array(interval).default([]),
      splitBrainMs: num.default(0),
      noHolderMs: num.default(0),
      baseline: opt(windowStats),
      fault: opt(windowStats),
      restore: opt(windowStats),
      lost: num.default(0),
      longestGapMs: num.default(0),
      longestGapFrom: opt(num),
    }),
  ),
  pass: z.boolean(),
  verdict: opt(z.string()),
  reasons: z.array(z.string()).default([]),
  notes: z.array(z.string()).default([]),
  holds: z.array(z.looseObject({ t: num, host: z.string(), holds: z.boolean() })).default([]),
  probeLog: opt(z.array(probe)),
  faultAt: opt(num),
  restoreAt: opt(num),
  endAt: opt(num),
});
export type ReportFailoverResult = z.infer<typeof failoverResult>;

const phaseTimes = z.looseObject({ drain: num, stop: opt(num), removed: opt(num), start: opt(num), back: opt(num) });
const realserverRow = z.looseObject({
  service: z.string(),
  backend: z.string(),
  batch: num,
  drainedMs: opt(num),
  activeLeft: opt(num),
  stoppedBy: opt(z.string()),
  removedMs: opt(num),
  rejoinedMs: opt(num),
  answeredMs: opt(num),
  at: opt(phaseTimes),
  probes: opt(windowStats),
  probeLog: opt(z.array(probe)),
  failedIn: z.record(z.string(), num).default({}),
  pass: z.boolean(),
  verdict: opt(z.string()),
  reasons: z.array(z.string()).default([]),
  notes: z.array(z.string()).default([]),
});
export type ReportRealserverRow = z.infer<typeof realserverRow>;

const failoverDrill = z.looseObject({ drill: z.literal('failover'), mode: z.string().default('stop'), pass: z.boolean(), elapsedMs: num.default(0), results: z.array(failoverResult) });
const realserversDrill = z.looseObject({ drill: z.literal('realservers'), serial: z.union([z.string(), num]).default('1'), pass: z.boolean(), elapsedMs: num.default(0), rows: z.array(realserverRow) });

/** A `run` or `verify` event stream, gathered by kind. */
export interface RunReport {
  kind: 'run';
  start?: EventOf<'run_start'>;
  plays: Array<EventOf<'play_start'> & { ms?: number; abort?: string }>;
  steps: ReportStep[];
  hostsDone: Array<EventOf<'host_done'>>;
  unreachable: Array<EventOf<'unreachable'>>;
  verify: ReportVerifyRecord[];
  recap?: EventOf<'recap'>;
}
export type FailoverReport = { kind: 'failover' } & z.infer<typeof failoverDrill>;
export type RealserversReport = { kind: 'realservers' } & z.infer<typeof realserversDrill>;
export type ReportData = RunReport | FailoverReport | RealserversReport;

function invalid(where: string, err: z.ZodError, what: string): ValidationError {
  return new ValidationError(`${what}: ${formatZodIssues(err)}`, { file: where.replace(/:\d+$/, ''), ...(/:(\d+)$/.test(where) ? { line: Number(/:(\d+)$/.exec(where)![1]) } : {}) }, 'give the file lvsplay run/verify --json or drill --json wrote');
}

const lastPlay = (r: RunReport, name: string) => [...r.plays].reverse().find((p) => p.play === name);

/** Events (objects, in order) → a run report; `source` names the file for errors. Unknown events are skipped. */
export function runReportFrom(events: ReadonlyArray<{ value: unknown; line?: number }>, source: string): RunReport {
  const out: RunReport = { kind: 'run', plays: [], steps: [], hostsDone: [], unreachable: [], verify: [] };
  for (const { value, line } of events) {
    const name = (value as { event?: unknown })?.event;
    if (typeof name !== 'string' || !(name in eventSchemas)) continue;
    const r = eventSchemas[name as EventName].safeParse(value);
    if (!r.success) throw invalid(line ? `${source}:${line}` : source, r.error, `a "${name}" event`);
    const e = r.data as never;
    switch (name as EventName) {
      case 'run_start': out.start = e; break;
      case 'play_start': out.plays.push(e); break;
      case 'play_end': { const p = lastPlay(out, (e as EventOf<'play_end'>).play); if (p) p.ms = (e as EventOf<'play_end'>).ms; break; }
      case 'play_abort': { const p = lastPlay(out, (e as EventOf<'play_abort'>).play); if (p) p.abort = (e as EventOf<'play_abort'>).reason; break; }
      case 'step': out.steps.push(e); break;
      case 'host_done': out.hostsDone.push(e); break;
      case 'unreachable': out.unreachable.push(e); break;
      case 'verify': out.verify.push((e as EventOf<'verify'>).result); break;
      case 'recap': out.recap = e; break;
    }
  }
  // a stream cut short (a crash) has no recap but may have verify events; a recap without verify events has its own
  if (out.verify.length === 0 && out.recap) out.verify = out.recap.verify;
  if (!out.start && !out.recap && out.verify.length === 0 && out.steps.length === 0) {
    throw new ValidationError('no run, verify or recap event found', { file: source }, 'give the file lvsplay run/verify --json wrote');
  }
  return out;
}

/** A drill's JSON object → its report data. */
export function drillReportFrom(value: unknown, source: string): FailoverReport | RealserversReport {
  const kind = (value as { drill?: unknown })?.drill;
  if (kind === 'failover') {
    const r = failoverDrill.safeParse(value);
    if (!r.success) throw invalid(source, r.error, 'a failover drill');
    return { kind: 'failover', ...r.data };
  }
  if (kind === 'realservers') {
    const r = realserversDrill.safeParse(value);
    if (!r.success) throw invalid(source, r.error, 'a realservers drill');
    return { kind: 'realservers', ...r.data };
  }
  throw new ValidationError(`unknown drill ${JSON.stringify(kind)}`, { file: source }, 'give the file lvsplay drill failover|realservers --json wrote');
}

/** The text of a saved file: one JSON document (a drill) or JSON Lines (run/verify events). */
export function parseReportText(text: string, source: string): ReportData {
  const trimmed = text.trim();
  if (!trimmed) throw new ValidationError('the file is empty', { file: source }, 'give the file lvsplay run/verify --json or drill --json wrote');
  let doc: unknown;
  try {
    doc = JSON.parse(trimmed);
  } catch {
    /* not one document: JSON Lines */
  }
  if (doc !== undefined && !trimmed.includes('\n')) {
    // one line: an event, or a drill written on one line
    if (doc && typeof doc === 'object' && 'drill' in doc) return drillReportFrom(doc, source);
  } else if (doc !== undefined) {
    if (doc && typeof doc === 'object' && 'drill' in doc) return drillReportFrom(doc, source);
    throw new ValidationError('a JSON document that is neither a drill result (no "drill" field) nor JSON Lines events', { file: source }, 'give the file lvsplay run/verify --json or drill --json wrote');
  }
  const events: Array<{ value: unknown; line: number }> = [];
  text.split('\n').forEach((l, i) => {
    if (!l.trim()) return;
    try {
      events.push({ value: JSON.parse(l), line: i + 1 });
    } catch (e) {
      throw new ValidationError(`not JSON: ${(e as Error).message}`, { file: source, line: i + 1 }, 'give the file lvsplay run/verify --json or drill --json wrote');
    }
  });
  return runReportFrom(events, source);
}

/** PASS/FAIL from pass, or the record's own word when it has one (DEGRADED…), upper-cased. */
export function verdictOf(r: { pass: boolean; verdict?: string | undefined }): string {
  return r.verdict ? r.verdict.toUpperCase() : r.pass ? 'PASS' : 'FAIL';
}
