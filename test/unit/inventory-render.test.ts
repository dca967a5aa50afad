import test from 'ava';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../src/errors.ts';
import { inventoryGraph, inventoryList, loadInventory } from '../../src/inventory/index.ts';
import { writeTree } from '../fixtures/inventory/tmp-tree.ts';

const basic = () => loadInventory(fileURLToPath(new URL('../fixtures/inventory/basic/inventory.yaml', import.meta.url)));

test('--graph: as ansible-inventory --graph prints it (child groups, then hosts, in inventory order; ungrouped first)', (t) => {
  t.is(
    inventoryGraph(basic()),
    [
      '@all:',
      '  |--@ungrouped:',
      '  |  |--lonely',
      '  |--@lvs:',
      '  |  |--@directors:',
      '  |  |  |--lb1',
      '  |  |  |--lb2',
      '  |  |--@realservers:',
      '  |  |  |--web01',
      '  |  |  |--web02',
      '  |  |  |--web03',
      '  |--@clients:',
      '  |  |--client1',
      '  |  |--lb1',
    ].join('\n'),
  );
  t.is(inventoryGraph(basic(), 'lvs').split('\n')[0], '@lvs:');
  t.throws(() => inventoryGraph(basic(), 'nope'), { instanceOf: UsageError, message: /no group nope/ });
});

test('--list: as ansible-inventory --list prints it (sorted keys, lists in inventory order, empty groups left out, _meta.hostvars)', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
all:
  vars: {ntp: 192.0.2.1}
  children:
    web:
      hosts:
        w2: {weight: 2}
        w1:
    empty:
      hosts: {}
`,
  });
  const inv = loadInventory(join(root, 'inv.yaml'), { extraVars: { run: 'x' } });
  const text = inventoryList(inv);
  t.is(
    text,
    `{
    "_meta": {
        "hostvars": {
            "w1": {
                "ntp": "192.0.2.1",
                "run": "x"
            },
            "w2": {
                "ntp": "192.0.2.1",
                "run": "x",
                "weight": 2
            }
        }
    },
    "all": {
        "children": [
            "ungrouped",
            "web",
            "empty"
        ]
    },
    "web": {
        "hosts": [
            "w2",
            "w1"
        ]
    }
}`,
  );
});

test('--list of the basic fixture round-trips as JSON with every group and host', (t) => {
  const data = JSON.parse(inventoryList(basic()));
  t.deepEqual(data.all, { children: ['ungrouped', 'lvs', 'clients'] });
  t.deepEqual(data.lvs, { children: ['directors', 'realservers'] });
  t.deepEqual(data.ungrouped, { hosts: ['lonely'] });
  t.deepEqual(Object.keys(data._meta.hostvars).sort(), ['client1', 'lb1', 'lb2', 'lonely', 'web01', 'web02', 'web03']);
  t.deepEqual(data._meta.hostvars.lb1, { ansible_host: '10.0.0.11', ntp_server: '192.0.2.1', vrrp_priority: 150 });
});
