/** The LVS roles: `import { directorNat, directorDrHa, ... } from 'lvsplay/roles'` (see docs/roles.md). */
export { directorNat, type DirectorNatOptions } from './director-nat/index.ts';
export { directorDrHa, type DirectorDrHaOptions } from './director-dr-ha/index.ts';
export { realserverDr, type RealserverDrOptions } from './realserver-dr/index.ts';
export { realserverTun, type RealserverTunOptions } from './realserver-tun/index.ts';
export { realserverNat, type RealserverNatOptions } from './realserver-nat/index.ts';
export { nodeSvc, type NodeSvcOptions } from './node-svc/index.ts';
export { webBackend, type WebBackendOptions } from './web-backend/index.ts';
export type { LvsRole } from './lib/registry.ts';
export { clusterProblems } from './lib/validate.ts';
