import type { Location, ValidationError } from '../errors.ts';

export type Vars = Record<string, unknown>;

export interface HostEntry {
  name: string;
  /** every group the host belongs to, directly or through children, including 'all' */
  groups: string[];
  /** merged variables, precedence applied (see docs/inventory.md, "Variable precedence"); rendered on read (host-vars-view.ts) */
  vars: Vars;
  /** the same variables as written: templates literal, vaulted values encrypted (inventory --list) */
  rawVars?: Vars;
  source: Location;
  /** where each of `vars` was set (file:line of the winning definition), for errors about a variable */
  varSources?: Record<string, Location>;
}

export interface GroupEntry {
  name: string;
  hosts: string[]; // direct members
  children: string[]; // direct child groups
  vars: Vars; // group's own vars (inventory file + group_vars/)
  source: Location;
  /** where each of `vars` was set */
  varSources?: Record<string, Location>;
}

export interface Inventory {
  file: string; // absolute path of the first source
  /** every inventory source given (-i), absolute, in order */
  sources: string[];
  hosts: Map<string, HostEntry>;
  groups: Map<string, GroupEntry>;
  extraVars: Vars;
  /** the playbook's directory, when a playbook is loaded (Jinja's playbook_dir) */
  playbookDir?: string;
  /** problems Ansible would let pass (group_vars/ for an unknown group...), for the command to print */
  warnings: ValidationError[];
}
