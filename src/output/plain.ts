/** Plain, greppable progress lines (CI, pipes): `changed: [host] step — what`. */
import type { Reporter, RunEvent } from './events.ts';
import { recapTable } from './recap.ts';
import { formatVerifyRecord } from '../verify/table.ts';

export function stepLines(e: Extract<RunEvent, { event: 'step' }>, verbose: boolean): string[] {
  const out: string[] = [];
  const label = e.handler ? `${e.step}` : e.step;
  if (e.status === 'failed') {
    out.push(`failed: [${e.host}] ${label}: ${e.error ?? 'failed'}`);
  } else if (e.status === 'skipped') {
    out.push(`skipping: [${e.host}] ${label}${e.skipped ? ` (${e.skipped})` : ''}`);
  } else if (e.status === 'changed') {
    out.push(`changed: [${e.host}] ${label}`);
    for (const c of e.changes) out.push(`    - ${c}`);
  } else if (verbose) {
    out.push(`ok: [${e.host}] ${label}`);
  }
  for (const w of e.warnings) out.push(`[WARNING] [${e.host}] ${label}: ${w}`);
  for (const d of e.diff ?? []) out.push(d.replace(/\n$/, ''));
  if (verbose && e.output) out.push(e.output);
  return out;
}

export class PlainReporter implements Reporter {
  constructor(
    private readonly write: (s: string) => void,
    private readonly verbose: boolean,
  ) {}
  event(e: RunEvent): void {
    const w = (s: string) => this.write(s + '\n');
    switch (e.event) {
      case 'run_start':
        w(`lvsplay: ${e.playbook} on ${e.inventory}${e.check ? ' (CHECK MODE: nothing will be changed)' : ''}`);
        break;
      case 'play_start':
        w(`\nPLAY [${e.play}] hosts: ${e.hosts.join(', ') || '(none)'}${e.batches.length > 1 ? ` in ${e.batches.length} batches` : ''}`);
        break;
      case 'facts':
        if (this.verbose) w(`facts: [${e.host}] ${e.facts} facts in ${e.ms} ms`);
        break;
      case 'step':
        for (const l of stepLines(e, this.verbose)) w(l);
        break;
      case 'unreachable':
        w(`unreachable: [${e.host}] ${e.error}`);
        break;
      case 'host_done':
        if (this.verbose) w(`done: [${e.host}] ${e.status} (${e.ms} ms, ${e.roundTrips} round trips)`);
        break;
      case 'play_abort':
        w(`PLAY ABORTED [${e.play}]: ${e.reason}`);
        break;
      case 'verify':
        w(formatVerifyRecord(e.result));
        break;
      case 'recap':
        w('\n' + recapTable(e.hosts, e.elapsedMs, e.check, e.verify, e.interrupted));
        break;
      default:
        break;
    }
  }
  async close(): Promise<void> {}
}
