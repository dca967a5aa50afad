/**
 * The single place host variables are rendered: after loading, every host's `vars` is a lazy view over its raw
 * merged variables (kept as `rawVars`, which `inventory --list` prints, as ansible-inventory keeps templates
 * literal). Reading a variable through the view renders its Jinja templates (recursively: a variable may use
 * others, a cycle is an error) and decrypts its `!vault` values, once, on first read. So roles, steps and the
 * connection code see rendered values, and a vaulted value nobody reads needs no vault password.
 */
import { ValidationError, type Location } from '../errors.ts';
import { addSecretsOf } from '../secret-values.ts';
import { isMapping } from './jinja-filters.ts';
import { isTemplate, renderTemplate, TemplateRenderError, type TemplateScope } from './templating.ts';
import type { HostEntry, Inventory, Vars } from './types.ts';
import { VaultedValue } from './vault.ts';

/** Variables whose values are secrets wherever they are set (masked in all output). */
export const SECRET_VARS: readonly string[] = [
  'ansible_password',
  'ansible_ssh_pass',
  'ansible_ssh_password',
  'ansible_become_password',
  'ansible_become_pass',
  'ansible_ssh_private_key_passphrase',
  'lvsplay_password',
  'lvsplay_become_password',
];

/** Ansible's `omit`: a variable rendering to it is left unset. */
const OMIT = '__omit_place_holder__lvsplay';

/** Host/variable pairs being rendered, outermost first: a pair met again is a cycle. */
const rendering: string[] = [];

function hasVault(v: unknown, depth = 0): boolean {
  if (v instanceof VaultedValue) return true;
  if (depth > 50) return false;
  if (Array.isArray(v)) return v.some((x) => hasVault(x, depth + 1));
  if (isMapping(v)) return Object.values(v).some((x) => hasVault(x, depth + 1));
  return false;
}

function needsRendering(v: unknown, depth = 0): boolean {
  if (isTemplate(v) || v instanceof VaultedValue) return true;
  if (depth > 50) return false;
  if (Array.isArray(v)) return v.some((x) => needsRendering(x, depth + 1));
  if (isMapping(v)) return Object.values(v).some((x) => needsRendering(x, depth + 1));
  return false;
}

class HostVarsView {
  readonly cache = new Map<string, unknown>();
  readonly scope: TemplateScope;
  constructor(
    readonly host: HostEntry,
    readonly raw: Vars,
    readonly inv: Inventory,
    readonly views: Map<string, Vars>,
  ) {
    this.scope = { has: (n) => n in raw || this.magic(n) !== undefined, get: (n) => (n in raw ? this.get(n) : this.magic(n)) };
  }

  where(name: string): Location {
    return { ...(this.host.varSources?.[name] ?? this.host.source), host: this.host.name, field: name };
  }

  get(name: string): unknown {
    if (this.cache.has(name)) return this.cache.get(name);
    const raw = this.raw[name];
    if (!needsRendering(raw)) {
      this.cache.set(name, raw); // the check walks the value: once per variable, not per read
      return raw;
    }
    const key = `${this.host.name}\0${name}`;
    const at = rendering.indexOf(key);
    if (at >= 0) {
      const chain = [...rendering.slice(at), key].map((k) => k.split('\0')[1]).join(' → ');
      throw new ValidationError(`variable ${name} of host ${this.host.name} refers to itself: ${chain}`, this.where(name), 'break the cycle: one of these variables must be written without the others');
    }
    rendering.push(key);
    let value: unknown;
    try {
      value = this.render(raw, name, 0);
    } catch (e) {
      if (e instanceof TemplateRenderError)
        throw new ValidationError(`variable ${name} of host ${this.host.name}: cannot render its template: ${e.construct}`, this.where(name), 'fix the template, or define the variables it uses');
      throw e;
    } finally {
      rendering.pop();
    }
    if (hasVault(raw) || SECRET_VARS.includes(name)) addSecretsOf(value);
    const result = value === OMIT ? undefined : value;
    this.cache.set(name, result);
    return result;
  }

