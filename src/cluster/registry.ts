/**
 * Where the LVS roles are used in a playbook: which hosts run which role. Validation needs it for the rules that
 * span roles (a DR real server needs a realserver-dr role for that VIP; a NAT real server routes back through its
 * director) and to report each problem once although every role validates the whole cluster.
 */
import type { Inventory } from '../inventory/types.ts';
import { selectHosts } from '../inventory/index.ts';
import type { Playbook, Role, StepLike } from '../engine/types.ts';
import type { LbKind } from './schema.ts';

export type LvsRoleName = 'director-nat' | 'director-dr-ha' | 'realserver-dr' | 'realserver-tun' | 'realserver-nat' | 'node-svc';
export const LVS_ROLE_NAMES: readonly LvsRoleName[] = ['director-nat', 'director-dr-ha', 'realserver-dr', 'realserver-tun', 'realserver-nat', 'node-svc'];

/** The extra, pure questions other roles' validation asks an LVS role about a host. */
export interface LvsRole extends Role {
  readonly role: LvsRoleName;
  /** directors: the lb_kinds of the services they render */
  readonly lbKinds?: readonly LbKind[];
  /** directors: the service names they are limited to (option `services`) */
  readonly serviceNames?: readonly string[];
  /** realserver-dr / realserver-tun: the VIPs the role configures on `host` */
  vipsFor?(inv: Inventory, host: string): string[];
  /** realserver-nat: the gateway the role routes through on `host` */
  gatewayFor?(inv: Inventory, host: string): string | undefined;
}

export function isLvsRole(x: unknown): x is LvsRole {
  return typeof x === 'object' && x !== null && typeof (x as Role).steps === 'function' && (LVS_ROLE_NAMES as readonly string[]).includes((x as Role).role);
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

/** Usages of the roles, with `self` on `playHosts` added when the playbook does not contain it (direct use, tests). */
export function usagesWith(pb: Playbook | undefined, inv: Inventory, self: LvsRole, playHosts: string[]): RoleUsage[] {
  const u = roleUsages(pb, inv);
  if (!u.some((x) => x.role === self)) u.push({ role: self, hosts: playHosts, play: -1 });
  return u;
}
