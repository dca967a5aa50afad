/**
 * Everything that can be checked before a host is touched: host patterns, role/step options, whole-inventory
 * validation of the roles and the playbook-level checks they bring (the cluster model's rules, run once).
 * Any problem → ValidationErrors (exit 4), and no connection is opened.
 */
import { ValidationError, ValidationErrors } from '../errors.ts';
import type { Inventory } from '../inventory/types.ts';
import { selectHosts } from '../inventory/index.ts';
import { expandPlay, hostInfo, selectedByTags, type Expansion } from './expand.ts';
import { serialBatches } from './serial.ts';
import { runPlaybookChecks } from './checks.ts';
import type { Play, Playbook, Problem, Role } from './types.ts';

export interface PreparedPlay {
  play: Play;
  name: string;
  hosts: string[];
  batches: string[][];
  expansions: Map<string, Expansion>;
}

export interface PrepareOptions {
  limit?: string;
  tags?: string[];
}

export function prepare(pb: Playbook, inv: Inventory, opts: PrepareOptions): PreparedPlay[] {
  let limited: Set<string> | undefined;
  if (opts.limit) {
    const sel = selectHosts(inv, opts.limit);
    limited = new Set(sel.hosts);
  }
  const prepared: PreparedPlay[] = [];
  // per play: its own errors first, then its roles' problems (kept in play order across the two passes)
  const playErrors: ValidationError[][] = [];
  const playRoles: Role[][] = [];
  pb.plays.forEach((play, i) => {
    const errors: ValidationError[] = [];
    playErrors.push(errors);
    const name = play.name ?? `play ${i + 1}`;
    const sel = selectHosts(inv, play.hosts);
    if (sel.unmatched.length > 0) {
      errors.push(new ValidationError(`hosts pattern "${play.hosts}" of ${name}: ${sel.unmatched.map((u) => `"${u}"`).join(', ')} matches no host or group of the inventory`, { file: inv.file }, 'fix the play\'s hosts: or the inventory'));
    }
    const hosts = sel.hosts.filter((h) => !limited || limited.has(h));
    let batches: string[][] = [];
    try {
      batches = serialBatches(hosts, play.serial);
    } catch (e) {
      errors.push(e instanceof ValidationError ? new ValidationError(`${name}: ${e.message}`, e.location, e.hint) : (e as ValidationError));
    }
    const expansions = new Map<string, Expansion>();
    const roles = new Set<Role>();
    for (const h of hosts) {
      try {
        const exp = expandPlay(play, { host: hostInfo(inv, h), inventory: inv, playHosts: hosts });
        exp.steps = exp.steps.filter((s) => selectedByTags(s.tags, opts.tags));
        expansions.set(h, exp);
        exp.roles.forEach((r) => roles.add(r));
      } catch (e) {
        errors.push(asValidation(e, { host: h }, name));
      }
    }
    for (const r of roles) {
      try {
        for (const p of r.validate?.({ inventory: inv, playHosts: hosts, playbook: pb }) ?? []) errors.push(roleError(r, p, inv));
      } catch (e) {
        errors.push(asValidation(e, {}, `${name}, role ${r.role}`));
      }
    }
    playRoles.push([...roles]);
    prepared.push({ play, name, hosts, batches, expansions });
  });
  const plays = prepared.map((p, i) => ({ hosts: p.hosts, roles: playRoles[i]! }));
  const failed: ValidationError[] = [];
  const checked = runPlaybookChecks(pb, inv, plays, (check, e) => failed.push(asValidation(e, {}, `check ${check.name}`)));
  for (const c of checked) playErrors[c.play]!.push(roleError(c.role, c.problem, inv));
  const errors = [...playErrors.flat(), ...failed];
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new ValidationErrors(errors);
  return prepared;
}

function roleError(r: Role, p: Problem, inv: Inventory): ValidationError {
  return new ValidationError(`${r.role}: ${p.message}`, { file: p.file ?? inv.file, line: p.line, host: p.host, field: p.field }, p.hint);
}

function asValidation(e: unknown, loc: { host?: string }, where: string): ValidationError {
  if (e instanceof ValidationError) return new ValidationError(e.message, { ...e.location, ...loc }, e.hint);
  return new ValidationError(`${where}: ${(e as Error).message}`, loc);
}
