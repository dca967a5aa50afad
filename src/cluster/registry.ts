/**
 * What the cluster rules know of the roles: what each can do (the lb_kinds it serves as a director, the lb_kind
 * it is a real server of and the VIPs it holds, the gateway it routes through, node services) and which hosts run
 * it in the playbook. The rules ask these questions instead of naming roles, so a new role declares what it does.
 */
import type { Inventory } from '../inventory/types.ts';
import { selectHosts } from '../inventory/index.ts';
import type { PlaybookCheckContext, Playbook, Role, StepLike } from '../engine/types.ts';
import type { LbKind } from './schema.ts';
import type { Family } from '../facts/netaddr.ts';

/** The role that makes a host a real server of each lb_kind (named in problems when no play applies it). */
export const REAL_SERVER_ROLE: Readonly<Record<LbKind, string>> = { NAT: 'realserver-nat', DR: 'realserver-dr', TUN: 'realserver-tun' };

/** The pure questions the cluster rules ask an LVS role about a host. */
export interface LvsRole extends Role {
  /** directors: the lb_kinds of the services they render */
  readonly lbKinds?: readonly LbKind[];
  /** directors: the service names they are limited to (option `services`) */
  readonly serviceNames?: readonly string[];
  /** real servers: the lb_kind of the services whose real servers the role configures */
  readonly realServerOf?: LbKind;
  /** DR/TUN real servers: the VIPs the role configures on `host` */
  vipsFor?(inv: Inventory, host: string): string[];
  /** NAT real servers: the gateway (of `family`, when given: a dual-stack host has one per family) the role routes through on `host` */
  gatewayFor?(inv: Inventory, host: string, family?: Family): string | undefined;
  /** node services: the role serves the host's lvs_node_svc */
  readonly nodeServices?: boolean;
}

/** A role that declares one of the capabilities above. */
export function isLvsRole(x: unknown): x is LvsRole {
  if (typeof x !== 'object' || x === null || typeof (x as Role).steps !== 'function') return false;
  const r = x as LvsRole;
  return r.lbKinds !== undefined || r.realServerOf !== undefined || r.nodeServices === true;
}

/** A role that builds virtual services: a director (it serves lb_kinds) or node services. */
export function buildsVirtualServices(x: unknown): boolean {
  return isLvsRole(x) && (x.lbKinds !== undefined || x.nodeServices === true);
}

export interface RoleUsage {
  role: LvsRole;
  /** hosts of the play (before --limit) */
  hosts: string[];
  play: number;
}

function collectRoles(x: StepLike | undefined, out: LvsRole[], depth = 0): void {
  if (depth > 50 || !x || typeof x === 'function') return; // step functions need a host: not inspected
  if (Array.isArray(x)) for (const y of x) collectRoles(y, out, depth + 1);
  else if (isLvsRole(x)) out.push(x);
}

/** Every use of an LVS role in the playbook, in order. */
export function roleUsages(pb: Playbook | undefined, inv: Inventory): RoleUsage[] {
  const out: RoleUsage[] = [];
  (pb?.plays ?? []).forEach((play, i) => {
    const roles: LvsRole[] = [];
    collectRoles((play.roles ?? []) as StepLike, roles);
    collectRoles((play.steps ?? []) as StepLike, roles);
    if (roles.length === 0) return;
    const hosts = selectHosts(inv, play.hosts).hosts;
    for (const role of roles) out.push({ role, hosts, play: i });
  });
  return out;
}

/** Usages of the roles, with the roles the plays expanded but the playbook does not list (returned by a step function) on their play's hosts. */
export function checkedUsages(ctx: PlaybookCheckContext): RoleUsage[] {
  const u = roleUsages(ctx.playbook, ctx.inventory);
  for (const p of ctx.plays) {
    for (const role of p.roles) if (isLvsRole(role) && !u.some((x) => x.role === role)) u.push({ role, hosts: p.hosts, play: -1 });
  }
  return u;
}
