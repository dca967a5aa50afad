import type { Location } from '../errors.ts';
import { addHostEntry } from './parse-inventory.ts';
import type { Problems } from './problems.ts';
import { pythonLiteralOrText } from './python-literal.ts';
import { addChild, ensureGroup, type RawGroup, type RawInventory } from './raw-inventory.ts';
import { splitShellWords } from './shell-words.ts';
import type { VarLayer } from './var-layer.ts';

// The patterns of Ansible's ini inventory plugin (plugins/inventory/ini.py, _compile_patterns)
const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;
const SECTION_KINDS = ['hosts', 'children', 'vars'];

/** A group named before it is declared: `[x:vars]` or a `[p:children]` line, waiting for `[x]`/`[x:children]`. */
interface Pending {
  kind: 'vars' | 'children';
  location: Location;
  parents: { group: RawGroup; location: Location }[];
}

/**
 * Read an INI inventory into `inv` as Ansible's ini plugin does: lines before any section are `ungrouped`
 * hosts; `[g]` lists hosts (`name k=v ...`, shlex-split, each value a Python literal or its text),
 * `[g:children]` group names, `[g:vars]` one `k=v` per line (the whole rest of the line, the same value typing);
 * `#` and `;` start comment lines. A group must be declared by `[g]` or `[g:children]` (in this file or an
 * earlier source) before the file ends.
 */
export function parseIniInventory(text: string, display: string, inv: RawInventory, problems: Problems): void {
  const pending = new Map<string, Pending>();
  let group = inv.groups.get('ungrouped')!;
  let kind = 'hosts';
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const where: Location = { file: display, line: i + 1 };
    const line = lines[i].trim();
    if (line === '' || line[0] === '#' || line[0] === ';') continue;

    const section = SECTION.exec(line);
    if (section) {
      const [, name, tag] = section;
      kind = tag ?? 'hosts';
      if (!SECTION_KINDS.includes(kind)) {
        problems.add(`section [${name}:${tag}] has unknown type ${tag}`, where, `use [${name}], [${name}:children] or [${name}:vars]`);
        kind = 'skip';
        continue;
      }
      if (!inv.groups.has(name) && kind === 'vars' && !pending.has(name)) pending.set(name, { kind: 'vars', location: where, parents: [] });
      group = ensureGroup(inv, name, where);
      group.hasContent = true;
      const waiting = pending.get(name);
      if (waiting && kind !== 'vars') {
        if (waiting.kind === 'children') resolvePending(inv, name, pending);
        else pending.delete(name);
      }
      continue;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      problems.add(`invalid section ${line}`, where, 'a section is [group], [group:children] or [group:vars], with no spaces inside the brackets');
      kind = 'skip';
      continue;
    }
    if (kind === 'hosts') parseHostLine(line, where, inv, group, problems);
    else if (kind === 'vars') parseVarLine(line, where, group, problems);
    else if (kind === 'children') {
      const child = GROUP_NAME.exec(line)?.[1];
      if (child === undefined) {
        problems.add(`expected a group name in [${group.name}:children], got ${JSON.stringify(line)}`, where, 'one child group name per line');
        continue;
      }
      if (inv.groups.has(child)) addChild(inv, group, child, where);
      else {
        const waiting = pending.get(child) ?? { kind: 'children', location: where, parents: [] };
        waiting.parents.push({ group, location: where });
        pending.set(child, waiting);
      }
    }
  }
  for (const [name, waiting] of pending) {
    if (waiting.kind === 'vars')
      problems.add(`section [${name}:vars] is for a group that is never declared`, waiting.location, `declare it with a [${name}] section (it may be empty) or fix the name`);
    else {
      const parent = waiting.parents[waiting.parents.length - 1];
      problems.add(
        `[${parent.group.name}:children] names group ${name}, which is never declared`,
        parent.location,
        `declare it with a [${name}] section (it may be empty) or fix the name`,
      );
    }
  }
}

/** A group waited for is now declared: link it under the parents that named it (and theirs, in turn). */
function resolvePending(inv: RawInventory, name: string, pending: Map<string, Pending>): void {
  const waiting = pending.get(name)!;
  pending.delete(name);
  for (const parent of waiting.parents) {
    addChild(inv, parent.group, name, parent.location);
    if (pending.get(parent.group.name)?.kind === 'children') resolvePending(inv, parent.group.name, pending);
  }
}

function parseHostLine(line: string, where: Location, inv: RawInventory, group: RawGroup, problems: Problems): void {
  let tokens: string[];
  try {
    tokens = splitShellWords(line, { comments: true });
  } catch (err) {
    problems.add(`cannot read host line: ${(err as Error).message}`, where, 'close the quote, or quote the value: key="a b"');
    return;
  }
  const [entry, ...assignments] = tokens;
  if (entry === undefined) return;
  if (entry === '---') {
    problems.add('a host named ---: this looks like a YAML file', where, 'give YAML inventories a .yaml/.yml name, or fix the YAML syntax errors');
    return;
  }
  if (entry.endsWith(':')) {
    problems.add(`host ${entry} ends with ":" (the character before a port)`, where, `write ${entry}22 for a port, or drop the ":"`);
    return;
  }
  const layer: VarLayer = { vars: {}, sources: {} };
  for (const word of assignments) {
    const eq = word.indexOf('=');
    if (eq < 0) {
      problems.add(`expected key=value after host ${entry}, got ${JSON.stringify(word)}`, where, 'host variables are written key=value; quote values with spaces: key="a b"');
      return;
    }
    const key = word.slice(0, eq);
    layer.vars[key] = pythonLiteralOrText(word.slice(eq + 1));
    layer.sources[key] = where;
  }
  addHostEntry(inv, problems, group, entry, where, assignments.length ? layer : undefined);
}

function parseVarLine(line: string, where: Location, group: RawGroup, problems: Problems): void {
  const eq = line.indexOf('=');
  if (eq < 0) {
    problems.add(`expected key=value in [${group.name}:vars], got ${JSON.stringify(line)}`, where, 'one variable per line: name=value');
    return;
  }
  const key = line.slice(0, eq).trim();
  group.layers.push({ vars: { [key]: pythonLiteralOrText(line.slice(eq + 1).trim()) }, sources: { [key]: where } });
}
