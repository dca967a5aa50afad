import { isPair, isScalar, type Node, type YAMLMap } from 'yaml';
import type { Location } from '../errors.ts';
import type { Vars } from './types.ts';
import { keyName, locationOf, toPlain, type YamlFile } from './yaml-file.ts';

/** A set of variables from one place, with where each one was written (for errors naming file:line). */
export interface VarLayer {
  vars: Vars;
  sources: Record<string, Location>;
}

function emptyLayer(): VarLayer {
  return { vars: {}, sources: {} };
}

/** Variables of a YAML mapping node; keys pulled in through a `<<: *anchor` merge point at the merge line. */
export function layerFromMap(file: YamlFile, map: YAMLMap): VarLayer {
  const plain = toPlain(file, map);
  const vars: Vars = plain && typeof plain === 'object' && !Array.isArray(plain) && !(plain instanceof Map) ? { ...(plain as Vars) } : {};
  const sources: Record<string, Location> = {};
  let mergeLoc: Location | undefined;
  for (const pair of map.items) {
    if (!isPair(pair)) continue;
    const name = keyName(pair.key);
    if (name === undefined) continue;
    if (name === '<<' && isScalar(pair.key) && pair.key.source === '<<') {
      mergeLoc ??= locationOf(file, pair.key as Node);
      continue;
    }
    sources[name] = locationOf(file, pair.key as Node);
  }
  for (const name of Object.keys(vars)) sources[name] ??= mergeLoc ?? { file: file.display };
  return { vars, sources };
}

/** Later layers win, key by key (Ansible's default hash_behaviour=replace: no deep merge of dictionaries). */
export function mergeLayers(layers: VarLayer[]): VarLayer {
  const out = emptyLayer();
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer.vars)) {
      out.vars[k] = v;
      out.sources[k] = layer.sources[k] ?? {};
    }
  }
  return out;
}

