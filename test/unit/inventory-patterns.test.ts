import test from 'ava';

import { fileURLToPath } from 'node:url';
import { hostsOfGroup, loadInventory, selectHosts } from '../../src/inventory/index.ts';

const inv = loadInventory(fileURLToPath(new URL('../fixtures/inventory/basic/inventory.yaml', import.meta.url)));
const ALL = ['lonely', 'lb1', 'lb2', 'web01', 'web02', 'web03', 'client1'];
const sel = (p: string | string[]) => selectHosts(inv, p);

test('all and * select every host in inventory order', (t) => {
  t.deepEqual(sel('all'), { hosts: ALL, unmatched: [] });
  t.deepEqual(sel('*'), { hosts: ALL, unmatched: [] });
});

test('host and group names; a group includes its child groups', (t) => {
  t.deepEqual(sel('lb2').hosts, ['lb2']);
  t.deepEqual(sel('lvs').hosts, ['lb1', 'lb2', 'web01', 'web02', 'web03']);
  t.deepEqual(sel('ungrouped').hosts, ['lonely']);
  t.deepEqual(hostsOfGroup(inv, 'lvs'), ['lb1', 'lb2', 'web01', 'web02', 'web03']);
});

test('union with : and , — result in inventory order, not pattern order', (t) => {
  t.deepEqual(sel('clients:directors').hosts, ['lb1', 'lb2', 'client1']);
  t.deepEqual(sel('web02,lb2, lonely').hosts, ['lonely', 'lb2', 'web02']);
});

test('intersection and exclusion, applied after unions whatever their position', (t) => {
  t.deepEqual(sel('directors:&clients').hosts, ['lb1']);
  t.deepEqual(sel('lvs:!directors').hosts, ['web01', 'web02', 'web03']);
  t.deepEqual(sel('!directors:lvs').hosts, ['web01', 'web02', 'web03']);
  t.deepEqual(sel('lvs:clients:&directors:!lb2').hosts, ['lb1']);
});

test('only exclusions or intersections start from all hosts', (t) => {
  t.deepEqual(sel('!lvs').hosts, ['lonely', 'client1']);
  t.deepEqual(sel('&clients').hosts, ['lb1', 'client1']);
});

test('globs match host and group names', (t) => {
  t.deepEqual(sel('web*').hosts, ['web01', 'web02', 'web03']);
  t.deepEqual(sel('web0?:!web02').hosts, ['web01', 'web03']);
  t.deepEqual(sel('dir*').hosts, ['lb1', 'lb2']);
  t.deepEqual(sel('lb*:&client*').hosts, ['lb1']);
  t.deepEqual(sel('w.b*').hosts, []); // a dot is literal
});

test('terms that match nothing are returned as written', (t) => {
  t.deepEqual(sel('lvs:nope:!missing:&db*'), { hosts: [], unmatched: ['nope', '!missing', '&db*'] });
  t.deepEqual(sel('directors:!nothing'), { hosts: ['lb1', 'lb2'], unmatched: ['!nothing'] });
  t.deepEqual(sel('Lb1'), { hosts: [], unmatched: ['Lb1'] }); // names are case-sensitive
});

test('a list of patterns (a play hosts: list) is a union; empty pattern selects nothing', (t) => {
  t.deepEqual(sel(['client1', 'directors']).hosts, ['lb1', 'lb2', 'client1']);
  t.deepEqual(sel(''), { hosts: [], unmatched: [] });
});

test('selectHosts is pure: the inventory is not changed', (t) => {
  const before = JSON.stringify([...inv.groups.values()]);
  sel('lvs:!lb1:&web*');
  t.is(JSON.stringify([...inv.groups.values()]), before);
});
