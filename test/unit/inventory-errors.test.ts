import test from 'ava';
import { join } from 'node:path';
import { UsageError, ValidationError, ValidationErrors } from '../../src/errors.ts';
import { loadInventory } from '../../src/inventory/index.ts';
import { brief, validationErrors, writeTree } from '../fixtures/inventory/tmp-tree.ts';

const load = (root: string) => () => loadInventory(join(root, 'inv.yaml'));

test('YAML syntax error names file and line', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
all:
  hosts:
    web1:
      x: [1, 2
    web2:
`,
  });
  const errs = validationErrors(t, load(root));
  t.true(errs.length >= 1);
  t.is(errs[0].location.file, join(root, 'inv.yaml'));
  t.regex(errs[0].message, /^YAML syntax error/);
  t.true([4, 5].includes(errs[0].location.line!), `line ${errs[0].location.line}`);
});

test('tab indentation is a syntax error with its line', (t) => {
  const root = writeTree(t, { 'inv.yaml': 'all:\n  hosts:\n\tweb1:\n' });
  const errs = validationErrors(t, load(root));
  t.is(errs[0].location.line, 3);
});

test('duplicate keys are reported with both lines, all of them at once', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
all:
  hosts:
    web1:
      port: 1
      port: 2
    web2:
    web1:
`,
  });
  const errs = validationErrors(t, load(root));
  t.deepEqual(brief(errs, root), [
    'inv.yaml:5 duplicate key "port" (first at line 4): keys of a YAML mapping must be unique',
    'inv.yaml:7 duplicate key "web1" (first at line 3): keys of a YAML mapping must be unique',
  ]);
});

test('host_vars file for a host in no group: a warning with the typo hint, as Ansible ignores it', (t) => {
  const root = writeTree(t, {
    'inv.yaml': 'all:\n  hosts:\n    web1:\n',
    'host_vars/web2.yaml': 'x: 1\n',
    'host_vars/web1.yaml': 'x: 1\n',
  });
  const inv = load(root)();
  const warns = inv.warnings;
  t.is(warns.length, 1);
  t.is(warns[0].location.file, join(root, 'host_vars/web2.yaml'));
  t.is(warns[0].message, 'host_vars for web2, but no host web2 is in any group of the inventory; its variables are not used (did you mean web1?)');
  t.truthy(warns[0].hint);
  t.deepEqual([...inv.hosts.keys()], ['web1']);
});

test('group_vars file (or directory) for a group that is never defined: warnings, the vars unused', (t) => {
  const root = writeTree(t, {
    'inv.yaml': 'directors:\n  hosts:\n    lb1:\n',
    'group_vars/director.yml': 'x: 1\n',
    'group_vars/realservers/main.yaml': 'y: 1\n',
    'group_vars/all.yaml': 'z: 1\n',
    'group_vars/ungrouped.yaml': 'x: 1\n',
  });
  const inv = load(root)();
  t.deepEqual(brief(inv.warnings, root), [
    'group_vars/director.yml group_vars for director, but no group director is defined in the inventory; its variables are not used (did you mean directors?)',
    'group_vars/realservers group_vars for realservers, but no group realservers is defined in the inventory; its variables are not used',
  ]);
  t.deepEqual(inv.hosts.get('lb1')!.vars, { z: 1 });
});

test('a child group that is never defined is an empty group, warned at its line with the fix', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
all:
  children:
    lvs:
      children:
        directors:
        realsevers:
directors:
  hosts:
    lb1:
realservers:
  hosts:
    web1:
`,
  });
  const inv = load(root)();
  const warns = inv.warnings;
  t.is(warns.length, 1);
  t.is(warns[0].location.line, 6);
  t.is(warns[0].message, 'group realsevers is listed as a child of lvs but is never defined (no hosts, children or vars anywhere): it is an empty group (did you mean realservers?)');
  t.regex(warns[0].hint!, /realsevers: \{hosts: \{\}\}/);
  t.deepEqual(inv.groups.get('lvs')!.children, ['directors', 'realsevers']);
});

test('a child group defined elsewhere, or given group_vars, is fine', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
all:
  children:
    lvs:
      children:
        directors:
        placeholder:
directors:
  hosts:
    lb1:
`,
    'group_vars/placeholder.yaml': 'x: 1\n',
  });
  const inv = loadInventory(join(root, 'inv.yaml'));
  t.deepEqual(inv.groups.get('lvs')!.children, ['directors', 'placeholder']);
  t.deepEqual(inv.groups.get('placeholder')!.vars, { x: 1 });
});

