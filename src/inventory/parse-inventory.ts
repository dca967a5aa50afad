import { isMap, isPair, isScalar, isSeq, type Node } from 'yaml';
import type { Location } from '../errors.ts';
import { expandHostRange } from './host-ranges.ts';
import { closestName, type Problems } from './problems.ts';
import { layerFromMap, type VarLayer } from './var-layer.ts';
import { keyName, locationOf, type YamlFile } from './yaml-file.ts';

/** A group as written in the inventory file (before group_vars/ and before precedence). */
export interface RawGroup {
  name: string;
  hosts: string[]; // direct members, in order of first mention
  children: string[];
  /** vars blocks of every place the group is written, in file order */
  layers: VarLayer[];
  /** written somewhere with a non-empty body (hosts, children or vars) */
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

export interface RawInventory {
  groups: Map<string, RawGroup>;
  hosts: Map<string, RawHost>;
  childRefs: ChildRef[];
}

const GROUP_KEYS = ['hosts', 'children', 'vars'];

/** Read the structure of a YAML inventory: top-level groups, nested children, hosts and vars. */
export function parseInventory(file: YamlFile, problems: Problems): RawInventory {
  const inv: RawInventory = { groups: new Map(), hosts: new Map(), childRefs: [] };
  const wholeFile: Location = { file: file.display };
  ensureGroup(inv, 'all', wholeFile);
  ensureGroup(inv, 'ungrouped', wholeFile);

  const root = file.doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return inv; // empty inventory: no hosts
  if (!isMap(root)) {
    problems.add(
      'an inventory must be a YAML mapping of group names',
      locationOf(file, root),
      'start with\n  all:\n    hosts:\n      web1:\n        ansible_host: 192.0.2.10',
    );
    return inv;
  }
  for (const pair of root.items) {
    const name = keyName(pair.key);
    if (name === undefined) {
      problems.add('a group name must be a plain string', locationOf(file, pair.key as Node));
      continue;
    }
    parseGroup(file, inv, problems, name, pair.value as Node | null, locationOf(file, pair.key as Node));
  }
  return inv;
}

function ensureGroup(inv: RawInventory, name: string, where: Location): RawGroup {
  let g = inv.groups.get(name);
  if (!g) {
    g = { name, hosts: [], children: [], layers: [], hasContent: false, source: where };
    inv.groups.set(name, g);
  }
  return g;
}

function isNull(node: Node | null | undefined): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

function describe(node: Node): string {
  if (isSeq(node)) return 'a list';
  if (isMap(node)) return 'a mapping';
  if (isScalar(node)) return `the value ${JSON.stringify(node.value)}`;
  return 'something else';
}

function parseGroup(file: YamlFile, inv: RawInventory, problems: Problems, name: string, body: Node | null, where: Location): void {
  const group = ensureGroup(inv, name, where);
  if (isNull(body)) return;
  if (!isMap(body)) {
    const hint = isSeq(body)
      ? `list hosts under hosts: as a mapping:\n  ${name}:\n    hosts:\n${listItems(body).map((h) => `      ${h}:`).join('\n') || '      web1:'}`
      : `write\n  ${name}:\n    hosts:\n      web1:`;
    problems.add(`group ${name} must be a mapping with hosts, children or vars, not ${describe(body as Node)}`, locationOf(file, body), hint);
    return;
  }
  if (body.items.length > 0) group.hasContent = true;
  for (const pair of body.items) {
    const key = keyName(pair.key);
    const keyLoc = locationOf(file, pair.key as Node);
    const value = pair.value as Node | null;
    if (key === 'hosts') parseHosts(file, inv, problems, group, value);
    else if (key === 'children') parseChildren(file, inv, problems, group, value);
    else if (key === 'vars') parseVars(file, problems, group, value);
    else {
      const near = key === undefined ? undefined : closestName(key, GROUP_KEYS);
      const hint = near
        ? `did you mean ${near}:?`
        : `a group body holds only hosts:, children: and vars:; to add a host write\n  ${name}:\n    hosts:\n      ${key ?? 'web1'}:\nand a variable goes under vars:`;
      problems.add(`unknown key ${JSON.stringify(key ?? '?')} in group ${name} (only hosts, children and vars are allowed)`, keyLoc, hint);
    }
  }
}

function listItems(seq: Node): string[] {
  if (!isSeq(seq)) return [];
  return seq.items.filter((i) => isScalar(i) && i.value !== null).map((i) => String((i as { value: unknown }).value));
}

function parseHosts(file: YamlFile, inv: RawInventory, problems: Problems, group: RawGroup, node: Node | null): void {
  if (isNull(node)) return;
  if (!isMap(node)) {
    const items = listItems(node as Node);
    problems.add(
      `hosts of group ${group.name} must be a mapping (name: or name: {vars}), not ${describe(node as Node)}`,
      locationOf(file, node),
      `write\n  hosts:\n${(items.length ? items : ['web1', 'web2']).map((h) => `    ${h}:`).join('\n')}`,
    );
    return;
  }
  for (const pair of node.items) {
    const written = keyName(pair.key);
    const where = locationOf(file, pair.key as Node);
    if (written === undefined) {
      problems.add(`a host name in group ${group.name} must be a plain string`, where);
      continue;
    }
    let names: string[];
    try {
      names = expandHostRange(written);
    } catch (err) {
      problems.add(`host ${written}: ${(err as Error).message}`, where);
      continue;
    }
    const value = pair.value as Node | null;
    let layer: VarLayer | undefined;
    if (isMap(value)) layer = layerFromMap(file, value);
    else if (!isNull(value)) {
      problems.add(
        `host ${written} in group ${group.name} must be followed by nothing or a mapping of variables, not ${describe(value as Node)}`,
        locationOf(file, value),
        isScalar(value)
          ? `write\n  ${written}:\n    ansible_host: ${String(value.value)}`
          : `write\n  ${written}:\n    some_var: value`,
      );
    }
    for (const hostName of names) {
      let host = inv.hosts.get(hostName);
      if (!host) {
        host = { name: hostName, directGroups: [], layers: [], source: where };
        inv.hosts.set(hostName, host);
      }
      if (!host.directGroups.includes(group.name)) host.directGroups.push(group.name);
      if (!group.hosts.includes(hostName)) group.hosts.push(hostName);
      if (layer) host.layers.push(layer);
    }
  }
}

function parseChildren(file: YamlFile, inv: RawInventory, problems: Problems, group: RawGroup, node: Node | null): void {
  if (isNull(node)) return;
  if (!isMap(node)) {
    const items = listItems(node as Node);
    problems.add(
      `children of group ${group.name} must be a mapping of group names, not ${describe(node as Node)}`,
      locationOf(file, node),
      `write\n  children:\n${(items.length ? items : ['web', 'db']).map((g) => `    ${g}:`).join('\n')}`,
    );
    return;
  }
  for (const pair of node.items) {
    if (!isPair(pair)) continue;
    const child = keyName(pair.key);
    const where = locationOf(file, pair.key as Node);
    if (child === undefined) {
      problems.add(`a child group name in group ${group.name} must be a plain string`, where);
      continue;
    }
    inv.childRefs.push({ parent: group.name, child, location: where });
    if (!group.children.includes(child)) group.children.push(child);
    parseGroup(file, inv, problems, child, pair.value as Node | null, where);
  }
}

function parseVars(file: YamlFile, problems: Problems, group: RawGroup, node: Node | null): void {
  if (isNull(node)) return;
  if (!isMap(node)) {
    problems.add(
      `vars of group ${group.name} must be a mapping, not ${describe(node as Node)}`,
      locationOf(file, node),
      'write\n  vars:\n    some_var: value',
    );
    return;
  }
  group.layers.push(layerFromMap(file, node));
}
