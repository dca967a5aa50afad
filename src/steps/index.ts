/** The step library: idempotent building blocks planned from gathered facts (see docs/steps.md). */
export { kernelModule, moduleStateKey, type KernelModuleOptions } from './kernel-module.ts';
export { pkg, type PkgOptions } from './pkg.ts';
export { sysctl, type SysctlOptions } from './sysctl.ts';
export { file, type FileOptions } from './file.ts';
export { lines, editBlock, type LinesOptions } from './lines.ts';
export { address, addressAbsent, type AddressOptions } from './address.ts';
export { link, linkAbsent, linkStateKey, type LinkOptions } from './link.ts';
export { route, routeAbsent, type RouteOptions } from './route.ts';
export { iptablesChain, iptablesRule, type IptablesChainOptions, type IptablesRuleOptions } from './iptables.ts';
export { ipset, type IpsetOptions } from './ipset.ts';
export { service, type ServiceOptions, type ServiceStateWanted } from './service.ts';
export { ipvs, ipvsKeepalived, SCHEDULERS, type IpvsOptions, type IpvsKeepalivedOptions, type IpvsServiceSpec } from './ipvs.ts';
export { command, type CommandOptions } from './command.ts';
export { unifiedDiff } from './diff.ts';
export { PlanError } from './common.ts';
