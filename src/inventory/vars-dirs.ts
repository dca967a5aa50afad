import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar } from 'yaml';
import type { Location } from '../errors.ts';
import type { Problems } from './problems.ts';
import { layerFromMap, type VarLayer } from './var-layer.ts';
import { locationOf, readYamlFile } from './yaml-file.ts';

/** The vars of one group or host found in group_vars/ or host_vars/, file by file in load order. */
export interface VarsDirEntry {
  name: string;
  /** where it lives, for "no such group/host" errors */
  location: Location;
  layers: VarLayer[];
}

const VARS_EXTENSIONS = ['.yml', '.yaml', '.json'];

function isIgnored(entry: string): boolean {
  return entry.startsWith('.') || entry.endsWith('~');
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Files of a NAME/ directory, recursively, sorted by name (later files win, as in Ansible). */
function dirFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (isIgnored(entry)) continue;
    const full = join(dir, entry);
    if (isDir(full)) out.push(...dirFiles(full));
    else if (VARS_EXTENSIONS.some((ext) => entry.endsWith(ext)) || !entry.includes('.')) out.push(full);
  }
  return out;
}

/**
 * Everything in a group_vars/ or host_vars/ directory, grouped by the group or host it is for. Per name the
 * load order is Ansible's: `NAME` (file or directory), then `NAME.yml`, `NAME.yaml`, `NAME.json`.
 * `known` lets a name containing dots (a host `web1.example.com` with a file of that exact name) be recognised.
 * Files with other extensions (README.md, *.bak) are ignored.
 */
export function loadVarsDir(dir: string, displayDir: string, known: Set<string>, problems: Problems): Map<string, VarsDirEntry> {
  const result = new Map<string, VarsDirEntry>();
  if (!isDir(dir)) return result;
  const names = new Map<string, string[]>(); // name -> entries in load order
  for (const entry of readdirSync(dir).sort()) {
    if (isIgnored(entry)) continue;
    let name: string | undefined;
    if (known.has(entry) || isDir(join(dir, entry)) || !entry.includes('.')) name = entry;
    else {
      const ext = VARS_EXTENSIONS.find((e) => entry.endsWith(e));
      if (ext) name = entry.slice(0, -ext.length);
    }
    if (name === undefined || name === '') continue;
    const list = names.get(name) ?? [];
    list.push(entry);
    names.set(name, list);
  }
  const rank = (name: string, entry: string) => (entry === name ? 0 : 1 + VARS_EXTENSIONS.indexOf(entry.slice(name.length)));
  for (const [name, entries] of names) {
    entries.sort((a, b) => rank(name, a) - rank(name, b));
    const files: string[] = [];
    for (const entry of entries) {
      const full = join(dir, entry);
      if (isDir(full)) files.push(...dirFiles(full));
      else files.push(full);
    }
    const layers: VarLayer[] = [];
    for (const path of files) {
      const display = join(displayDir, path.slice(dir.length + 1));
      const file = readYamlFile(path, display, problems);
      if (!file || !file.wellFormed) continue;
      const root = file.doc.contents;
      if (root === null || (isScalar(root) && root.value === null)) continue; // empty file: no vars
      if (!isMap(root)) {
        problems.add('a vars file must be a YAML mapping of variable names to values', locationOf(file, root), 'write\n  some_var: value');
        continue;
      }
      layers.push(layerFromMap(file, root));
    }
    result.set(name, { name, location: { file: join(displayDir, entries[0]) }, layers });
  }
  return result;
}
