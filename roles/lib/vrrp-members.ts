/**
 * A VRRP instance is one definition shared by its members: a change to it (VIPs, VRID, priorities, auth, tracking)
 * that reaches one member of a pair alone is the classic split-brain cause. The keepalived config step of a director
 * names, for each instance whose definition it changes, the instance's members as a `together` group: the engine then
 * refuses a run that would reach only some of them (serial, --limit, an unreachable member) unless
 * --allow-partial-vrrp.
 */
import type { Step } from '../../src/engine/types.ts';
import { fileFact } from '../../src/facts/file.ts';
import type { HostVrrpInstance } from '../../src/cluster/cluster.ts';

/** The text of a top-level `KEYWORD NAME { ... }` block, by name (brace matching; keepalived's # and ! comments dropped). */
function blocks(text: string, keyword: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n').map((l) => l.replace(/[#!].*$/, '').trim()).filter(Boolean);
  for (let i = 0; i < lines.length; i++) {
    const m = new RegExp(`^${keyword}\\s+(\\S+)\\s*\\{$`).exec(lines[i]!);
    if (!m) continue;
    let depth = 1;
    const body: string[] = [];
    for (i++; i < lines.length && depth > 0; i++) {
      depth += (lines[i]!.match(/\{/g)?.length ?? 0) - (lines[i]!.match(/\}/g)?.length ?? 0);
      if (depth > 0) body.push(lines[i]!);
    }
    i--;
    out.set(m[1]!, body.join('\n'));
  }
  return out;
}

/**
 * Each vrrp_instance of a keepalived config with the vrrp_script blocks it tracks: what must be the same across the
 * instance's members (the per-host parts, such as priority and state, are in it too: a change there is a change).
 */
export function vrrpDefinitions(text: string): Map<string, string> {
  const scripts = blocks(text, 'vrrp_script');
  const out = new Map<string, string>();
  for (const [name, body] of blocks(text, 'vrrp_instance')) {
    const tracked = [...scripts.keys()].filter((s) => new RegExp(`^\\s*${s.replace(/[.]/g, '\\.')}(\\s|$)`, 'm').test(body));
    out.set(name, [body, ...tracked.map((s) => `vrrp_script ${s}\n${scripts.get(s)}`)].join('\n'));
  }
  return out;
}

/** The keepalived config step, naming the members of every VRRP instance whose definition it changes. */
export function withVrrpMembers(step: Step, path: string, content: string, instances: readonly HostVrrpInstance[]): Step {
  if (instances.length === 0) return step;
  const current = fileFact(path);
  const next = vrrpDefinitions(content);
  return {
    ...step,
    facts: [...step.facts.filter((f) => f.key !== current.key), current],
    together: true,
    plan(ctx) {
      const p = step.plan(ctx);
      if (p.changes.length === 0) return p;
      const f = ctx.fact(current);
      const old = vrrpDefinitions(f.exists && f.content !== undefined ? f.content : '');
      const changed = instances.filter((i) => old.get(i.instance.name) !== next.get(i.instance.name));
      if (changed.length === 0) return p;
      return { ...p, together: changed.map((i) => ({ name: `VRRP instance ${i.instance.name}`, hosts: Object.keys(i.instance.priorities) })) };
    },
  };
}
