/**
 * Gather and apply for one host: one script for all facts, one for all changes (stop at the first failure), run
 * on a connection or, one after the other, in one shell of it (run.ts).
 */
import { UnreachableError, type Shell } from '../transport/types.ts';
import { buildBatch, newNonce, parseBatch, unfinishedSection } from './batch-script.ts';
import type { HostPlan, PlannedStep, RawFact } from './plan.ts';
import type { Fact } from './types.ts';

/** What runs the scripts: a Connection, or a Shell of one (then `more` keeps the shell for the changes). */
type Runner = Pick<Shell, 'exec'>;

export async function gatherFacts(conn: Runner, facts: readonly Fact[], opts: { more?: boolean } = {}): Promise<Map<string, RawFact>> {
  const raw = new Map<string, RawFact>();
  if (facts.length === 0) return raw;
  const nonce = newNonce();
  const sections = factSections(facts);
  const script = buildBatch(sections.map((s) => ({ script: s.command })), nonce, { errexit: false, stopOnFailure: false, mergeStderr: false });
  const res = await conn.exec(script, opts.more ? { more: true } : {});
  for (const r of parseBatch(res.stdout, nonce)) {
    const s = sections[r.index];
    if (s.facts.length === 1) raw.set(s.facts[0].key, { output: r.output, code: r.code });
    else s.split(r.output).forEach((output, i) => raw.set(s.facts[i].key, { output, code: r.code }));
  }
  if (raw.size < facts.length) {
    const missing = facts.filter((f) => !raw.has(f.key)).map((f) => f.key);
    throw new Error(`fact gathering ended early (exit ${res.code}); missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}${res.stderr ? `\n${res.stderr.trim()}` : ''}`);
  }
  return raw;
}

interface FactSection {
  command: string;
  facts: Fact[];
  split(output: string): string[];
}

/** One section per fact, except facts of one batch kind (two or more): one section for all of them. */
export function factSections(facts: readonly Fact[]): FactSection[] {
  const sections: FactSection[] = [];
  const byKind = new Map<string, Fact[]>();
  for (const f of facts) {
    if (f.batch) {
      const group = byKind.get(f.batch.kind);
      if (group) {
        group.push(f);
        continue;
      }
      byKind.set(f.batch.kind, [f]);
    }
    sections.push({ command: f.command, facts: [f], split: (o) => [o] });
  }
  for (const s of sections) {
    const group = s.facts[0].batch ? byKind.get(s.facts[0].batch.kind)! : undefined;
    if (!group || group.length < 2) continue;
    const batch = group[0].batch!;
    const args = group.map((f) => f.batch!.arg);
    s.facts = group;
    s.command = batch.command(args);
    s.split = (o) => batch.split(o, args);
  }
  return sections;
}

export interface AppliedStep {
  planned: PlannedStep;
  /** set when one of the step's changes failed */
  error?: string;
  output: string;
  /** not run: an earlier change failed */
  notRun: boolean;
}

/** Run every change of the plan in one exec. Returns per-step results in plan order. */
export async function applyPlan(conn: Runner, plan: HostPlan): Promise<AppliedStep[]> {
  const owners: number[] = [];
  const sections: { script: string }[] = [];
  plan.steps.forEach((p, i) => {
    for (const c of p.changes) {
      owners.push(i);
      sections.push({ script: c.script });
    }
  });
  const results: AppliedStep[] = plan.steps.map((p) => ({ planned: p, output: '', notRun: false }));
  if (sections.length > 0) {
    const nonce = newNonce();
    let res;
    try {
      res = await conn.exec(buildBatch(sections, nonce, { errexit: true, stopOnFailure: true, mergeStderr: true }));
    } catch (e) {
      if (e instanceof UnreachableError) throw lostDuringApply(e, plan, owners, results, nonce);
      throw e;
    }
    const done = recordSections(res.stdout, nonce, plan, owners, results);
    const failedIdx = done.find((r) => r.code !== 0)?.index;
    if (failedIdx === undefined && done.length < sections.length) {
      // the exec died mid-way (timeout, connection lost, shell killed)
      const idx = done.length;
      const a = results[owners[idx]];
      const partial = unfinishedSection(res.stdout, nonce, idx) ?? '';
      a.error = `change "${sectionSummary(plan, owners, idx)}" did not finish (exit ${res.code})${partial.trim() ? `: ${partial.trim()}` : ''}${res.stderr.trim() ? `\n${res.stderr.trim()}` : ''}`;
    }
    stopAfterFirstError(results);
  }
  return results;
}

/** Record the finished sections of an apply script's output on their steps (output, failure). */
function recordSections(stdout: string, nonce: string, plan: HostPlan, owners: number[], results: AppliedStep[]) {
  const done = parseBatch(stdout, nonce);
  for (const r of done) {
    const a = results[owners[r.index]];
    a.output += r.output;
    if (r.code !== 0 && !a.error) a.error = `change "${sectionSummary(plan, owners, r.index)}" failed (exit ${r.code})${r.output.trim() ? `: ${r.output.trim()}` : ''}`;
  }
  return done;
}

function stopAfterFirstError(results: AppliedStep[]): void {
  const stopAt = results.findIndex((r) => r.error);
  if (stopAt >= 0) for (let i = stopAt + 1; i < results.length; i++) results[i].notRun = true;
}

function sectionSummary(plan: HostPlan, owners: number[], sectionIdx: number): string {
  const stepIdx = owners[sectionIdx];
  const first = owners.indexOf(stepIdx);
  return plan.steps[stepIdx].changes[sectionIdx - first].summary;
}

/**
 * The connection died under the apply script. Its markers tell how far it got: the changes whose end marker
 * arrived are applied (with their exit code), the one whose begin marker is the last seen was in flight (it may
 * or may not have completed on the host), the rest never started.
 */
export class ApplyLostError extends UnreachableError {
  constructor(
    cause: UnreachableError,
    /** per step, as applyPlan returns them; steps not known to be complete are notRun */
    readonly results: AppliedStep[],
    /** summaries of the changes known to have run, in order */
    readonly applied: string[],
    /** the change that had started and not reported its end */
    readonly inFlight: string | undefined,
  ) {
    const tail = [
      applied.length ? `applied before the loss: ${applied.map((a) => `"${a}"`).join(', ')}` : 'no change was applied before the loss',
      inFlight ? `in flight: "${inFlight}" (it may or may not have completed; a re-run converges)` : undefined,
    ].filter(Boolean);
    super(cause.host, `${cause.message}; ${tail.join('; ')}`);
    this.name = 'ApplyLostError';
  }
}

function lostDuringApply(e: UnreachableError, plan: HostPlan, owners: number[], results: AppliedStep[], nonce: string): ApplyLostError {
  const out = e.partialStdout ?? '';
  const done = recordSections(out, nonce, plan, owners, results);
  const applied = done.map((r) => sectionSummary(plan, owners, r.index));
  const next = done.length;
  const failed = done.some((r) => r.code !== 0);
  const inFlight = !failed && next < owners.length && unfinishedSection(out, nonce, next) !== undefined ? sectionSummary(plan, owners, next) : undefined;
  stopAfterFirstError(results);
  // the step whose change had not reported its end, and every step after it, are not known to have run
  if (!failed && next < owners.length) for (let i = owners[next]; i < results.length; i++) results[i].notRun = true;
  return new ApplyLostError(e, results, applied, inFlight);
}
