/**
 * Steps that depend on the director's drain state (src/cluster/drain.ts): the keepalived config renders a drained
 * real server at weight 0, and the drift step expects it there. Expansion is pure (inventory only), so the step is
 * built again at plan time from the gathered state file.
 */
import type { Step } from '../../src/engine/types.ts';
import { fileFact } from '../../src/facts/file.ts';
import { DRAIN_STATE_FILE, parseDrainState, type DrainEntry } from '../../src/cluster/drain.ts';

const stateFact = fileFact(DRAIN_STATE_FILE);

/** `build([])` when nothing is drained; `build(entries)` planned instead when the state file names some. */
export function withDrainState(build: (drained: readonly DrainEntry[]) => Step): Step {
  const plain = build([]);
  return {
    ...plain,
    facts: [...plain.facts.filter((f) => f.key !== stateFact.key), stateFact],
    plan(ctx) {
      const f = ctx.fact(stateFact);
      const drained = parseDrainState(f.exists && f.type === 'file' ? f.content : undefined);
      return (drained.length ? build(drained) : plain).plan(ctx);
    },
  };
}
