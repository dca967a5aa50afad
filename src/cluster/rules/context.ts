/**
 * What the cluster rules share: the inventory, the playbook's role usages, and the problems found so far, each with
 * the capability of the role it is about (which decides the role that reports it, see rules/index.ts).
 */
import type { Problem } from '../../engine/types.ts';
import type { Inventory } from '../../inventory/types.ts';
import { servicesOfDirector } from '../cluster.ts';
import type { LvsRole, RoleUsage } from '../registry.ts';
import type { Service } from '../schema.ts';
import { varLocation } from '../vars.ts';

/** A problem found by a rule, and (when the rule is about one kind of role) the roles it is about. */
export interface Finding {
  problem: Problem;
  about?: (role: LvsRole) => boolean;
}

export interface RuleContext {
  inv: Inventory;
  usages: RoleUsage[];
  findings: Finding[];
  /** keys of the problems found: equal message, field and location are one problem (a group variable seen by many hosts) */
  seen: Set<string>;
}

export type Rule = (c: RuleContext) => void;

export function ruleContext(inv: Inventory, usages: RoleUsage[]): RuleContext {
  return { inv, usages, findings: [], seen: new Set() };
}

/** Record a problem once. */
export function report(c: RuleContext, p: Problem, about?: Finding['about']): void {
  const k = JSON.stringify([p.message, p.field, p.file, p.line, p.file || p.line ? '' : p.host]);
  if (c.seen.has(k)) return;
  c.seen.add(k);
  c.findings.push({ problem: p, ...(about ? { about } : {}) });
}

/** Record a problem about `host`'s variable `varName` (its file and line), optionally about one kind of role. */
export function add(c: RuleContext, host: string | undefined, field: string | undefined, message: string, hint?: string, varName?: string, about?: Finding['about']): void {
  const loc = host && varName ? varLocation(c.inv.hosts.get(host), varName) : {};
  report(c, { message, ...(host ? { host } : {}), ...(field ? { field } : {}), ...loc, ...(hint ? { hint } : {}) }, about);
}

/** Index of a service in the host's lvs_services list (for the field name). */
export function serviceIndex(inv: Inventory, host: string, s: Service): number {
  const raw = inv.hosts.get(host)?.vars.lvs_services;
  return Array.isArray(raw) ? raw.findIndex((x) => (x as { name?: unknown })?.name === s.name) : -1;
}

export interface DirectorUsage {
  usage: RoleUsage;
  host: string;
  services: Service[];
}

/** Each host of a role that serves lb_kinds (a director), with the services it serves. */
export function directorUsages(c: RuleContext): DirectorUsage[] {
  const out: DirectorUsage[] = [];
  for (const u of c.usages) {
    const kinds = u.role.lbKinds;
    if (!kinds) continue;
    for (const h of u.hosts) out.push({ usage: u, host: h, services: servicesOfDirector(c.inv, h, kinds, u.role.serviceNames) });
  }
  return out;
}

/** Hosts that serve each service (by name). */
export function directorsByService(c: RuleContext): Map<string, { service: Service; directors: string[] }> {
  const m = new Map<string, { service: Service; directors: string[] }>();
  for (const d of directorUsages(c)) {
    for (const s of d.services) {
      const e = m.get(s.name) ?? { service: s, directors: [] };
      if (!e.directors.includes(d.host)) e.directors.push(d.host);
      m.set(s.name, e);
    }
  }
  return m;
}

/** The usages of roles that are real servers of `kind` on `host`. */
export function realServerUsages(c: RuleContext, kind: string, host: string): RoleUsage[] {
  return c.usages.filter((u) => u.role.realServerOf === kind && u.hosts.includes(host));
}
