import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError, type Location } from '../errors.ts';
import { resolveConnection } from './connection.ts';
import { renderVarsOnRead } from './host-vars-view.ts';
import { parseInventory, type RawInventory } from './parse-inventory.ts';
import { didYouMean, Problems } from './problems.ts';
import type { GroupEntry, HostEntry, Inventory, Vars } from './types.ts';
import { mergeLayers, type VarLayer } from './var-layer.ts';
import { loadVarsDir, type VarsDirEntry } from './vars-dirs.ts';
import { readYamlFile } from './yaml-file.ts';

export interface LoadOptions {
  /** `-e` variables (see parseExtraVars); they win over every inventory variable */
  extraVars?: Vars;
}

const EXTRA_VARS_SOURCE: Location = { file: 'extra vars (-e)' };

/**
 * Load an Ansible YAML inventory with its group_vars/ and host_vars/ directories, check it, and apply variable
 * precedence (see .notes/inventory-readme.md). Every problem found is reported at once: one ValidationError,
 * or ValidationErrors when there are several. A missing file is a UsageError.
 */
export function loadInventory(file: string, opts: LoadOptions = {}): Inventory {
  const abs = resolve(file);
  if (!existsSync(abs)) throw new UsageError(`inventory file not found: ${file}`);
  if (statSync(abs).isDirectory()) throw new UsageError(`inventory ${file} is a directory; give the YAML inventory file`);
  const problems = new Problems();
  const yamlFile = readYamlFile(abs, file, problems);
  if (!yamlFile || !yamlFile.wellFormed) problems.throwIfAny();
  const raw = parseInventory(yamlFile!, problems);

  const displayDir = dirname(file);
  const groupVars = loadVarsDir(join(dirname(abs), 'group_vars'), join(displayDir, 'group_vars'), new Set(raw.groups.keys()), problems);
  const hostVars = loadVarsDir(join(dirname(abs), 'host_vars'), join(displayDir, 'host_vars'), new Set(raw.hosts.keys()), problems);

  checkNames(raw, groupVars, hostVars, problems);
  const parents = parentsOf(raw);
  checkCycles(raw, problems);

  const { groups, ranks } = buildGroups(raw, groupVars, parents, problems);
  const extra: VarLayer = { vars: { ...(opts.extraVars ?? {}) }, sources: {} };
  for (const k of Object.keys(extra.vars)) extra.sources[k] = EXTRA_VARS_SOURCE;
  const hosts = buildHosts(raw, groups, ranks, parents, groupVars, hostVars, extra);

  const inv: Inventory = { file: abs, hosts, groups, extraVars: extra.vars };
  renderVarsOnRead(inv); // Jinja and vault: host.vars renders on read from here on
  const inventoryDir = dirname(abs);
  for (const host of hosts.values()) resolveConnection(host, inventoryDir, problems);
  problems.throwIfAny();
  return inv;
}

function checkNames(raw: RawInventory, groupVars: Map<string, VarsDirEntry>, hostVars: Map<string, VarsDirEntry>, problems: Problems): void {
  for (const entry of hostVars.values()) {
    if (raw.hosts.has(entry.name)) continue;
    problems.add(
      `host_vars for ${entry.name}, but no host ${entry.name} is in any group of the inventory${didYouMean(entry.name, raw.hosts.keys())}`,
      entry.location,
      `add ${entry.name} under the hosts: of a group, or rename/remove this file`,
    );
  }
  for (const entry of groupVars.values()) {
    if (raw.groups.has(entry.name)) continue;
    problems.add(
      `group_vars for ${entry.name}, but no group ${entry.name} is defined in the inventory${didYouMean(entry.name, raw.groups.keys())}`,
      entry.location,
      `define the group in the inventory, or rename/remove this file`,
    );
  }
  const reported = new Set<string>();
  for (const ref of raw.childRefs) {
    const child = raw.groups.get(ref.child)!;
    if (child.hasContent || groupVars.has(ref.child) || reported.has(ref.child)) continue;
    reported.add(ref.child);
    const known = [...raw.groups.values()].filter((g) => g.hasContent).map((g) => g.name);
    problems.add(
      `group ${ref.child} is listed as a child of ${ref.parent} but is never defined (no hosts, children or vars anywhere)${didYouMean(ref.child, known)}`,
      ref.location,
      `fix the name if it is a typo, or define the group with its hosts (${ref.child}: {hosts: {web1: }}); for a group that is empty on purpose write ${ref.child}: {hosts: {}}`,
    );
  }
  for (const host of raw.hosts.values()) {
    if (!raw.groups.has(host.name)) continue;
    problems.add(
      `${host.name} is both a host and a group name`,
      { ...host.source, host: host.name },
      'rename the host or the group: patterns like --limit could not tell them apart',
    );
  }
}

/** Direct parents of every group; a group nobody lists as a child belongs to `all` (as Ansible reconciles). */
function parentsOf(raw: RawInventory): Map<string, string[]> {
  const parents = new Map<string, string[]>();
  for (const name of raw.groups.keys()) parents.set(name, []);
  for (const ref of raw.childRefs) {
    const list = parents.get(ref.child)!;
    if (!list.includes(ref.parent)) list.push(ref.parent);
  }
  for (const [name, list] of parents) if (name !== 'all' && list.length === 0) list.push('all');
  return parents;
}

