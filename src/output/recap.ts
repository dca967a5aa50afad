/** The recap table every run ends with (Ansible's PLAY RECAP, plus round trips and elapsed time). */
import type { HostRecap } from './events.ts';
import type { VerifyRecord } from '../verify/types.ts';
import { verifySummary } from '../verify/table.ts';

export function recapTable(hosts: Record<string, HostRecap>, elapsedMs: number, check: boolean, verify: readonly VerifyRecord[] = [], interrupted?: string): string {
  const names = Object.keys(hosts);
  const w = Math.max(4, ...names.map((n) => n.length));
  const head = `${'host'.padEnd(w)}  ${['ok', 'changed', 'failed', 'skipped', 'unreachable', 'roundtrips'].map((c) => c.padStart(c.length)).join('  ')}`;
  const rows = names.map((n) => {
    const r = hosts[n];
    const cells = [r.ok, r.changed, r.failed, r.skipped, r.unreachable ? 1 : 0, r.roundTrips];
    const widths = [2, 7, 6, 7, 11, 10];
    return `${n.padEnd(w)}  ${cells.map((c, i) => String(c).padStart(widths[i])).join('  ')}`;
  });
  return [`PLAY RECAP${check ? ' (check mode: nothing was changed)' : ''}`, head, ...rows, ...(interrupted ? [interruptedLine(hosts, interrupted)] : []), ...(verify.length ? [verifySummary(verify)] : []), `elapsed ${(elapsedMs / 1000).toFixed(1)}s`].join('\n');
}

/** The interrupted hosts, by what they did not do; the others finished their apply script (no change is half-applied). */
function interruptedLine(hosts: Record<string, HostRecap>, signal: string): string {
  const by = (k: NonNullable<HostRecap['interrupted']>) => Object.keys(hosts).filter((h) => hosts[h]!.interrupted === k);
  const parts = [
    by('stopped before its changes').length ? `stopped before applying its changes: ${by('stopped before its changes').join(', ')}` : '',
    by('stopped between plays').length ? `later plays not started: ${by('stopped between plays').join(', ')}` : '',
    by('not started').length ? `not started: ${by('not started').join(', ')}` : '',
  ].filter(Boolean);
  return `INTERRUPTED by ${signal}: ${parts.join('; ') || 'every host had finished'}; hosts already applying finished their apply script (no change is half-applied); a re-run converges`;
}
