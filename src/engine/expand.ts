/** Expand a play's roles and step functions into the flat, ordered step list of one host (pure). */
import type { Inventory } from '../inventory/types.ts';
import type { ExpandContext, HostInfo, Play, Role, Step, StepLike } from './types.ts';

export interface ExpandedStep {
  step: Step;
  /** role the step came from, if any (used as an implicit tag) */
  role?: string;
  tags: string[];
}

export interface Expansion {
  steps: ExpandedStep[];
  handlers: Map<string, Step>;
  roles: Role[];
}

function isRole(x: unknown): x is Role {
  return typeof x === 'object' && x !== null && typeof (x as Role).role === 'string' && typeof (x as Role).steps === 'function';
}

function isStep(x: unknown): x is Step {
  return typeof x === 'object' && x !== null && typeof (x as Step).plan === 'function' && typeof (x as Step).kind === 'string';
}

export function expandPlay(play: Play, ctx: ExpandContext): Expansion {
  const out: Expansion = { steps: [], handlers: new Map(), roles: [] };
  const playTags = play.tags ?? [];
  const addHandlers = (hs: Play['handlers']) => {
    for (const [name, h] of Object.entries(hs ?? {})) {
      out.handlers.set(name, typeof h === 'function' ? h(ctx) : h);
    }
  };
  const walk = (x: StepLike, role: string | undefined, tags: string[], depth: number): void => {
    if (depth > 50) throw new Error('step nesting deeper than 50 levels (a role or step function returns itself?)');
    if (x === null || x === undefined || x === false) return;
    if (Array.isArray(x)) {
      for (const y of x) walk(y, role, tags, depth + 1);
    } else if (typeof x === 'function') {
      walk((x as (c: ExpandContext) => StepLike)(ctx), role, tags, depth + 1);
    } else if (isRole(x)) {
      out.roles.push(x);
      addHandlers(x.handlers);
      walk(x.steps(ctx), x.role, [...tags, x.role], depth + 1);
    } else if (isStep(x)) {
      out.steps.push({ step: x, role, tags: [...new Set([...tags, ...(x.tags ?? [])])] });
    } else {
      throw new Error(`not a step, role or step function: ${JSON.stringify(x)?.slice(0, 80)}`);
    }
  };
  walk(play.roles ?? [], undefined, playTags, 0);
  walk(play.steps ?? [], undefined, playTags, 0);
  // play handlers win over role handlers of the same name
  addHandlers(play.handlers);
  return out;
}

/** Ansible's --tags: a step runs when it has one of the tags, or the tag 'always'. */
export function selectedByTags(tags: readonly string[], wanted: readonly string[] | undefined): boolean {
  if (!wanted || wanted.length === 0 || wanted.includes('all')) return true;
  return tags.includes('always') || tags.some((t) => wanted.includes(t));
}

export function hostInfo(inv: Inventory, name: string): HostInfo {
  const h = inv.hosts.get(name);
  if (!h) throw new Error(`unknown host ${name}`);
  return { name, vars: h.vars, groups: h.groups };
}
