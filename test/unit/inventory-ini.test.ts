import test from 'ava';
import { join } from 'node:path';
import { loadInventory } from '../../src/inventory/index.ts';
import { pythonLiteralOrText } from '../../src/inventory/python-literal.ts';
import { brief, validationErrors, writeTree } from '../fixtures/inventory/tmp-tree.ts';

// Expected values below were checked against Debian's ansible-core 2.14 (ansible-inventory --list).

test('Python literals as ast.literal_eval reads them; anything else is the text as written', (t) => {
  const cases: [string, unknown][] = [
    ['True', true],
    ['False', false],
    ['None', null],
    ['8080', 8080],
    ['-3', -3],
    ['1.5', 1.5],
    ['1e3', 1000],
    ['0x1F', 31],
    ['1_000', 1000],
    ["'03'", '03'],
    ['"a b"', 'a b'],
    ["'a' \"b\"", 'ab'],
    ["'tab\\there'", 'tab\there'],
    ["r'\\d+'", '\\d+'],
    ["{'a': 1, 'b': [1, 'x', None]}", { a: 1, b: [1, 'x', null] }],
    ['[1, 2,]', [1, 2]],
    ['(1, 2)', [1, 2]],
    ['(1)', 1],
    ['{}', {}],
    ['8080 # the port', 8080],
    // not literals: kept as text
    ['03', '03'],
    ['yes', 'yes'],
    ['hello world', 'hello world'],
    ['hello world # not a comment', 'hello world # not a comment'],
    ['{{ lookup("env", "HOME") }}', '{{ lookup("env", "HOME") }}'],
    ['[1, foo]', '[1, foo]'],
    ['1.2.3.4', '1.2.3.4'],
    ['10.0.0.1/24', '10.0.0.1/24'],
    ['', ''],
    ['{1, 2}', '{1, 2}'],
    ['1j', '1j'],
    ["'unterminated", "'unterminated"],
  ];
  for (const [text, value] of cases) t.deepEqual(pythonLiteralOrText(text), value, text);
});

test('INI: sections, children, vars, ungrouped hosts, ranges, host:port, inline vars typed as Python literals', (t) => {
  const root = writeTree(t, {
    'hosts': `
# a comment
; another comment
lonely ansible_host=192.0.2.9
[web]
w[01:03]:2222 x=True y="{'a': 1}" z='03' s=hello n=None q="a b"
h2 ansible_port=22 # trailing comment

[web:vars]
myvar=23
b=False
s = hello world # not a comment
d={'a': 1}
e=

[web:children]
db

[db]
dbhost

[empty]

[all:vars]
top=yes
`,
  });
  const inv = loadInventory(join(root, 'hosts'));
  t.deepEqual([...inv.hosts.keys()], ['lonely', 'w01', 'w02', 'w03', 'h2', 'dbhost']);
  t.deepEqual(inv.groups.get('all')!.children, ['ungrouped', 'web', 'empty']);
  t.deepEqual(inv.groups.get('web')!.hosts, ['w01', 'w02', 'w03', 'h2']);
  t.deepEqual(inv.groups.get('web')!.children, ['db']);
  t.deepEqual(inv.groups.get('ungrouped')!.hosts, ['lonely']);
  const groupVars = { myvar: 23, b: false, s: 'hello world # not a comment', d: { a: 1 }, e: '', top: 'yes' };
  t.deepEqual(inv.hosts.get('w02')!.vars, { ...groupVars, ansible_port: 2222, x: true, y: { a: 1 }, z: '03', s: 'hello', n: null, q: 'a b' });
  t.deepEqual(inv.hosts.get('h2')!.vars, { ...groupVars, ansible_port: 22 });
  t.deepEqual(inv.hosts.get('dbhost')!.vars, groupVars);
  t.deepEqual(inv.hosts.get('lonely')!.vars, { ansible_host: '192.0.2.9', top: 'yes' });
  // file:line of each variable, for errors that name it
  t.deepEqual(inv.hosts.get('w01')!.varSources!.x, { file: join(root, 'hosts'), line: 5 });
  t.deepEqual(inv.hosts.get('w01')!.varSources!.myvar, { file: join(root, 'hosts'), line: 9 });
  t.deepEqual(inv.warnings, []);
});

