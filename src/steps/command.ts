import * as z from 'zod';
import type { Fact, Step, StepOptions } from '../engine/types.ts';
import { commandExitFact, pathExistsFact } from '../facts/guard.ts';
import { absolutePath, badArg, commonShape, makeStep, parseOptions } from './common.ts';

export interface CommandOptions extends StepOptions {
  /** skip when this path exists (the command creates it) */
  creates?: string;
  /** skip when this command succeeds (run while gathering facts: must be read-only) */
  unless?: string;
  /** run only when this command succeeds (run while gathering facts: must be read-only) */
  onlyIf?: string;
  /** shown in the plan instead of the command itself */
  summary?: string;
}

const guard = z.string().min(1);
const schema = z.strictObject({ ...commonShape, creates: absolutePath.optional(), unless: guard.optional(), onlyIf: guard.optional(), summary: z.string().min(1).optional() });

/**
 * The escape hatch: a shell command, idempotent only through its guards. Without a guard it runs (and reports a
 * change) on every run, which the plan warns about.
 */
export function command(cmd: string, options: CommandOptions = {}): Step {
  const label = `command ${typeof cmd === 'string' ? cmd.split('\n')[0]!.slice(0, 60) : ''}`;
  if (typeof cmd !== 'string' || cmd.trim() === '') badArg(label, 'cmd', 'must be a non-empty shell command');
  const o = parseOptions(schema, options, label);
  const creates = o.creates !== undefined ? pathExistsFact(o.creates) : undefined;
  const unless = o.unless !== undefined ? commandExitFact(o.unless) : undefined;
  const onlyIf = o.onlyIf !== undefined ? commandExitFact(o.onlyIf) : undefined;
  const facts = [creates, unless, onlyIf].filter((f): f is Fact<boolean> | Fact<number> => f !== undefined);
  return makeStep('command', label, facts, o, (ctx) => {
    if (creates && ctx.fact(creates)) return { changes: [], skipped: `${o.creates} exists` };
    if (unless && ctx.fact(unless) === 0) return { changes: [], skipped: `unless: \`${o.unless}\` succeeded` };
    if (onlyIf) {
      const rc = ctx.fact(onlyIf);
      if (rc !== 0) return { changes: [], skipped: `onlyIf: \`${o.onlyIf}\` exited ${rc}` };
    }
    return {
      changes: [{ summary: o.summary ?? `run ${cmd}`, script: cmd }],
      ...(facts.length === 0 ? { warnings: ['no creates/unless/onlyIf guard: runs and reports a change on every run'] } : {}),
    };
  });
}
