/**
 * Whole-cluster validation, once per playbook before anything is touched: the plans known to break LVS clusters
 * (docs/roles.md, "Validation") become problems naming the host, the field and the fix. The LVS roles bring
 * `clusterCheck`; the engine runs it once (src/engine/checks.ts).
 *
 * Each problem is reported by one role: the first role (in playbook order) on the problem's host that the rule is
 * about (a missing DR VIP: a DR real server role), else the first LVS role on that host, else the first role the
 * rule is about, else the first LVS role of the playbook.
 */
import type { PlaybookCheck, Problem, RoleProblem } from '../../engine/types.ts';
import type { Inventory } from '../../inventory/types.ts';
import { allServices } from '../cluster.ts';
import { checkedUsages, type RoleUsage } from '../registry.ts';
import { type Finding, type Rule, ruleContext } from './context.ts';
import { checkHealthAndOptions } from './checks.ts';
import { checkDrVipOwnAddress, checkPortMapping, checkVipRealServers } from './dr-tun.ts';
import { checkNatFamilies, checkServiceFamilies, checkVrrpFamilies } from './families.ts';
import { checkNatGateways, checkNatRealServers } from './nat.ts';
import { checkNodeSvc } from './node-svc.ts';
import { checkDirectorData, checkReferences } from './services.ts';
import { checkVariables } from './vars.ts';
import { checkVipsHeld, checkVrrp } from './vrrp.ts';

/** The rules over well-formed data, in the order their problems are listed. */
const RULES: Rule[] = [
  checkReferences,
  checkServiceFamilies,
  (c) => checkVrrpFamilies(c, new Set(c.usages.flatMap((u) => u.hosts))),
  checkPortMapping,
  checkDrVipOwnAddress,
  checkVipsHeld,
  (c) => checkVrrp(c, new Set(c.usages.flatMap((u) => u.hosts))),
  checkDirectorData,
  checkVipRealServers,
  checkNatRealServers,
  checkNatGateways,
  checkNatFamilies,
  checkNodeSvc,
  checkHealthAndOptions,
];

function findings(inv: Inventory, usages: RoleUsage[]): Finding[] {
  const c = ruleContext(inv, usages);
  const hosts = new Set(usages.flatMap((u) => u.hosts));
  // director data may sit on hosts the playbook references only as real servers/peers: read those too
  for (const s of allServices(inv)) for (const rs of s.real_servers) if (inv.hosts.has(rs.host)) hosts.add(rs.host);
  checkVariables(c, hosts);
  // malformed data first: the rules would only report its consequences (a service left out, a missing VIP)
  if (c.findings.length > 0) return c.findings;
  for (const rule of RULES) rule(c);
  return c.findings;
}

/** All problems of the cluster as the roles of `usages` use it. */
export function clusterProblems(inv: Inventory, usages: RoleUsage[]): Problem[] {
  return findings(inv, usages).map((f) => f.problem);
}

/** The role that reports a finding (see the module comment). */
function reporter(f: Finding, usages: RoleUsage[]): RoleUsage | undefined {
  const { about, problem: p } = f;
  const onHost = p.host ? usages.filter((u) => u.hosts.includes(p.host!)) : [];
  return (about && onHost.find((u) => about(u.role))) ?? onHost[0] ?? (about && usages.find((u) => about(u.role))) ?? usages[0];
}

export const clusterCheck: PlaybookCheck = {
  name: 'LVS cluster',
  run(ctx): RoleProblem[] {
    const usages = checkedUsages(ctx);
    if (usages.length === 0) return [];
    return findings(ctx.inventory, usages).flatMap((f) => {
      const u = reporter(f, usages);
      return u ? [{ role: u.role, problem: f.problem }] : [];
    });
  },
};

/** The checks every LVS role brings. */
export const CLUSTER_CHECKS: readonly PlaybookCheck[] = [clusterCheck];
