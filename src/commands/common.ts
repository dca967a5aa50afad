/** What the commands share: option definitions and parsing, error reporting with exit codes. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.ts';
import { VAULT_HELP, vaultOptions } from './vault-options.ts';
import { loadInventory, parseCount, parseExtraVars, type Inventory } from '../inventory/index.ts';
import type { AnsibleCfg } from '../config/ansible-cfg.ts';
import { ansibleSettings, inventorySources } from './connections.ts';
import type { CommandIO } from './io.ts';
import type { SshPoolOptions } from '../transport/index.ts';
// from its own module, not the transport's index: every command imports this file, and the index loads ssh2 and zod
import { JUMP_CHANNELS_MAX } from '../transport/jump-lines.ts';

export const RUN_HELP = `Usage: lvsplay run PLAYBOOK.ts -i INVENTORY [options]

Options:
  -i, --inventory PATH     Ansible inventory: YAML, INI or --list JSON file, or a directory of them;
                           repeatable, read in order (default: ansible.cfg's [defaults] inventory)
  -F, --ssh-config FILE    OpenSSH client config instead of ~/.ssh/config and /etc/ssh/ssh_config
  -l, --limit PATTERN      only these hosts: names, groups, a:b (union), a:&b (and), a:!b (not), globs
  -C, --check              plan only: print the changes, touch nothing
  -D, --diff               show unified diffs of file contents
  -f, --forks N            hosts handled at once (default 50)
  -e, --extra-vars K=V     extra variables (K=V, JSON/YAML, or @file.yaml); repeatable; win over the inventory
  -t, --tags a,b           only steps with these tags (a role's name is a tag of its steps)
      --json FILE          write JSON Lines events, the recap last
      --report FILE.html   write an HTML report (recap, changes per host, verification charts)
      --accept-new-host-keys  trust unknown SSH host keys and record them (known_hosts)
      --keepalive S        a host whose SSH connection answers nothing for S seconds is unreachable (default 30)
      --jump-channels N    hosts per SSH connection to a jump host (default 200; lvsplay_jump_channels wins)
      --no-verify          skip the end-of-run verification
      --allow-partial-vrrp apply a VRRP instance change even when serial, --limit or an unreachable member
                           keep it from reaching every member (refused by default: exit 4, nothing touched)
      --allow-down H[,H]   verification: these real servers may be down (their services are DEGRADED, exit 0)
  -v, --verbose            print ok steps, fact timings and change output
${VAULT_HELP}
  -h, --help`;

/** Options shared by the commands that reach hosts. */
export const commonOptions = {
  inventory: { type: 'string', short: 'i', multiple: true },
  limit: { type: 'string', short: 'l' },
  // --- connection settings (issue 14): OpenSSH client config file
  'ssh-config': { type: 'string', short: 'F' },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  json: { type: 'string' },
  forks: { type: 'string', short: 'f' },
  'accept-new-host-keys': { type: 'boolean' },
  keepalive: { type: 'string' },
  'jump-channels': { type: 'string' },
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

/** `--allow-down HOST[,HOST]` (repeatable) → host names. */
export function parseAllowDown(v: string[] | undefined): string[] {
  return (v ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
}

/** --forks N; without it ansible.cfg's forks (ANSIBLE_FORKS), else 50. */
export function parseForks(v: string | undefined, cfgForks?: { value: number; origin: string }): number {
  if (v === undefined && cfgForks) {
    if (cfgForks.value < 1) throw new UsageError(`forks in ${cfgForks.origin} must be a positive integer, got ${cfgForks.value}`);
    return cfgForks.value;
  }
  if (v === undefined) return 50;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--forks must be a positive integer, got "${v}"`);
  return n;
}

/**
 * The inventory of a command's -i options (several are read in order), else ansible.cfg's `inventory`, with its -e
 * variables; warnings to stderr.
 */
export function loadCommandInventory(
  o: { inventory?: string[]; 'extra-vars'?: string[] },
  command: string,
  io: CommandIO,
  cfg: AnsibleCfg = ansibleSettings(),
): Inventory {
  const inv = loadInventory(inventorySources(o.inventory, cfg, command), { extraVars: parseExtraVars(o['extra-vars'] ?? [], process.cwd()) });
  for (const w of inv.warnings) io.err(`[WARNING] ${w.toString()}\n`);
  return inv;
}

/** The SSH pool's options from the shared command-line options. */
export function poolOptions(o: { 'accept-new-host-keys'?: boolean; keepalive?: string; 'jump-channels'?: string }): SshPoolOptions {
  const opts: SshPoolOptions = { acceptNewHostKeys: !!o['accept-new-host-keys'] };
  if (o.keepalive !== undefined) {
    const s = Number(o.keepalive);
    if (!Number.isFinite(s) || s < 1 || s > 3600) throw new UsageError(`--keepalive must be a number of seconds from 1 to 3600, got "${o.keepalive}"`);
    opts.keepaliveWindowMs = Math.round(s * 1000);
  }
  if (o['jump-channels'] !== undefined) {
    opts.jumpChannels = parseCount(o['jump-channels'], JUMP_CHANNELS_MAX);
    if (opts.jumpChannels === undefined) throw new UsageError(`--jump-channels must be a whole number of hosts per jump connection from 1 to ${JUMP_CHANNELS_MAX}, got "${o['jump-channels']}"`);
  }
  return opts;
}


