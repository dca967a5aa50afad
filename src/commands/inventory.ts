/** `lvsplay inventory -i INV [--list|--graph] [--host NAME]`. */
import { parse, loadCommandInventory } from './common.ts';
import { EXIT, UsageError } from '../errors.ts';
import { inventoryGraph, inventoryList } from '../inventory/index.ts';
import type { CommandIO } from './io.ts';

const HELP = `Usage: lvsplay inventory -i INVENTORY [-i INVENTORY ...] [--list | --graph | --host NAME] [-e K=V]

  -i PATH       a YAML, INI or --list JSON inventory file, or a directory of them; repeatable, read in order

  --list        all groups and hosts with merged variables (JSON, like ansible-inventory --list)
  --graph       the group tree (like ansible-inventory --graph)
  --host NAME   the merged variables of one host (JSON)`;

export async function inventoryCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values: o } = parse(
    argv,
    {
      inventory: { type: 'string', short: 'i', multiple: true },
      list: { type: 'boolean' },
      graph: { type: 'boolean' },
      host: { type: 'string' },
      'extra-vars': { type: 'string', short: 'e', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    'inventory',
  );
  if (o.help) {
    io.out(HELP + '\n');
    return EXIT.ok;
  }
  const inv = loadCommandInventory(o, 'inventory', io);
  if ([o.list, o.graph, o.host !== undefined].filter(Boolean).length > 1) throw new UsageError('inventory: use one of --list, --graph, --host');
  if (o.host !== undefined) {
    const h = inv.hosts.get(o.host);
    if (!h) throw new UsageError(`inventory: no host "${o.host}" in ${inv.file}`);
    io.out(JSON.stringify(h.vars, null, 2) + '\n');
  } else if (o.graph) {
    io.out(inventoryGraph(inv) + '\n');
  } else {
    io.out(inventoryList(inv) + '\n');
  }
  return EXIT.ok;
}