test('INI: a group may be declared after the section that names it; [x:vars] alone does not declare x', (t) => {
  const root = writeTree(t, {
    'inventory.ini': `
[lvs:children]
directors
realservers
[realservers:vars]
http_port=8080
[directors]
lb1
[realservers]
web1
`,
  });
  const inv = loadInventory(join(root, 'inventory.ini'));
  t.deepEqual(inv.groups.get('lvs')!.children, ['directors', 'realservers']);
  t.deepEqual(inv.hosts.get('web1')!.groups, ['all', 'lvs', 'realservers']);
  t.is(inv.hosts.get('web1')!.vars.http_port, 8080);
});

test('INI: a host listed before any section and in a group is not ungrouped', (t) => {
  const root = writeTree(t, { 'hosts': 'u1\nu2\n[g]\nu2\n' });
  const inv = loadInventory(join(root, 'hosts'));
  t.deepEqual(inv.groups.get('ungrouped')!.hosts, ['u1']);
  t.deepEqual(inv.hosts.get('u2')!.groups, ['all', 'g']);
});

test('INI errors name file:line with the fix, all of them at once', (t) => {
  const root = writeTree(t, {
    'inv.ini': `
[web]
w1 port
w2 x="open
[web:vrs]
[ web ]
[web:children]
ghost
[orphan:vars]
a=1
[web:vars]
novalue
[db]
d1:
`,
  });
  t.deepEqual(brief(validationErrors(t, () => loadInventory(join(root, 'inv.ini'))), root), [
    'inv.ini:2 expected key=value after host w1, got "port"',
    'inv.ini:3 cannot read host line: unterminated double quote at character 6',
    'inv.ini:4 section [web:vrs] has unknown type vrs',
    'inv.ini:5 invalid section [ web ]',
    'inv.ini:11 expected key=value in [web:vars], got "novalue"',
    'inv.ini:13 host d1: ends with ":" (the character before a port)',
    'inv.ini:7 [web:children] names group ghost, which is never declared',
    'inv.ini:8 section [orphan:vars] is for a group that is never declared',
  ]);
});

test('format by content: INI in a file without extension, YAML in one, YAML errors for a .yaml file', (t) => {
  const root = writeTree(t, {
    'ini-noext': '[web]\nw1\n',
    'yaml-noext': 'web:\n  hosts:\n    w1:\n',
    'plain-list': 'w1\nw2\n',
    'broken.yaml': 'web:\n  hosts:\n    w1: [\n',
    'broken-ini': '[web]\nw1 novalue\n',
    'empty': '',
  });
  for (const f of ['ini-noext', 'yaml-noext']) t.deepEqual(loadInventory(join(root, f)).groups.get('web')!.hosts, ['w1'], f);
  t.deepEqual([...loadInventory(join(root, 'plain-list')).groups.get('ungrouped')!.hosts], ['w1', 'w2']);
  t.deepEqual([...loadInventory(join(root, 'empty')).hosts.keys()], []);
  t.regex(validationErrors(t, () => loadInventory(join(root, 'broken.yaml')))[0].message, /^YAML syntax error/);
  t.deepEqual(brief(validationErrors(t, () => loadInventory(join(root, 'broken-ini'))), root), ['broken-ini:2 expected key=value after host w1, got "novalue"']);
});

test('inventory scripts and plugin configurations are refused with what to do instead; a vaulted one needs the password', (t) => {
  const root = writeTree(t, {
    'script.py': '#!/usr/bin/env python3\nprint("{}")\n',
    'aws_ec2.yml': 'plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n',
    'vaulted': '$ANSIBLE_VAULT;1.1;AES256\n6162\n',
  });
  t.regex(validationErrors(t, () => loadInventory(join(root, 'script.py')))[0].message, /inventory scripts are not supported/);
  t.regex(validationErrors(t, () => loadInventory(join(root, 'aws_ec2.yml')))[0].hint!, /ansible-inventory -i THIS_FILE --list > inventory\.json/);
  t.regex(validationErrors(t, () => loadInventory(join(root, 'vaulted')))[0].message, /vault-encrypted and no vault password was given/); // decrypted with one: inventory-vault.test.ts
});
