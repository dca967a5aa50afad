/** What the commands share: option definitions and parsing, error reporting with exit codes. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT, UsageError, ValidationError, ValidationErrors } from '../errors.ts';
import { VAULT_HELP, vaultOptions } from './vault-options.ts';
import { loadInventory, parseExtraVars, type Inventory } from '../inventory/index.ts';
import type { CommandIO } from './io.ts';

export const RUN_HELP = `Usage: lvsplay run PLAYBOOK.ts -i INVENTORY [options]

Options:
  -i, --inventory PATH     Ansible inventory: YAML, INI or --list JSON file, or a directory of them;
                           repeatable, read in order (required)
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
${VAULT_HELP}
  -h, --help`;

/** Options shared by the commands that reach hosts. */
export const commonOptions = {
  inventory: { type: 'string', short: 'i', multiple: true },
  limit: { type: 'string', short: 'l' },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  json: { type: 'string' },
  forks: { type: 'string', short: 'f' },
  'accept-new-host-keys': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
  ...vaultOptions,
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

export function requireInventory(v: string[] | undefined, command: string): string[] {
  if (!v || v.length === 0) throw new UsageError(`${command}: -i INVENTORY is required (e.g. -i inventory/lab.yaml)`);
  return v;
}

/** The inventory of a command's -i options (several are read in order) with its -e variables; warnings to stderr. */
export function loadCommandInventory(o: { inventory?: string[]; 'extra-vars'?: string[] }, command: string, io: CommandIO): Inventory {
  const inv = loadInventory(requireInventory(o.inventory, command), { extraVars: parseExtraVars(o['extra-vars'] ?? [], process.cwd()) });
  for (const w of inv.warnings) io.err(`[WARNING] ${w.toString()}\n`);
  return inv;
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