test('empty groups, as ansible-inventory --export -y writes them: hosts: {}, name: {}, name:, ungrouped: {}', (t) => {
  const ok = writeTree(t, { 'inv.yaml': 'all:\n  children:\n    canary:\n      hosts: {}\n    empty: {}\n    bare:\n    ungrouped: {}\n' });
  const inv = loadInventory(join(ok, 'inv.yaml'));
  t.deepEqual(inv.groups.get('canary')!.hosts, []);
  t.deepEqual(inv.groups.get('all')!.children, ['ungrouped', 'canary', 'empty', 'bare']);
  // a bare child (`name:`) named nowhere else is still worth a word (a typo?), but not an error
  t.deepEqual(inv.warnings.map((w) => w.location.line), [6]);
  const top = writeTree(t, { 'inv.yaml': 'ungrouped: {}\nweb:\n' });
  const inv2 = loadInventory(join(top, 'inv.yaml'));
  t.deepEqual([...inv2.groups.keys()], ['all', 'ungrouped', 'web']);
  t.deepEqual(inv2.warnings, []);
});

test('a host name that is also a group name', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
web:
  hosts:
    web1:
db:
  hosts:
    web:
`,
  });
  const errs = validationErrors(t, load(root));
  t.deepEqual(brief(errs, root), ['inv.yaml:6 web is both a host and a group name']);
  t.is(errs[0].location.host, 'web');
});

test('hosts as a list: says so and shows the mapping form', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
web:
  hosts:
    - web1
    - web2
`,
  });
  const errs = validationErrors(t, load(root));
  t.is(errs.length, 1);
  t.is(errs[0].location.line, 3);
  t.is(errs[0].message, 'hosts of group web must be a mapping (name: or name: {vars}), not a list');
  t.is(errs[0].hint, 'write\n  hosts:\n    web1:\n    web2:');
});

test('children as a list, vars as a list, group as a list, host value as a scalar', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
all:
  children:
    - web
lb:
  vars:
    - a=1
db: [db1, db2]
web:
  hosts:
    web1: 10.0.0.1
`,
  });
  const errs = validationErrors(t, load(root));
  t.deepEqual(brief(errs, root), [
    'inv.yaml:3 children of group all must be a mapping of group names, not a list',
    'inv.yaml:6 vars of group lb must be a mapping, not a list',
    'inv.yaml:7 group db must be a mapping with hosts, children or vars, not a list',
    'inv.yaml:10 host web1 in group web must be followed by nothing or a mapping of variables, not the value "10.0.0.1"',
  ]);
  t.is(errs[3].hint, 'write\n  web1:\n    ansible_host: 10.0.0.1');
  t.regex(errs[2].hint!, /db1:\n.*db2:/);
});

test('unknown keys in a group body', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
web:
  host:
    web1:
  web2:
  vars:
    a: 1
`,
  });
  const errs = validationErrors(t, load(root));
  t.deepEqual(brief(errs, root), [
    'inv.yaml:2 unknown key "host" in group web (only hosts, children and vars are allowed)',
    'inv.yaml:4 unknown key "web2" in group web (only hosts, children and vars are allowed)',
  ]);
  t.is(errs[0].hint, 'did you mean hosts:?');
  t.regex(errs[1].hint!, /hosts:\n\s+web2:/);
});

