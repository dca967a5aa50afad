import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inventoryList, loadInventory } from '../../src/inventory/index.ts';

// Real inventories from public repositories (SOURCE: repository, commit, paths), each with what Debian's
// ansible-core `ansible-inventory --list` prints for it (expected.json) and its `--export -y` YAML
// (export/export.yaml), both made by regenerate.sh. Data only: no test here connects to any address in them.
const corpus = fileURLToPath(new URL('../fixtures/inventory/corpus/', import.meta.url));
const entries = readdirSync(corpus).filter((name) => existsSync(join(corpus, name, 'SOURCE')));

function source(name: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of readFileSync(join(corpus, name, 'SOURCE'), 'utf8').split('\n')) {
    const m = /^(\w+): (.*)$/.exec(line);
    if (m) fields[m[1]] = m[2];
  }
  return fields;
}

test('the corpus: at least 12 inventories, INI and YAML, each with its repository and commit noted', (t) => {
  t.true(entries.length >= 12, `${entries.length} inventories`);
  for (const name of entries) {
    const s = source(name);
    t.regex(s.repository ?? '', /^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/, name);
    t.regex(s.commit ?? '', /^[0-9a-f]{40}$/, name);
    t.truthy(s.inventory, name);
    t.true(existsSync(join(corpus, name, 'expected.json')), name);
  }
  const files = entries.flatMap((name) => source(name).inventory.split(' '));
  t.true(files.some((f) => f.endsWith('.ini')) && files.some((f) => f.endsWith('.yml')));
});

/** Lists sorted, recursively: `--export -y` writes groups and hosts in name order, not in inventory order. */
function sortLists(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortLists).sort();
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sortLists(v)]));
  return value;
}

for (const name of entries) {
  test(`corpus ${name}: ansible-inventory --list --export -y of it loads and resolves the same`, (t) => {
    const exported = loadInventory(join(corpus, name, 'export/export.yaml'));
    const expected = JSON.parse(readFileSync(join(corpus, name, 'expected.json'), 'utf8'));
    t.deepEqual(sortLists(JSON.parse(inventoryList(exported))), sortLists(expected));
  });

  test(`corpus ${name}: resolved as ansible-inventory --list does (hosts, groups and children in order, merged vars with their types)`, (t) => {
    const given = source(name).inventory.split(' ').map((f) => join(corpus, name, f));
    const expected = JSON.parse(readFileSync(join(corpus, name, 'expected.json'), 'utf8'));
    const inv = loadInventory(given);
    const got = JSON.parse(inventoryList(inv));
    // group by group first, so that a failure names the group
    for (const group of Object.keys(expected).filter((k) => k !== '_meta')) t.deepEqual(got[group], expected[group], `group ${group}`);
    t.deepEqual(Object.keys(got).sort(), Object.keys(expected).sort(), 'the same groups');
    // every host, listed or not in _meta (a host without vars is left out there)
    const listed = (data: Record<string, { hosts?: string[] }>) => new Set(Object.values(data).flatMap((g) => g.hosts ?? []));
    t.deepEqual([...inv.hosts.keys()].sort(), [...listed(expected)].sort(), 'the same hosts');
    for (const [host, vars] of Object.entries(expected._meta.hostvars)) t.deepEqual(got._meta.hostvars[host], vars, `vars of ${host}`);
    t.deepEqual(got, expected);
    // and the JSON ansible-inventory printed is itself an inventory that resolves the same
    t.deepEqual(JSON.parse(inventoryList(loadInventory(join(corpus, name, 'expected.json')))), expected, 'expected.json read back');
  });
}
