import { UsageError } from '../errors.ts';
import type { GroupEntry, Inventory } from './types.ts';

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Recursively sort object keys, as Python's json.dumps(sort_keys=True) does for ansible-inventory. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort(byName)) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

function group(inv: Inventory, name: string): GroupEntry {
  return inv.groups.get(name)!;
}

/**
 * The inventory as `ansible-inventory --list` prints it: one key per non-empty group with its `hosts` (direct
 * members) and `children` in inventory order, `all` with only children, and `_meta.hostvars` holding each
 * host's merged variables (extra vars included). Mapping keys sorted (lists keep their order), 4-space indent,
 * no trailing newline.
 */
export function inventoryList(inv: Inventory): string {
  const result: Record<string, unknown> = {};
  const seen = new Set<string>();
  const format = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const g = group(inv, name);
    const entry: Record<string, string[]> = {};
    if (name !== 'all' && g.hosts.length) entry.hosts = [...g.hosts];
    const children = [...g.children];
    if (children.length) entry.children = children;
    if (Object.keys(entry).length) result[name] = entry;
    children.forEach(format);
  };
  format('all');
  const hostvars: Record<string, unknown> = {};
  for (const h of inv.hosts.values()) if (Object.keys(h.rawVars ?? h.vars).length) hostvars[h.name] = h.rawVars ?? h.vars; // templates literal, as ansible-inventory
  result._meta = { hostvars };
  return JSON.stringify(sortKeys(result), null, 4);
}

/**
 * The group tree as `ansible-inventory --graph` prints it, from `top` (default all): `@group:` lines, child
 * groups then hosts in inventory order, each level indented by `  |`. No trailing newline.
 */
export function inventoryGraph(inv: Inventory, top = 'all'): string {
  const lines: string[] = [];
  const label = (text: string, depth: number) => (depth ? `${'  |'.repeat(depth)}--${text}` : text);
  const walk = (name: string, depth: number, path: string[]) => {
    lines.push(label(`@${name}:`, depth));
    if (path.includes(name)) return; // a cycle is reported by loadInventory; never loop here
    const g = group(inv, name);
    for (const child of g.children) walk(child, depth + 1, [...path, name]);
    if (name !== 'all') for (const host of g.hosts) lines.push(label(host, depth + 1));
  };
  if (!inv.groups.has(top)) throw new UsageError(`--graph: no group ${top} in the inventory`);
  walk(top, 0, []);
  return lines.join('\n');
}
