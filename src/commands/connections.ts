/**
 * What the commands that read an inventory or reach hosts share beyond their options: ansible.cfg (the inventory
 * when -i is not given, forks, connection defaults), the OpenSSH client config (-F / lvsplay_ssh_config /
 * ~/.ssh/config), and the connection specs with their warnings, printed once per run.
 */
import { loadAnsibleCfg, type AnsibleCfg } from '../config/ansible-cfg.ts';
import { SshConfigReader } from '../config/ssh-config.ts';
import { UsageError } from '../errors.ts';
import { connectionSpec, ConnectionWarnings, type Inventory } from '../inventory/index.ts';
import type { ConnectionSpec } from '../transport/index.ts';

/** ansible.cfg as Ansible finds it, with the ANSIBLE_* environment variables. */
export function ansibleSettings(): AnsibleCfg {
  return loadAnsibleCfg(process.env, process.cwd());
}

/** The inventory sources: the -i options, else ansible.cfg's `inventory` (ANSIBLE_INVENTORY). */
export function inventorySources(given: string | string[] | undefined, cfg: AnsibleCfg, command: string): string[] {
  const list = given === undefined ? [] : ([] as string[]).concat(given);
  if (list.length > 0) return list;
  if (cfg.inventory && cfg.inventory.value.length > 0) return cfg.inventory.value;
  throw new UsageError(`${command}: -i INVENTORY is required (e.g. -i inventory/lab.yaml), or an ansible.cfg with [defaults] inventory = PATH`);
}

/** Resolves connection specs against ansible.cfg and the ssh client config; collects what lvsplay ignores. */
export class HostAccess {
  private readonly warnings = new ConnectionWarnings();
  private readonly sshConfig = new SshConfigReader();
  private readonly specs = new Map<string, ConnectionSpec>();
  private readonly printed = new Set<string>();

  constructor(
    private readonly inv: Inventory,
    private readonly cfg: AnsibleCfg,
    private readonly sshConfigFile: string | undefined,
  ) {}

  /** The host's connection (memoised); a ValidationError (exit 4) for bad values. */
  spec(host: string): ConnectionSpec {
    let s = this.specs.get(host);
    if (!s) {
      s = connectionSpec(this.inv, host, { cfg: this.cfg, sshConfig: this.sshConfig, sshConfigFile: this.sshConfigFile, warnings: this.warnings });
      this.specs.set(host, s);
    }
    return s;
  }

  /** Print the warnings not printed yet ("[WARNING]: ..." on stderr, as Ansible does). */
  flushWarnings(err: (s: string) => void): void {
    for (const l of [...this.cfg.warnings, ...this.sshConfig.warnings, ...this.warnings.lines()]) {
      if (this.printed.has(l)) continue;
      this.printed.add(l);
      err(`[WARNING]: ${l}\n`);
    }
  }
}
