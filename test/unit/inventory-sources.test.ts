import test from 'ava';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.ts';
import { inventoryList, loadInventory } from '../../src/inventory/index.ts';
import { lvsplay } from '../helpers/cli.ts';
import { writeTree } from '../fixtures/inventory/tmp-tree.ts';

// Expected values below were checked against Debian's ansible-core 2.14 (ansible-inventory --list).

const tree = {
  'inv/01-hosts': '[web]\nw1 ansible_port=2222\nw2:2200 role=primary\n[db]\nd1\n',
  'inv/02-more.yml': 'web:\n  hosts:\n    w3:\n  vars:\n    tier: front\nlvs:\n  children:\n    web:\n',
  // what Ansible skips in an inventory directory
  'inv/skip.ini': '[ignored]\nnope\n',
  'inv/01-hosts~': '[ignored]\nnope\n',
  'inv/x.retry': '[ignored]\nnope\n',
  'inv/.hidden': '[ignored]\nnope\n',
  'inv/notes.md': '[ignored]\nnope\n',
  'inv/a.cfg': '[ignored]\nnope\n',
  'inv/b.orig': '[ignored]\nnope\n',
  // a subdirectory is read too; its own group_vars/ are not (only the source's)
  'inv/sub/hosts': '[sub]\ns1\n',
  'inv/sub/group_vars/sub.yml': 'subvar: 1\n',
  'inv/group_vars/all.yml': 'gv: all\n',
  'inv/group_vars/web.yml': 'gv: web\n',
};

test('an inventory directory: every file in it, in name order, skipping Ansible ignores; its group_vars/', (t) => {
  const root = writeTree(t, tree);
  const inv = loadInventory(join(root, 'inv'));
  t.deepEqual([...inv.hosts.keys()], ['w1', 'w2', 'd1', 'w3', 's1']);
  t.false(inv.groups.has('ignored'));
  t.deepEqual(inv.groups.get('all')!.children, ['ungrouped', 'db', 'lvs', 'sub']);
  t.deepEqual(inv.groups.get('web')!.hosts, ['w1', 'w2', 'w3']);
  t.deepEqual(inv.hosts.get('w2')!.vars, { ansible_port: 2200, role: 'primary', tier: 'front', gv: 'web' });
  t.deepEqual(inv.hosts.get('s1')!.vars, { gv: 'all' });
  t.is(inv.file, join(root, 'inv'));
});

test('several sources: read in order into one inventory, later vars win, each source with its group_vars/', (t) => {
  const root = writeTree(t, {
    'a/hosts.ini': '[web]\nw1 who=a\n[web:vars]\ncolour=red\n',
    'a/group_vars/web.yml': 'from_a: yes\nshared: a\n',
    'b/hosts.yml': 'web:\n  hosts:\n    w1: {who: b}\n    w2:\n  vars: {colour: blue}\ndb:\n  hosts: {d1: }\n',
    'b/group_vars/web.yml': 'shared: b\n',
  });
  const inv = loadInventory([join(root, 'a/hosts.ini'), join(root, 'b/hosts.yml')]);
  t.deepEqual(inv.sources, [join(root, 'a/hosts.ini'), join(root, 'b/hosts.yml')]);
  t.deepEqual(inv.groups.get('web')!.hosts, ['w1', 'w2']);
  t.deepEqual(inv.hosts.get('w1')!.vars, { who: 'b', colour: 'blue', from_a: true, shared: 'b' });
  t.deepEqual(inv.hosts.get('d1')!.groups, ['all', 'db']);
  t.throws(() => loadInventory([join(root, 'a/hosts.ini'), join(root, 'nope')]), { instanceOf: UsageError, message: /inventory not found: .*nope/ });
});

test('the JSON of ansible-inventory --list (and of inventory scripts) is an inventory; --list of it round-trips', (t) => {
  const root = writeTree(t, {
    'list.json': JSON.stringify({
      _meta: { hostvars: { j1: { x: 1, b: true }, ghost: { y: 2 } } },
      all: { children: ['ungrouped', 'jgroup'] },
      jgroup: { hosts: ['j1', 'w1'], vars: { jv: 's' }, children: ['jchild'] },
      jchild: ['j2'],
    }),
  });
  const inv = loadInventory(join(root, 'list.json'));
  // as Ansible's script plugin: _meta.hostvars only for hosts some group lists
  t.deepEqual([...inv.hosts.keys()], ['j1', 'w1', 'j2']);
  t.deepEqual(inv.hosts.get('j1')!.vars, { jv: 's', x: 1, b: true });
  t.deepEqual(inv.hosts.get('j2')!.groups, ['all', 'jgroup', 'jchild']);
  const again = writeTree(t, { 'again.json': inventoryList(inv) });
  t.is(inventoryList(loadInventory(join(again, 'again.json'))), inventoryList(inv));
});

test('YAML: host:port entries and string shorthands for hosts/children, as the yaml plugin', (t) => {
  const root = writeTree(t, {
    'inv.yaml': 'web:\n  hosts:\n    "w[1:2]:2222":\n    "[fd00::1]:2200":\n    fd00::2:\n  children: db\ndb:\n  hosts: d1\n',
  });
  const inv = loadInventory(join(root, 'inv.yaml'));
  t.deepEqual([...inv.hosts.keys()], ['w1', 'w2', 'fd00::1', 'fd00::2', 'd1']);
  t.deepEqual(inv.hosts.get('w2')!.vars, { ansible_port: 2222 });
  t.deepEqual(inv.hosts.get('fd00::1')!.vars, { ansible_port: 2200 });
  t.deepEqual(inv.hosts.get('fd00::2')!.vars, {});
  t.deepEqual(inv.groups.get('web')!.children, ['db']);
});

test('CLI: several -i, a directory, warnings on stderr with the typo hint, --list on stdout', async (t) => {
  const root = writeTree(t, { ...tree, 'extra.ini': '[web]\nw9\n', 'inv/group_vars/webb.yml': 'x: 1\n' });
  const r = await lvsplay(['inventory', '-i', join(root, 'inv'), '-i', join(root, 'extra.ini'), '--list']);
  t.is(r.code, 0, r.stderr);
  const data = JSON.parse(r.stdout);
  t.deepEqual(data.web.hosts, ['w1', 'w2', 'w3', 'w9']);
  t.regex(r.stderr, /\[WARNING\] .*group_vars\/webb\.yml: group_vars for webb, but no group webb is defined in the inventory; its variables are not used \(did you mean web\?\)/);
});