test('a group that is its own ancestor', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
a:
  children:
    b:
      children:
        a:
      hosts:
        h1:
`,
  });
  const errs = validationErrors(t, load(root));
  t.deepEqual(brief(errs, root), ['inv.yaml:5 group a is its own ancestor: a → b → a']);
});

test('errors in group_vars files name their own file and line', (t) => {
  const root = writeTree(t, {
    'inv.yaml': 'web:\n  hosts:\n    web1:\n',
    'group_vars/web/10.yaml': 'a: 1\nb: 2\na: 3\n',
    'group_vars/web/20.yaml': '- not\n- a mapping\n',
    'host_vars/web1.yml': 'x: [\n',
  });
  const errs = validationErrors(t, load(root));
  t.deepEqual(
    brief(errs, root).map((s) => s.replace(/(YAML syntax error).*/, '$1')),
    [
      'group_vars/web/10.yaml:3 duplicate key "a" (first at line 1): keys of a YAML mapping must be unique',
      'group_vars/web/20.yaml:1 a vars file must be a YAML mapping of variable names to values',
      'host_vars/web1.yml:2 YAML syntax error',
    ],
  );
});

test('wrong connection variable types name file:line, host and field; all reported together', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
all:
  hosts:
    web1:
      ansible_port: abc
    web2:
      ansible_become: maybe
    web3:
      ansible_ssh_common_args: "-J a,,b"
`,
    'host_vars/web2.yaml': 'ansible_timeout: soon\n',
  });
  const err = t.throws(load(root), { instanceOf: ValidationErrors }) as ValidationErrors;
  t.deepEqual(
    err.errors.map((e) => [e.location.file?.slice(root.length + 1), e.location.line, e.location.host, e.location.field]),
    [
      ['inv.yaml', 4, 'web1', 'ansible_port'],
      ['inv.yaml', 6, 'web2', 'ansible_become'],
      ['host_vars/web2.yaml', 1, 'web2', 'ansible_timeout'],
      ['inv.yaml', 8, 'web3', 'ansible_ssh_common_args'],
    ],
  );
  t.is(err.errors[0].message, 'ansible_port must be a port number 1-65535, not "abc"');
  t.is(err.errors[1].message, 'ansible_become must be a boolean (true/false, yes/no), not "maybe"');
  t.regex(err.message, /inv\.yaml:4, host web1, field ansible_port: ansible_port must be a port number/);
});

test('a bad connection variable from group vars points at the group vars line', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
web:
  vars:
    ansible_port: 70000
  hosts:
    web1:
`,
  });
  const errs = validationErrors(t, load(root));
  t.deepEqual(
    errs.map((e) => [e.location.line, e.location.host, e.location.field]),
    [[3, 'web1', 'ansible_port']],
  );
});

test('a bad host range', (t) => {
  const root = writeTree(t, { 'inv.yaml': 'web:\n  hosts:\n    web[5:1]:\n' });
  t.deepEqual(brief(validationErrors(t, load(root)), root), ['inv.yaml:3 host web[5:1]: host range [5:1]: start is after end']);
});

test('an inventory that is not a mapping', (t) => {
  const root = writeTree(t, { 'inv.yaml': '- web1\n- web2\n' });
  t.deepEqual(brief(validationErrors(t, load(root)), root), ['inv.yaml:1 an inventory must be a YAML mapping of group names']);
});

test('a missing inventory file is a usage error; an empty one is an empty inventory', (t) => {
  const root = writeTree(t, { 'empty.yaml': '# nothing yet\n' });
  t.throws(() => loadInventory(join(root, 'nope.yaml')), { instanceOf: UsageError });
  const inv = loadInventory(join(root, 'empty.yaml'));
  t.is(inv.hosts.size, 0);
  t.deepEqual([...inv.groups.keys()], ['all', 'ungrouped']);
});

test('a single problem is thrown as one ValidationError', (t) => {
  const root = writeTree(t, { 'inv.yaml': 'web:\n  hosts:\n    web1:\n  bogus: 1\n' });
  const err = t.throws(load(root));
  t.true(err instanceof ValidationError);
});