function checkCycles(raw: RawInventory, problems: Problems): void {
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (name: string) => {
    if (done.has(name)) return;
    stack.push(name);
    for (const ref of raw.childRefs.filter((r) => r.parent === name)) {
      const at = stack.indexOf(ref.child);
      if (at >= 0) {
        problems.add(
          `group ${ref.child} is its own ancestor: ${[...stack.slice(at), ref.child].join(' → ')}`,
          ref.location,
          `remove ${ref.child} from the children of ${name}`,
        );
      } else visit(ref.child);
    }
    stack.pop();
    done.add(name);
  };
  for (const name of raw.groups.keys()) visit(name);
}

/** Where a group sits in Ansible's variable precedence: by depth, then ansible_group_priority, then name. */
interface GroupRank {
  depth: number;
  priority: number;
}

function buildGroups(
  raw: RawInventory,
  groupVars: Map<string, VarsDirEntry>,
  parents: Map<string, string[]>,
  problems: Problems,
): { groups: Map<string, GroupEntry>; ranks: Map<string, GroupRank> } {
  // depth = longest path from `all` (Ansible's group depth); a cycle (already reported) counts as depth 0
  const depths = new Map<string, number>();
  const depth = (name: string, seen: Set<string> = new Set()): number => {
    if (name === 'all') return 0;
    const known = depths.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0;
    seen.add(name);
    const d = 1 + Math.max(0, ...parents.get(name)!.map((p) => depth(p, seen)));
    seen.delete(name);
    depths.set(name, d);
    return d;
  };

  const out = new Map<string, GroupEntry>();
  const ranks = new Map<string, GroupRank>();
  for (const g of raw.groups.values()) {
    const merged = mergeLayers([...g.layers, ...(groupVars.get(g.name)?.layers ?? [])]);
    let priority = 1;
    const p = merged.vars.ansible_group_priority;
    if (p !== undefined && p !== null) {
      const n = typeof p === 'string' && /^\s*-?\d+\s*$/.test(p) ? Number(p) : p;
      if (typeof n === 'number' && Number.isInteger(n)) priority = n;
      else
        problems.add(`ansible_group_priority of group ${g.name} must be an integer, not ${JSON.stringify(p)}`, {
          ...merged.sources.ansible_group_priority,
          field: 'ansible_group_priority',
        });
    }
    out.set(g.name, {
      name: g.name,
      hosts: [...g.hosts],
      children: g.name === 'all' ? [] : [...g.children],
      vars: merged.vars,
      varSources: merged.sources,
      source: g.source,
    });
    ranks.set(g.name, { depth: depth(g.name), priority });
  }
  const all = out.get('all')!;
  for (const [name, list] of parents) if (list.includes('all')) all.children.push(name);
  return { groups: out, ranks };
}

function buildHosts(
  raw: RawInventory,
  groups: Map<string, GroupEntry>,
  ranks: Map<string, GroupRank>,
  parents: Map<string, string[]>,
  groupVars: Map<string, VarsDirEntry>,
  hostVars: Map<string, VarsDirEntry>,
  extra: VarLayer,
): Map<string, HostEntry> {
  const ungrouped = groups.get('ungrouped')!;
  const out = new Map<string, HostEntry>();
  for (const h of raw.hosts.values()) {
    const direct: string[] = [...h.directGroups];
    // a host listed only under all.hosts is "ungrouped", as in Ansible
    if (!direct.some((g) => g !== 'all')) {
      direct.push('ungrouped');
      if (!ungrouped.hosts.includes(h.name)) ungrouped.hosts.push(h.name);
    }
    const member = new Set<string>(['all']);
    const climb = (g: string) => {
      if (member.has(g)) return;
      member.add(g);
      for (const p of parents.get(g) ?? []) climb(p);
    };
    direct.forEach(climb);
    // Ansible's order: shallow groups first, then ansible_group_priority, then name; later ones win
    const rankOf = (g: GroupEntry) => ranks.get(g.name)!;
    const ordered = [...member]
      .map((g) => groups.get(g)!)
      .sort((a, b) => rankOf(a).depth - rankOf(b).depth || rankOf(a).priority - rankOf(b).priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // Ansible: every inventory-file group var < every group_vars/ file (each in group order) < inventory-file host
    // vars < host_vars/ files < extra vars
    const layers: VarLayer[] = [
      ...ordered.flatMap((g) => raw.groups.get(g.name)?.layers ?? []),
      ...ordered.flatMap((g) => groupVars.get(g.name)?.layers ?? []),
      ...h.layers,
      ...(hostVars.get(h.name)?.layers ?? []),
      extra,
    ];
    const merged = mergeLayers(layers);
    out.set(h.name, {
      name: h.name,
      groups: ordered.map((g) => g.name),
      vars: merged.vars,
      varSources: merged.sources,
      source: h.source,
    });
  }
  return out;
}
