import test from 'ava';
import { dirname, join, relative } from 'node:path';
import type { ValidationError } from '../../src/errors.ts';
import { fileURLToPath } from 'node:url';
import { expandHostRange, loadInventory } from '../../src/inventory/index.ts';
import { writeTree } from '../fixtures/inventory/tmp-tree.ts';

const fixtures = fileURLToPath(new URL('../fixtures/inventory/', import.meta.url));
const basic = () => loadInventory(join(fixtures, 'basic/inventory.yaml'));
const precedence = (extraVars?: Record<string, unknown>) => loadInventory(join(fixtures, 'precedence/inventory.yaml'), { extraVars });

test('hosts in inventory order (first mention), ranges expanded, groups in first-mention order', (t) => {
  const inv = basic();
  t.is(inv.file, join(fixtures, 'basic/inventory.yaml'));
  t.deepEqual([...inv.hosts.keys()], ['lonely', 'lb1', 'lb2', 'web01', 'web02', 'web03', 'client1']);
  t.deepEqual([...inv.groups.keys()], ['all', 'ungrouped', 'lvs', 'directors', 'realservers', 'clients']);
});

test('nested groups, top-level groups besides all, ungrouped', (t) => {
  const inv = basic();
  const g = (name: string) => inv.groups.get(name)!;
  t.deepEqual(g('all').children, ['ungrouped', 'lvs', 'clients']);
  t.deepEqual(g('lvs').children, ['directors', 'realservers']);
  t.deepEqual(g('lvs').hosts, []);
  t.deepEqual(g('directors').hosts, ['lb1', 'lb2']);
  t.deepEqual(g('clients').hosts, ['client1', 'lb1']);
  t.deepEqual(g('ungrouped').hosts, ['lonely']);
  t.deepEqual(g('realservers').vars, { http_port: 8080 });
  t.is(g('directors').source.line, 10);
});

test('host entries: every group (transitive, all included, shallow first), merged vars, source line', (t) => {
  const inv = basic();
  const lb1 = inv.hosts.get('lb1')!;
  t.deepEqual(lb1.groups, ['all', 'clients', 'lvs', 'directors']);
  t.deepEqual(lb1.vars, { ntp_server: '192.0.2.1', ansible_host: '10.0.0.11', vrrp_priority: 150 });
  t.deepEqual(lb1.source, { file: join(fixtures, 'basic/inventory.yaml'), line: 12 });
  t.deepEqual(inv.hosts.get('lonely')!.groups, ['all', 'ungrouped']);
  t.deepEqual(inv.hosts.get('web02')!.vars, { ntp_server: '192.0.2.1', http_port: 8080 });
  t.deepEqual(inv.hosts.get('lb1')!.varSources!.vrrp_priority, { file: join(fixtures, 'basic/inventory.yaml'), line: 14 });
});

test('precedence: all < parent < child, same depth alphabetical, host vars, group_vars files after all inventory-file group vars', (t) => {
  const inv = precedence();
  const v = (h: string) => inv.hosts.get(h)!.vars;
  // host var in the inventory beats every group
  t.is(v('lb1').who, 'host-inventory');
  // lb2 is in lb and web, both children of site (depth 2): alphabetically later web wins
  t.is(v('lb2').who, 'web-inventory');
  t.deepEqual(inv.hosts.get('lb2')!.groups, ['all', 'site', 'lb', 'web']);
  // web1: alpha, site, zulu at depth 1, web at depth 2; the host_vars file beats them all
  t.deepEqual(inv.hosts.get('web1')!.groups, ['all', 'alpha', 'site', 'zulu', 'web']);
  t.is(v('web1').who, 'host-vars-file');
  t.is(v('web1').tie, 'zulu');
  // group_vars/ files come after the same group's inventory vars
  t.is(v('web1').from_all, 'group_vars');
  t.is(v('web1').site_only, 'group_vars');
  t.is(v('lb2').who, 'web-inventory');
  // as in Ansible, every group_vars/ file beats every inventory-file group var, even a deeper group's
  t.is(v('web1').tier, 'site-group-vars');
  // group_vars/lb/ directory: files in name order, later wins; README.md is ignored
  t.is(v('lb1').lb_setting, 'first');
  t.is(v('lb1').lb_second, 'second');
  // host_vars/NAME.json
  t.deepEqual(v('lb1').json_var, [1, 2]);
  // YAML 1.1 booleans (as Ansible reads them)
  t.is(v('lb1').gv_all, true);
  t.deepEqual(inv.groups.get('lb')!.vars, { who: 'lb-inventory', lb_setting: 'first', lb_second: 'second' });
});

test('precedence: a child group beats its parent even when the parent name sorts later', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
zeta:
  vars: {x: parent}
  children:
    alpha:
      vars: {x: child}
      hosts: {h1: }
`,
  });
  t.is(loadInventory(join(root, 'inv.yaml')).hosts.get('h1')!.vars.x, 'child');
});

test('precedence: ansible_group_priority reorders groups of the same depth', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
alpha:
  vars: {x: alpha, ansible_group_priority: 10}
  hosts: {h1: }
zulu:
  vars: {x: zulu}
  hosts: {h1: }
`,
  });
  t.is(loadInventory(join(root, 'inv.yaml')).hosts.get('h1')!.vars.x, 'alpha');
});

