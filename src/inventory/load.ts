import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError, type Location } from '../errors.ts';
import { resolveConnection } from './connection.ts';
import { renderVarsOnRead } from './host-vars-view.ts';
import { emptyRawInventory, type RawInventory } from './raw-inventory.ts';
import { readInventorySource, sourceFiles } from './read-source.ts';
import { didYouMean, Problems } from './problems.ts';
import type { GroupEntry, HostEntry, Inventory, Vars } from './types.ts';
import { mergeLayers, type VarLayer } from './var-layer.ts';
import { loadVarsDir, type VarsDirEntry } from './vars-dirs.ts';

export interface LoadOptions {
  /** `-e` variables (see parseExtraVars); they win over every inventory variable */
  extraVars?: Vars;
}

const EXTRA_VARS_SOURCE: Location = { file: 'extra vars (-e)' };

/**
 * Load Ansible inventory sources (YAML, INI or `ansible-inventory --list` JSON files, or directories of them;
 * several are read in order into one inventory, as several -i in Ansible) with the group_vars/ and host_vars/
 * directories beside each, check it, and apply variable precedence (see docs/inventory.md). Every
 * problem found is reported at once: one ValidationError, or ValidationErrors when there are several. A missing
 * source is a UsageError. What Ansible accepts but looks wrong comes back in `warnings`.
 */
export function loadInventory(source: string | string[], opts: LoadOptions = {}): Inventory {
  const given = Array.isArray(source) ? source : [source];
  if (given.length === 0) throw new UsageError('no inventory given');
  for (const s of given) if (!existsSync(s)) throw new UsageError(`inventory not found: ${s}`);
  const problems = new Problems();
  const raw = emptyRawInventory({ file: given[0] });
  let readable = true;
  for (const s of given) for (const f of sourceFiles(resolve(s), s)) readable = readInventorySource(f, raw, problems) && readable;
  if (!readable) problems.throwIfAny();

  // group_vars/ and host_vars/ beside each source (in it, for a directory), each source's after the previous one's
  const groupVars = new Map<string, VarsDirEntry>();
  const hostVars = new Map<string, VarsDirEntry>();
  for (const dir of [...new Set(given.map(varsBase))]) {
    const abs = resolve(dir);
    addVarsDir(groupVars, loadVarsDir(join(abs, 'group_vars'), join(dir, 'group_vars'), new Set(raw.groups.keys()), problems));
    addVarsDir(hostVars, loadVarsDir(join(abs, 'host_vars'), join(dir, 'host_vars'), new Set(raw.hosts.keys()), problems));
  }

  checkNames(raw, groupVars, hostVars, problems);
  const parents = parentsOf(raw);
  checkCycles(raw, problems);

  const { groups, ranks } = buildGroups(raw, groupVars, parents, problems);
  const extra: VarLayer = { vars: { ...(opts.extraVars ?? {}) }, sources: {} };
  for (const k of Object.keys(extra.vars)) extra.sources[k] = EXTRA_VARS_SOURCE;
  const hosts = buildHosts(raw, groups, ranks, parents, groupVars, hostVars, extra);

  const sources = given.map((s) => resolve(s));
  const inv: Inventory = { file: sources[0]!, sources, hosts, groups, extraVars: extra.vars, warnings: [] };
  renderVarsOnRead(inv); // Jinja and vault: host.vars renders on read from here on
  // relative paths in a host's variables are relative to the directory of the source that first lists it
  for (const host of hosts.values()) resolveConnection(host, dirname(resolve(host.source.file ?? given[0])), problems);
  problems.throwIfAny();
  inv.warnings = problems.warnings;
  return inv;
}

/** The directory whose group_vars/ and host_vars/ go with an inventory source: itself, or the file's directory. */
function varsBase(source: string): string {
  return statSync(source).isDirectory() ? source : dirname(source);
}

function addVarsDir(into: Map<string, VarsDirEntry>, from: Map<string, VarsDirEntry>): void {
  for (const [name, entry] of from) {
    const known = into.get(name);
    if (known) known.layers.push(...entry.layers);
    else into.set(name, entry);
  }
}

/**
 * Names that match nothing. Ansible ignores vars files for unknown groups/hosts (a group made at play time by
 * group_by, an optional group commented out) and treats a child group named nowhere else as an empty group, so
 * these are warnings, with the typo hint.
 */
function checkNames(raw: RawInventory, groupVars: Map<string, VarsDirEntry>, hostVars: Map<string, VarsDirEntry>, problems: Problems): void {
  for (const entry of hostVars.values()) {
    if (raw.hosts.has(entry.name)) continue;
    problems.warn(
      `host_vars for ${entry.name}, but no host ${entry.name} is in any group of the inventory; its variables are not used${didYouMean(entry.name, raw.hosts.keys())}`,
      entry.location,
      `add ${entry.name} under the hosts: of a group, or rename/remove this file`,
    );
  }
  for (const entry of groupVars.values()) {
    if (raw.groups.has(entry.name)) continue;
    problems.warn(
      `group_vars for ${entry.name}, but no group ${entry.name} is defined in the inventory; its variables are not used${didYouMean(entry.name, raw.groups.keys())}`,
      entry.location,
      `define the group in the inventory, or rename/remove this file`,
    );
  }
  const reported = new Set<string>();
  for (const ref of raw.childRefs) {
    const child = raw.groups.get(ref.child)!;
    if (child.hasContent || ref.child === 'ungrouped' || groupVars.has(ref.child) || reported.has(ref.child)) continue;
    reported.add(ref.child);
    const known = [...raw.groups.values()].filter((g) => g.hasContent).map((g) => g.name);
    problems.warn(
      `group ${ref.child} is listed as a child of ${ref.parent} but is never defined (no hosts, children or vars anywhere): it is an empty group${didYouMean(ref.child, known)}`,
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
  // Ansible's order under all: ungrouped (built in), the children the sources give all, then every group that
  // has no parent, in order of first mention
  const all = out.get('all')!;
  all.children = ['ungrouped', ...raw.groups.get('all')!.children.filter((c) => c !== 'ungrouped')];
  for (const [name, list] of parents) if (list.includes('all') && !all.children.includes(name)) all.children.push(name);
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
    let direct: string[] = [...h.directGroups];
    // a host listed only under all.hosts is "ungrouped"; one listed in ungrouped and in a group is not (Ansible's
    // reconcile_inventory)
    if (!direct.some((g) => g !== 'all')) {
      direct.push('ungrouped');
      if (!ungrouped.hosts.includes(h.name)) ungrouped.hosts.push(h.name);
    } else if (direct.includes('ungrouped') && direct.some((g) => g !== 'all' && g !== 'ungrouped')) {
      direct = direct.filter((g) => g !== 'ungrouped');
      ungrouped.hosts.splice(ungrouped.hosts.indexOf(h.name), 1);
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
