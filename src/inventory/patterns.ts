import type { Inventory } from './types.ts';

/** Every host of a group, through its child groups too, in inventory order. `all` is every host. */
export function hostsOfGroup(inv: Inventory, group: string): string[] {
  if (group === 'all') return [...inv.hosts.keys()];
  const found = new Set<string>();
  const seen = new Set<string>();
  const walk = (name: string) => {
    const g = inv.groups.get(name);
    if (!g || seen.has(name)) return;
    seen.add(name);
    g.hosts.forEach((h) => found.add(h));
    g.children.forEach(walk);
  };
  walk(group);
  return [...inv.hosts.keys()].filter((h) => found.has(h));
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Names of hosts matched by one term (no & or ! prefix); undefined when the term names nothing. */
function matchTerm(inv: Inventory, term: string): Set<string> | undefined {
  if (term === 'all' || term === '*') return new Set(inv.hosts.keys());
  const isGlob = term.includes('*') || term.includes('?');
  const matches = isGlob ? (name: string) => globToRegExp(term).test(name) : (name: string) => name === term;
  let matched = false;
  const hosts = new Set<string>();
  for (const g of inv.groups.keys()) {
    if (!matches(g)) continue;
    matched = true;
    hostsOfGroup(inv, g).forEach((h) => hosts.add(h));
  }
  for (const h of inv.hosts.keys()) {
    if (!matches(h)) continue;
    matched = true;
    hosts.add(h);
  }
  return matched ? hosts : undefined;
}

/**
 * Hosts selected by an Ansible host pattern (`--limit`, a play's `hosts:`): names of hosts or groups, `*`/`?`
 * globs, `all`; terms joined by `:` or `,` are a union, `&term` intersects, `!term` excludes. As in Ansible,
 * unions are applied first, then intersections, then exclusions, whatever their order in the pattern; a
 * pattern with only & or ! terms starts from all hosts. Result in inventory order.
 * `unmatched` lists the terms (as written, with their & or !) that name no host or group, for the caller to
 * report. A list of patterns (a play's `hosts: [a, b]`) is their union.
 */
export function selectHosts(inv: Inventory, pattern: string | string[]): { hosts: string[]; unmatched: string[] } {
  const terms = (Array.isArray(pattern) ? pattern : [pattern])
    .flatMap((p) => p.split(/[,:]/))
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const union = terms.filter((t) => !t.startsWith('&') && !t.startsWith('!'));
  const intersect = terms.filter((t) => t.startsWith('&'));
  const exclude = terms.filter((t) => t.startsWith('!'));
  const unmatched: string[] = [];
  const resolveTerm = (written: string, name: string): Set<string> => {
    const hosts = matchTerm(inv, name);
    if (!hosts) unmatched.push(written);
    return hosts ?? new Set();
  };

  let selected = new Set<string>();
  if (terms.length === 0) return { hosts: [], unmatched: [] };
  if (union.length === 0) selected = new Set(inv.hosts.keys());
  for (const t of union) resolveTerm(t, t).forEach((h) => selected.add(h));
  for (const t of intersect) {
    const other = resolveTerm(t, t.slice(1).trim());
    selected = new Set([...selected].filter((h) => other.has(h)));
  }
  for (const t of exclude) {
    const other = resolveTerm(t, t.slice(1).trim());
    selected = new Set([...selected].filter((h) => !other.has(h)));
  }
  unmatched.sort((a, b) => terms.indexOf(a) - terms.indexOf(b)); // as written, not in evaluation order
  return { hosts: [...inv.hosts.keys()].filter((h) => selected.has(h)), unmatched };
}
