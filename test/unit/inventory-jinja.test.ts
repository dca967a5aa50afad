import test from 'ava';
import { join } from 'node:path';
import { ValidationError } from '../../src/errors.ts';
import { connectionSpec, loadInventory } from '../../src/inventory/index.ts';
import { toBool, toInt, pyJsonDumps } from '../../src/inventory/jinja-filters.ts';
import { renderTemplate, TemplateRenderError, type TemplateScope } from '../../src/inventory/templating.ts';
import { writeTree } from '../fixtures/inventory/tmp-tree.ts';

function scope(vars: Record<string, unknown>): TemplateScope {
  return { has: (n) => n in vars, get: (n) => vars[n] };
}
const r = (text: string, vars: Record<string, unknown> = {}) => renderTemplate(text, scope(vars));
const construct = (text: string, vars: Record<string, unknown> = {}) => (assertThrowsRender(() => r(text, vars)) as TemplateRenderError).construct;
function assertThrowsRender(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a render error');
}

test('a single {{ expression }} keeps its type; mixed text renders to a string; Python-style printing', (t) => {
  t.is(r('{{ port }}', { port: 8080 }), 8080);
  t.is(r('{{ port + 1 }}', { port: 8080 }), 8081);
  t.deepEqual(r('{{ xs }}', { xs: ['a', 'b'] }), ['a', 'b']);
  t.deepEqual(r("{{ {'k': v} }}", { v: 1 }), { k: 1 });
  t.is(r('port={{ port }}', { port: 8080 }), 'port=8080');
  t.is(r('on={{ flag }} none={{ nothing }}', { flag: true, nothing: null }), 'on=True none=None');
  t.is(r('{{ xs }} tail', { xs: ['a', 1] }), "['a', 1] tail");
  // Ansible: a rendered string that reads as a list/dict/bool becomes one
  t.deepEqual(r('[{{ a }}, {{ b }}]', { a: 1, b: 2 }), [1, 2]);
  t.is(r('{{ "True" }}'), true);
  t.is(r('{% if on %}yes{% else %}no{% endif %}', { on: false }), 'no');
  t.is(r('{{ True }}/{{ None }}'), 'True/None');
  // conditions: Python truthiness, an undefined name is an error (StrictUndefined), `is defined` guards it
  t.is(r('{% if xs %}y{% else %}n{% endif %}', { xs: [] }), 'n');
  t.is(r('{{ "a" if d else "b" }}', { d: {} }), 'b');
  t.is(r('{% if x is defined and x %}y{% else %}n{% endif %}'), 'n');
});

test('Ansible filters: default/d, bool, int, join, lower/upper, replace, regex_replace, to_json, length, first, last', (t) => {
  t.is(r('{{ missing | default("x") }}'), 'x');
  t.is(r('{{ missing | d(5) }}'), 5);
  t.is(r('{{ empty | default("x", true) }}', { empty: '' }), 'x');
  t.is(r('{{ empty | default("x") }}', { empty: '' }), '');
  t.is(r('{{ v | bool }}', { v: 'Yes' }), true);
  t.is(r('{{ v | bool }}', { v: 'nope' }), false);
  t.is(r('{{ "42.7" | int }}'), 42);
  t.is(r('{{ "x" | int(3) }}'), 3);
  t.is(r('{{ "ff" | int(base=16) }}'), 255);
  t.is(r('{{ xs | join(",") }}', { xs: ['a', true, 1] }), 'a,True,1');
  t.is(r('{{ "Ab" | lower }}{{ "Ab" | upper }}'), 'abAB');
  t.is(r('{{ "a-a-a" | replace("-", "+", 1) }}'), 'a+a-a');
  t.is(r('{{ "eth0.100" | regex_replace("^(\\\\w+)\\\\.(?P<vlan>\\\\d+)$", "\\\\g<vlan>@\\\\1") }}'), '100@eth0');
  t.is(r('{{ "ab" | regex_replace("b", "$1") }}'), 'a$1'); // a literal $, not a JavaScript group reference
  t.is(r('v={{ v | to_json }}', { v: { a: [1, 'é'] } }), 'v={"a": [1, "\\u00e9"]}');
  t.deepEqual(r('{{ v | to_json }}', { v: { a: 1 } }), { a: 1 }); // as in Ansible 2.14: a string reading as a dict becomes one
  t.is(r('{{ xs | length }}/{{ xs | first }}/{{ xs | last }}', { xs: [3, 4, 5] }), '3/3/5');
  t.deepEqual(r('{{ hosts | map("upper") | list }}', { hosts: ['a', 'b'] }), ['A', 'B']);
  t.deepEqual(r('{{ items | map(attribute="n") | list }}', { items: [{ n: 1 }, { n: 2 }] }), [1, 2]);
  t.deepEqual(r('{{ a | combine(b) }}', { a: { x: 1, y: 1 }, b: { y: 2 } }), { x: 1, y: 2 });
  t.is(r('{{ x | ternary("up", "down") }}', { x: [] }), 'down');
  t.is(r('{{ "a b" | quote }}'), "'a b'");
  t.is(r('{{ x is defined }}/{{ y is defined }}', { x: 1 }), 'True/False');
});

