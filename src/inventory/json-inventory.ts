import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import type { Location } from '../errors.ts';
import type { Problems } from './problems.ts';
import { addChild, addHost, ensureGroup, type RawInventory } from './raw-inventory.ts';
import { layerFromMap } from './var-layer.ts';
import { keyName, locationOf, type YamlFile } from './yaml-file.ts';

const GROUP_KEYS = ['hosts', 'vars', 'children'];

function entry(map: YAMLMap, key: string): Node | null | undefined {
  const pair = map.items.find((p) => keyName(p.key) === key);
  return pair ? (pair.value as Node | null) : undefined;
}

/**
 * Is this the JSON shape of `ansible-inventory --list` (and of inventory scripts): `_meta.hostvars`, groups
 * with lists of `hosts` and `children`? A YAML-style inventory has mappings there instead. Without `_meta`
 * (which --list always prints) only a .json file is taken for it: `hosts: [a, b]` in a YAML file is a mistake
 * worth its own error.
 */
export function isListShape(root: YAMLMap, isJsonFile: boolean): boolean {
  return root.items.some((pair) => {
    if (keyName(pair.key) === '_meta') return true;
    if (!isJsonFile) return false;
    const body = pair.value as Node | null;
    if (isSeq(body)) return true;
    return isMap(body) && (isSeq(entry(body, 'hosts')) || isSeq(entry(body, 'children')));
  });
}

/**
 * Read the `ansible-inventory --list` shape into `inv`, as Ansible's script plugin reads a script's output:
 * `group: [hosts]` or `group: {hosts: [...], vars: {...}, children: [...]}`, and each listed host's vars from
 * `_meta.hostvars`. Host names are taken as written (no ranges, as in that plugin).
 */
export function parseJsonInventory(file: YamlFile, root: YAMLMap, inv: RawInventory, problems: Problems): void {
  let hostvars: YAMLMap | undefined;
  const listed: { name: string; where: Location }[] = [];
  for (const pair of root.items) {
    const name = keyName(pair.key);
    const where = locationOf(file, pair.key as Node);
    if (name === undefined) {
      problems.add('a group name must be a string', where);
      continue;
    }
    const body = pair.value as Node | null;
    if (name === '_meta') {
      const hv = isMap(body) ? entry(body, 'hostvars') : undefined;
      if (isMap(hv)) hostvars = hv;
      else if (hv !== undefined && hv !== null) problems.add('_meta.hostvars must be a mapping of host names to their variables', locationOf(file, hv));
      continue;
    }
    const group = ensureGroup(inv, name, where);
    group.hasContent = true;
    let hosts: Node | null | undefined = body;
    let vars: Node | null | undefined;
    let children: Node | null | undefined;
    if (isMap(body)) {
      hosts = entry(body, 'hosts');
      vars = entry(body, 'vars');
      children = entry(body, 'children');
      if (!GROUP_KEYS.some((k) => entry(body, k) !== undefined)) {
        // the plugin's shorthand: a group of one host, the group's name, with these vars
        hosts = undefined;
        vars = body;
        listed.push({ name, where });
        addHost(inv, group, name, where);
      }
    }
    if (hosts !== undefined && hosts !== null) {
      if (!isSeq(hosts)) problems.add(`hosts of group ${name} must be a list of host names`, locationOf(file, hosts));
      else
        for (const item of hosts.items) {
          const at = locationOf(file, item as Node);
          if (!isScalar(item) || item.value === null) {
            problems.add(`a host name in group ${name} must be a string`, at);
            continue;
          }
          addHost(inv, group, String(item.value), at);
          listed.push({ name: String(item.value), where: at });
        }
    }
    if (vars !== undefined && vars !== null) {
      if (!isMap(vars)) problems.add(`vars of group ${name} must be a mapping`, locationOf(file, vars));
      else group.layers.push(layerFromMap(file, vars));
    }
    if (children !== undefined && children !== null) {
      if (!isSeq(children)) problems.add(`children of group ${name} must be a list of group names`, locationOf(file, children));
      else
        for (const item of children.items) {
          const at = locationOf(file, item as Node);
          if (!isScalar(item) || item.value === null) problems.add(`a child group name in group ${name} must be a string`, at);
          else addChild(inv, group, String(item.value), at).hasContent = true;
        }
    }
  }
  if (!hostvars) return;
  const done = new Set<string>();
  for (const { name } of listed) {
    if (done.has(name)) continue;
    done.add(name);
    const vars = entry(hostvars, name);
    if (vars === undefined || vars === null) continue;
    if (!isMap(vars)) problems.add(`_meta.hostvars of ${name} must be a mapping of variables`, locationOf(file, vars));
    else inv.hosts.get(name)!.layers.push(layerFromMap(file, vars));
  }
}
