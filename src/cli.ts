/** lvsplay command line: option parsing, exit codes, and wiring of inventory → playbook → engine → output. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { EXIT, UsageError, ValidationError, ValidationErrors } from './errors.ts';
import { runCommand } from './commands/run.ts';

import { inventoryCommand } from './commands/inventory.ts';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

const HELP = `lvsplay ${VERSION} — build and test LVS/IPVS clusters over SSH

Usage:
  lvsplay run PLAYBOOK.ts -i INVENTORY [options]   converge hosts, then verify the cluster
  lvsplay facts -i INVENTORY [--limit P] [--json F] gather and print the facts of each host
  lvsplay inventory -i INVENTORY [--list|--graph]  resolved hosts, groups and merged variables
  lvsplay lab up|down|status|ssh|install ...       a local cluster of real hosts (see: lvsplay lab --help)
  lvsplay COMMAND --help                            help for one command

Exit codes: 0 ok, 2 a host failed (or verification failed), 3 a host was unreachable,
            4 invalid inventory/playbook (nothing touched), 5 bad options.`;

export const RUN_HELP = `Usage: lvsplay run PLAYBOOK.ts -i INVENTORY [options]

Options:
  -i, --inventory FILE     Ansible-format YAML inventory (required)
  -l, --limit PATTERN      only these hosts: names, groups, a:b (union), a:&b (and), a:!b (not), globs
  -C, --check              plan only: print the changes, touch nothing
  -D, --diff               show unified diffs of file contents
  -f, --forks N            hosts handled at once (default 50)
  -e, --extra-vars K=V     extra variables (K=V, JSON/YAML, or @file.yaml); repeatable; win over the inventory
  -t, --tags a,b           only steps with these tags (a role's name is a tag of its steps)
      --json FILE          write JSON Lines events, the recap last
      --accept-new-host-keys  trust unknown SSH host keys and record them (known_hosts)
      --no-verify          skip the end-of-run verification
  -v, --verbose            print ok steps, fact timings and change output
  -h, --help`;

/** Options shared by the commands that reach hosts. */
export const commonOptions = {
  inventory: { type: 'string', short: 'i' },
  limit: { type: 'string', short: 'l' },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  json: { type: 'string' },
  forks: { type: 'string', short: 'f' },
  'accept-new-host-keys': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, command: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message.replace(/\. To specify a positional argument.*$/, '')} (see: lvsplay ${command} --help)`);
  }
}

export function parseForks(v: string | undefined): number {
  if (v === undefined) return 50;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--forks must be a positive integer, got "${v}"`);
  return n;
}

export function requireInventory(v: string | undefined, command: string): string {
  if (!v) throw new UsageError(`${command}: -i INVENTORY is required (e.g. -i inventory/lab.yaml)`);
  return v;
}

/** Print an error the operator can act on and return its exit code. */
export function reportError(e: unknown, err: (s: string) => void): number {
  if (e instanceof ValidationErrors) {
    err(`ERROR: ${e.errors.length} problems found; nothing was changed on any host:\n${e.errors.map((x) => `  - ${x.toString().replace(/\n/g, '\n    ')}`).join('\n')}\n`);
    return EXIT.invalid;
  }
  if (e instanceof ValidationError) {
    err(`ERROR: ${e.toString()}\nNothing was changed on any host.\n`);
    return EXIT.invalid;
  }
  if (e instanceof UsageError) {
    err(`ERROR: ${e.message}\n`);
    return EXIT.usage;
  }
  err(`ERROR: ${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  const out = (s: string) => process.stdout.write(s);
  const err = (s: string) => process.stderr.write(s);
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        out(HELP + '\n');
        return cmd === undefined ? EXIT.usage : EXIT.ok;
      case '-V':
      case '--version':
      case 'version':
        out(`lvsplay ${VERSION}\n`);
        return EXIT.ok;
      case 'run':
        return await runCommand(rest, { out, err });
      case 'inventory':
        return await inventoryCommand(rest, { out, err });
      case 'lab': {
        const { labMain } = await import('./lab/cli.ts');
        return await labMain(rest);
      }
      default:
        throw new UsageError(`unknown command "${cmd}" (commands: run, facts, inventory, lab; see lvsplay --help)`);
    }
  } catch (e) {
    return reportError(e, err);
  }
}