test('filter semantics follow Ansible core.py / Jinja2, not JavaScript', (t) => {
  // core.py to_bool: only yes/on/1/true (any case) and the integer 1 are true
  t.deepEqual(['YES', 'on', '1', 'true', 1, 'y', 'no', 2, 0].map(toBool), [true, true, true, true, true, false, false, false, false]);
  t.is(toBool(null), null);
  // Jinja2 do_int: int(value, base), else int(float(value)), else the default
  t.is(toInt(' 12 '), 12);
  t.is(toInt('1_000'), 1000);
  t.is(toInt('-3.9'), -3);
  t.is(toInt('1e3'), 1000);
  t.is(toInt('0x1f'), 0);
  t.is(toInt('0x1f', 0, 16), 31);
  t.is(toInt(true), 1);
  t.is(toInt(null, 7), 7);
  t.is(pyJsonDumps({ b: 1, a: [true, null] }), '{"b": 1, "a": [true, null]}');
  t.is(pyJsonDumps({ b: 1, a: 2 }, 4, true), '{\n    "a": 2,\n    "b": 1\n}');
});

test('errors name the construct: undefined variable, unknown filter, syntax', (t) => {
  t.is(construct('{{ nope }}'), "undefined variable 'nope'");
  t.is(construct('x {{ nope.attr }}'), "undefined variable 'nope'");
  t.is(construct('{{ nope | lower }}'), "undefined variable 'nope'");
  t.is(construct('{{ x | frobnicate }}', { x: 1 }), "unknown filter 'frobnicate'");
  t.regex(construct('{{ x '), /^syntax error: /);
  t.regex(construct('{% if %}'), /^syntax error: /);
  t.regex(construct('{{ d.missing }}', { d: {} }), /^undefined: /);
  t.is(construct('{{ nope | mandatory }}'), "Mandatory variable 'nope' not defined.");
  t.is(construct('{% if nope %}y{% endif %}'), "undefined variable 'nope'");
});

const INV = `
all:
  vars:
    domain: lab.example
    fqdn: "{{ inventory_hostname }}.{{ domain }}"
    peers: "{{ groups['web'] | difference_is_not_a_filter | default([]) }}"
    first_web_ip: "{{ hostvars[groups['web'][0]]['ansible_host'] }}"
    listen: "{{ ansible_host }}:{{ http_port }}"
    http_port: 8080
    omitted: "{{ nothing | default(omit) }}"
  children:
    web:
      hosts:
        web1.lab:
          ansible_host: 198.18.0.10
          ansible_port: "{{ 2200 + 2 }}"
        web2.lab: {}
    db:
      hosts:
        db1:
          a: "{{ b }}"
          b: "{{ c }}"
          c: "{{ a }}"
          broken: "{{ undefined_thing }}"
`;

test('host variables render on read with magic vars; --list data (rawVars) keeps them literal', (t) => {
  const root = writeTree(t, { 'inv.yaml': INV.replace(' | difference_is_not_a_filter', '') });
  const inv = loadInventory(join(root, 'inv.yaml'));
  const web1 = inv.hosts.get('web1.lab')!;
  t.is(web1.vars.fqdn, 'web1.lab.lab.example');
  t.is(web1.vars.listen, '198.18.0.10:8080');
  t.deepEqual(web1.vars.peers, ['web1.lab', 'web2.lab']);
  t.is(inv.hosts.get('web2.lab')!.vars.first_web_ip, '198.18.0.10');
  t.is(inv.hosts.get('web2.lab')!.vars.listen, 'web2.lab:8080'); // ansible_host defaults to the inventory name
  t.is(web1.vars.omitted, undefined);
  t.is(connectionSpec(inv, 'web1.lab').port, 2202);
  t.is(web1.rawVars!.fqdn, '{{ inventory_hostname }}.{{ domain }}');
});

test('a cycle and an undefined variable are ValidationErrors naming the variable, host and file:line', (t) => {
  const root = writeTree(t, { 'inv.yaml': INV.replace(' | difference_is_not_a_filter', '') });
  const db1 = loadInventory(join(root, 'inv.yaml')).hosts.get('db1')!;
  const cycle = t.throws(() => db1.vars.a) as ValidationError;
  t.true(cycle instanceof ValidationError);
  t.regex(cycle.message, /variable a of host db1 refers to itself: a → b → c → a/);
  t.is(cycle.location.line, 20);
  const undef = t.throws(() => db1.vars.broken) as ValidationError;
  t.regex(undef.message, /variable broken of host db1: cannot render its template: undefined variable 'undefined_thing'/);
  t.like(undef.location, { line: 23, host: 'db1', field: 'broken' });
  t.true(undef.location.file!.endsWith('inv.yaml'));
});

test('an unknown filter in a variable a run reads is an exit-4 error at load (connection variables)', (t) => {
  const root = writeTree(t, { 'inv.yaml': 'all:\n  hosts:\n    h1:\n      ansible_user: "{{ \'x\' | no_such_filter }}"\n' });
  const err = t.throws(() => loadInventory(join(root, 'inv.yaml'))) as ValidationError;
  t.is(err.exitCode, 4);
  t.regex(err.message, /ansible_user of host h1: cannot render its template: unknown filter 'no_such_filter'/);
  t.is(err.location.line, 4);
});

test('magic variables: inventory_hostname_short, group_names (sorted, no all), playbook_dir when known', (t) => {
  const root = writeTree(t, {
    'inv.yaml': 'all:\n  vars:\n    s: "{{ inventory_hostname_short }}"\n    g: "{{ group_names }}"\n    p: "{{ playbook_dir | default(\'none\') }}"\n  children:\n    zz:\n      hosts:\n        a.b.c: {}\n    aa:\n      hosts:\n        a.b.c: {}\n',
  });
  const inv = loadInventory(join(root, 'inv.yaml'));
  const h = inv.hosts.get('a.b.c')!;
  t.is(h.vars.s, 'a');
  t.deepEqual(h.vars.g, ['aa', 'zz']);
  inv.playbookDir = '/srv/play';
  t.is(h.vars.p, '/srv/play');
});
