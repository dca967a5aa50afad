import { isMap, isPair, isScalar, isSeq, type Node, type Scalar } from 'yaml';
import type { Location } from '../errors.ts';
import { parseHostPattern } from './host-pattern.ts';
import { closestName, type Problems } from './problems.ts';
import { addChild, addHost, ensureGroup, type RawGroup, type RawInventory } from './raw-inventory.ts';
import { layerFromMap, type VarLayer } from './var-layer.ts';
import { keyName, locationOf, type YamlFile } from './yaml-file.ts';

const GROUP_KEYS = ['hosts', 'children', 'vars'];

/** Read the structure of a YAML inventory into `inv`: top-level groups, nested children, hosts and vars. */
export function parseYamlInventory(file: YamlFile, inv: RawInventory, problems: Problems): void {
  const root = file.doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return; // empty inventory: no hosts
  if (!isMap(root)) {
    problems.add(
      'an inventory must be a YAML mapping of group names',
      locationOf(file, root),
      'start with\n  all:\n    hosts:\n      web1:\n        ansible_host: 192.0.2.10',
    );
    return;
  }
  for (const pair of root.items) {
    const name = keyName(pair.key);
    if (name === undefined) {
      problems.add('a group name must be a plain string', locationOf(file, pair.key as Node));
      continue;
    }
    parseGroup(file, inv, problems, name, pair.value as Node | null, locationOf(file, pair.key as Node));
  }
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
  group.hasContent = true; // `name: {}` is an empty group on purpose (ansible-inventory --export writes them so)
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

/** `hosts: web1` / `children: web`: Ansible reads a plain string there as a mapping with that one name. */
function isNameShorthand(node: Node | null): node is Scalar<string> {
  return isScalar(node) && typeof node.value === 'string';
}

function parseHosts(file: YamlFile, inv: RawInventory, problems: Problems, group: RawGroup, node: Node | null): void {
  if (isNull(node)) return;
  if (isNameShorthand(node)) {
    addHostEntry(inv, problems, group, node.value, locationOf(file, node));
    return;
  }
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
    addHostEntry(inv, problems, group, written, where, layer);
  }
}

/** One host entry (a name, a range, host:port) of a group, shared with the INI and JSON readers. */
export function addHostEntry(inv: RawInventory, problems: Problems, group: RawGroup, written: string, where: Location, layer?: VarLayer): void {
  let pattern: ReturnType<typeof parseHostPattern>;
  try {
    pattern = parseHostPattern(written);
  } catch (err) {
    problems.add(`host ${written}: ${(err as Error).message}`, where);
    return;
  }
  for (const hostName of pattern.names) addHost(inv, group, hostName, where, layer, pattern.port);
}

function parseChildren(file: YamlFile, inv: RawInventory, problems: Problems, group: RawGroup, node: Node | null): void {
  if (isNull(node)) return;
  if (isNameShorthand(node)) {
    addChild(inv, group, node.value, locationOf(file, node));
    return;
  }
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
    addChild(inv, group, child, where);
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
