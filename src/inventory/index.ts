// Ansible inventories (YAML, INI, --list JSON; files, directories, several): loading, variable precedence, host
// patterns, connection specs, -e, listings.
export { loadInventory, type LoadOptions } from './load.ts';
export { parseExtraVars } from './extra-vars.ts';
export { selectHosts, hostsOfGroup } from './patterns.ts';
export {
  connectionSpec,
  parseJumpChain,
  parseJumpHop,
  proxyJumpFromSshArgs,
  CONNECTION_VARS,
  SECRET_VARS,
  ConnectionWarnings,
  currentUser,
  parseCount,
  type ConnectionSettings,
} from './connection.ts';
export { parseSshArgs } from './ssh-args.ts';
export { inventoryList, inventoryGraph } from './render.ts';
export { splitShellWords } from './shell-words.ts';
export { expandHostRange } from './host-ranges.ts';
export type { Inventory, HostEntry, GroupEntry, Vars } from './types.ts';