  private render(v: unknown, name: string, depth: number): unknown {
    if (v instanceof VaultedValue) return this.render(v.decrypt(`variable ${name} of host ${this.host.name}`, this.where(name)), name, depth);
    if (isTemplate(v)) return renderTemplate(v, this.scope);
    if (depth > 50) return v;
    if (Array.isArray(v)) return v.map((x) => this.render(x, name, depth + 1));
    if (isMapping(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.render(x, name, depth + 1)]));
    return v;
  }

  /** Ansible's magic variables (a host variable of the same name wins, except for the ones Ansible reserves). */
  magic(name: string): unknown {
    const h = this.host;
    switch (name) {
      case 'inventory_hostname':
        return h.name;
      case 'inventory_hostname_short':
        return h.name.split('.')[0];
      case 'group_names':
        return h.groups.filter((g) => g !== 'all').sort();
      case 'groups':
        return groupsOf(this.inv);
      case 'hostvars':
        return hostvarsOf(this.views);
      case 'ansible_host':
        return h.name;
      case 'omit':
        return OMIT;
      case 'playbook_dir':
        return this.inv.playbookDir;
      case 'inventory_file':
        return this.inv.file;
      case 'inventory_dir':
        return this.inv.file.replace(/\/[^/]*$/, '');
      default:
        return undefined;
    }
  }
}

const groupsCache = new WeakMap<Inventory, Record<string, string[]>>();

/** `groups`: every group with all its hosts (through children), in inventory order; a copy per read. */
function groupsOf(inv: Inventory): Record<string, string[]> {
  let all = groupsCache.get(inv);
  if (!all) {
    all = {};
    for (const g of inv.groups.keys()) all[g] = [];
    for (const h of inv.hosts.values()) for (const g of h.groups) (all[g] ??= []).push(h.name);
    groupsCache.set(inv, all);
  }
  return Object.fromEntries(Object.entries(all).map(([g, hs]) => [g, [...hs]]));
}

function hostvarsOf(views: Map<string, Vars>): Record<string, Vars> {
  return new Proxy({} as Record<string, Vars>, {
    get: (_, k) => (typeof k === 'string' ? views.get(k) : undefined),
    has: (_, k) => typeof k === 'string' && views.has(k),
    ownKeys: () => [...views.keys()],
    getOwnPropertyDescriptor: (_, k) => (typeof k === 'string' && views.has(k) ? { value: views.get(k), enumerable: true, configurable: true, writable: false } : undefined),
  });
}

function viewProxy(view: HostVarsView): Vars {
  const { raw } = view;
  return new Proxy({} as Vars, {
    // inherited members (constructor, hasOwnProperty) as on a plain object, so the view compares like one
    get: (target, k) => (typeof k === 'string' && Object.hasOwn(raw, k) ? view.get(k) : Reflect.get(target, k)),
    has: (_, k) => typeof k === 'string' && Object.hasOwn(raw, k),
    ownKeys: () => Object.keys(raw),
    getOwnPropertyDescriptor: (_, k) =>
      typeof k === 'string' && Object.hasOwn(raw, k) ? { value: view.get(k), enumerable: true, configurable: true, writable: true } : undefined,
    set: (_, k, v) => {
      if (typeof k !== 'string') return false;
      raw[k] = v;
      view.cache.delete(k);
      return true;
    },
    deleteProperty: (_, k) => {
      if (typeof k !== 'string') return false;
      delete raw[k];
      view.cache.delete(k);
      return true;
    },
  });
}

/**
 * Replace every host's `vars` with its rendering view (raw variables kept as `rawVars`). Plain-text values of the
 * password variables become secrets at once; rendered and decrypted ones when they are read.
 */
export function renderVarsOnRead(inv: Inventory): void {
  const views = new Map<string, Vars>();
  for (const host of inv.hosts.values()) {
    const raw = host.rawVars ?? host.vars;
    host.rawVars = raw;
    for (const name of SECRET_VARS) if (typeof raw[name] === 'string' && !isTemplate(raw[name])) addSecretsOf(raw[name]);
    views.set(host.name, viewProxy(new HostVarsView(host, raw, inv, views)));
  }
  for (const host of inv.hosts.values()) host.vars = views.get(host.name)!;
}

/** Every variable of a host, rendered (for `inventory --host NAME --render`). */
export function renderedVars(host: HostEntry): Vars {
  return Object.fromEntries(Object.keys(host.vars).map((k) => [k, host.vars[k]]).filter(([, v]) => v !== undefined));
}
