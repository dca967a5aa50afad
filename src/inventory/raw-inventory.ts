import type { Location } from '../errors.ts';
import type { VarLayer } from './var-layer.ts';

/** A group as written in the inventory sources (before group_vars/ and before precedence). */
export interface RawGroup {
  name: string;
  hosts: string[]; // direct members, in order of first mention
  children: string[];
  /** vars blocks of every place the group is written, in file order */
  layers: VarLayer[];
  /** written somewhere with a body (`name: {}` included), or declared by an INI section or a JSON listing */
  hasContent: boolean;
  source: Location; // first mention
}

export interface RawHost {
  name: string;
  directGroups: string[];
  /** inline vars of every place the host is listed, in file order */
  layers: VarLayer[];
  source: Location; // first mention
}

/** A `children:` entry, kept to check that the child group is defined somewhere. */
export interface ChildRef {
  parent: string;
  child: string;
  location: Location;
}

/**
 * What every inventory source (YAML, INI, JSON; several -i) adds to, in reading order, as Ansible's
 * InventoryData: a later source adds hosts and groups, and its variables come after the earlier ones'.
 */
export interface RawInventory {
  groups: Map<string, RawGroup>;
  hosts: Map<string, RawHost>;
  childRefs: ChildRef[];
}

/** An inventory with Ansible's built-in groups: `all` and `ungrouped`. */
export function emptyRawInventory(where: Location): RawInventory {
  const inv: RawInventory = { groups: new Map(), hosts: new Map(), childRefs: [] };
  ensureGroup(inv, 'all', where);
  ensureGroup(inv, 'ungrouped', where);
  return inv;
}

export function ensureGroup(inv: RawInventory, name: string, where: Location): RawGroup {
  let g = inv.groups.get(name);
  if (!g) {
    g = { name, hosts: [], children: [], layers: [], hasContent: false, source: where };
    inv.groups.set(name, g);
  }
  return g;
}

/**
 * List a host in a group (created on first mention), with the vars written at that place. A `host:port` entry
 * sets ansible_port when it creates the host (as Ansible's Host()), below the vars written beside it.
 */
export function addHost(inv: RawInventory, group: RawGroup, name: string, where: Location, layer?: VarLayer, port?: number): void {
  let host = inv.hosts.get(name);
  if (!host) {
    host = { name, directGroups: [], layers: [], source: where };
    inv.hosts.set(name, host);
    if (port !== undefined) host.layers.push({ vars: { ansible_port: port }, sources: { ansible_port: where } });
  }
  if (!host.directGroups.includes(group.name)) host.directGroups.push(group.name);
  if (!group.hosts.includes(name)) group.hosts.push(name);
  if (layer) host.layers.push(layer);
}

export function addChild(inv: RawInventory, parent: RawGroup, child: string, where: Location): RawGroup {
  inv.childRefs.push({ parent: parent.name, child, location: where });
  if (!parent.children.includes(child)) parent.children.push(child);
  return ensureGroup(inv, child, where);
}
