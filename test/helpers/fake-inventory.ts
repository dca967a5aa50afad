/** A hand-built Inventory for engine tests that do not exercise the loader. */
import type { Inventory } from '../../src/inventory/types.ts';

export function fakeInventory(hosts: string[], vars: Record<string, Record<string, unknown>> = {}): Inventory {
  return {
    file: '/nonexistent/inventory.yaml',
    sources: ['/nonexistent/inventory.yaml'],
    warnings: [],
    extraVars: {},
    hosts: new Map(hosts.map((h) => [h, { name: h, groups: ['all'], vars: vars[h] ?? {}, source: {} }])),
    groups: new Map([['all', { name: 'all', hosts, children: [], vars: {}, source: {} }]]),
  };
}