test('precedence: extra vars win over everything and are kept separately', (t) => {
  const inv = precedence({ who: 'extra', new_one: '1' });
  for (const h of inv.hosts.values()) t.is(h.vars.who, 'extra');
  t.deepEqual(inv.extraVars, { who: 'extra', new_one: '1' });
  t.deepEqual(inv.hosts.get('web1')!.varSources!.who, { file: 'extra vars (-e)' });
});

test('a host listed in several places merges its inline vars, later wins; dictionaries are replaced, not merged', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
a:
  hosts:
    h1: {x: 1, d: {k1: 1}}
b:
  hosts:
    h1: {x: 2, d: {k2: 2}}
`,
  });
  const h1 = loadInventory(join(root, 'inv.yaml')).hosts.get('h1')!;
  t.deepEqual(h1.vars, { x: 2, d: { k2: 2 } });
  t.is(h1.varSources!.x.line, 6);
});

test('a group written in several places merges hosts, children and vars', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
all:
  children:
    web:
      hosts: {w1: }
      vars: {a: 1}
web:
  hosts: {w2: }
  vars: {b: 2}
`,
  });
  const inv = loadInventory(join(root, 'inv.yaml'));
  t.deepEqual(inv.groups.get('web')!.hosts, ['w1', 'w2']);
  t.deepEqual(inv.groups.get('web')!.vars, { a: 1, b: 2 });
  t.deepEqual(inv.groups.get('all')!.children, ['ungrouped', 'web']);
});

test('a top-level group that is also a child elsewhere is not a direct child of all', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
prod:
  children:
    web:
web:
  hosts: {w1: }
`,
  });
  const inv = loadInventory(join(root, 'inv.yaml'));
  t.deepEqual(inv.groups.get('all')!.children, ['ungrouped', 'prod']);
  t.deepEqual(inv.hosts.get('w1')!.groups, ['all', 'prod', 'web']);
});

test('YAML 1.1 scalars as PyYAML reads them; {{ }} stays literal in rawVars (rendering: inventory-jinja.test.ts)', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
all:
  hosts:
    h1:
      templ: "{{ other_var }}"
      on_off: off
      letter_y: y
      date: 2024-01-31
      octal: 0644
      defaults: &d {k: v}
      merged: {<<: *d, j: w}
`,
  });
  const v = loadInventory(join(root, 'inv.yaml')).hosts.get('h1')!.rawVars!;
  t.is(v.templ, '{{ other_var }}');
  t.is(v.on_off, false);
  t.is(v.letter_y, 'y');
  t.is(v.date, '2024-01-31');
  t.is(v.octal, 420);
  t.deepEqual(v.merged, { k: 'v', j: 'w' });
});

test('host_vars for a host whose name has dots, with and without an extension', (t) => {
  const root = writeTree(t, {
    'inv.yaml': 'all:\n  hosts:\n    web1.example.com:\n    db1.example.com:\n',
    'host_vars/web1.example.com.yaml': 'a: 1\n',
    'host_vars/db1.example.com': 'b: 2\n',
    'host_vars/.hidden.yaml': 'junk: [\n',
    'host_vars/notes.txt': 'ignored',
  });
  const inv = loadInventory(join(root, 'inv.yaml'));
  t.deepEqual(inv.hosts.get('web1.example.com')!.vars, { a: 1 });
  t.deepEqual(inv.hosts.get('db1.example.com')!.vars, { b: 2 });
});

test('group_vars NAME file and NAME/ directory together: directory first, then .yml, .yaml', (t) => {
  const root = writeTree(t, {
    'inv.yaml': 'web:\n  hosts: {w1: }\n',
    'group_vars/web/a.yaml': 'x: dir\ny: dir\nz: dir\n',
    'group_vars/web.yml': 'y: yml\nz: yml\n',
    'group_vars/web.yaml': 'z: yaml\n',
  });
  t.deepEqual(loadInventory(join(root, 'inv.yaml')).hosts.get('w1')!.vars, { x: 'dir', y: 'yml', z: 'yaml' });
});

test('a relative inventory path is shown as given in errors and stored absolute', (t) => {
  const root = writeTree(t, { 'inv.yaml': 'all:\n  hosts: {h1: }\n', 'host_vars/h2.yaml': 'a: 1\n' });
  const rel = relative(process.cwd(), join(root, 'inv.yaml'));
  t.is(loadInventory(rel).warnings[0].location.file, join(dirname(rel), 'host_vars/h2.yaml'));
  const ok = writeTree(t, { 'inv.yaml': 'all:\n  hosts: {h1: }\n' });
  t.is(loadInventory(relative(process.cwd(), join(ok, 'inv.yaml'))).file, join(ok, 'inv.yaml'));
});

test('expandHostRange: padding, letters, steps, several ranges', (t) => {
  t.deepEqual(expandHostRange('web[01:03].lab'), ['web01.lab', 'web02.lab', 'web03.lab']);
  t.deepEqual(expandHostRange('n[8:10]'), ['n8', 'n9', 'n10']);
  t.deepEqual(expandHostRange('db-[a:c]'), ['db-a', 'db-b', 'db-c']);
  t.deepEqual(expandHostRange('n[0:10:5]'), ['n0', 'n5', 'n10']);
  t.deepEqual(expandHostRange('r[1:2]c[a:b]'), ['r1ca', 'r1cb', 'r2ca', 'r2cb']);
  t.deepEqual(expandHostRange('plain[1]'), ['plain[1]']);
  t.throws(() => expandHostRange('x[1:c]'), { message: /numeric \(\[01:10\]\) or single letters/ });
  t.throws(() => expandHostRange('x[1:3:0]'), { message: /step "0" must be a positive integer/ });
});
