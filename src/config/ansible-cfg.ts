/**
 * ansible.cfg: found and read as ansible-core does (lib/ansible/config/manager.py), for the settings lvsplay
 * implements. The first readable file of ANSIBLE_CONFIG (a directory means DIR/ansible.cfg), ./ansible.cfg (skipped,
 * with a warning, when the current directory is world-writable), ~/.ansible.cfg, /etc/ansible/ansible.cfg is used;
 * files are not merged. An ANSIBLE_* environment variable wins over the file; when a setting has several ini
 * entries or environment variables, the last one set wins, as in Ansible.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ValidationError } from '../errors.ts';
import { IniError, iniValue, parseIni, type IniSections } from './ini-file.ts';

/** Where a setting came from: "ansible.cfg:12" style, or "ANSIBLE_FORKS". */
export interface Setting<T> {
  value: T;
  origin: string;
}

export interface AnsibleCfg {
  /** the file read, absolute; undefined when none was found */
  file?: string;
  inventory?: Setting<string[]>;
  remoteUser?: Setting<string>;
  remotePort?: Setting<number>;
  privateKeyFile?: Setting<string>;
  forks?: Setting<number>;
  hostKeyChecking?: Setting<boolean>;
  timeout?: Setting<number>;
  become?: Setting<boolean>;
  becomeMethod?: Setting<string>;
  becomeUser?: Setting<string>;
  sshArgs?: Setting<string>;
  sshCommonArgs?: Setting<string>;
  sshExtraArgs?: Setting<string>;
  /** e.g. the world-writable current directory whose ansible.cfg was skipped */
  warnings: string[];
}

type Kind = 'string' | 'integer' | 'boolean' | 'path' | 'pathlist';
type Key = Exclude<keyof AnsibleCfg, 'file' | 'warnings'>;

/** The settings lvsplay implements, with Ansible's ini entries and environment variables (base.yml, ssh.py). */
const SETTINGS: Record<Key, { kind: Kind; ini: Array<[string, string]>; env: string[] }> = {
  inventory: { kind: 'pathlist', ini: [['defaults', 'inventory']], env: ['ANSIBLE_INVENTORY'] },
  remoteUser: { kind: 'string', ini: [['defaults', 'remote_user']], env: ['ANSIBLE_REMOTE_USER'] },
  remotePort: { kind: 'integer', ini: [['defaults', 'remote_port']], env: ['ANSIBLE_REMOTE_PORT'] },
  privateKeyFile: { kind: 'path', ini: [['defaults', 'private_key_file']], env: ['ANSIBLE_PRIVATE_KEY_FILE'] },
  forks: { kind: 'integer', ini: [['defaults', 'forks']], env: ['ANSIBLE_FORKS'] },
  hostKeyChecking: {
    kind: 'boolean',
    ini: [
      ['defaults', 'host_key_checking'],
      ['ssh_connection', 'host_key_checking'],
    ],
    env: ['ANSIBLE_HOST_KEY_CHECKING', 'ANSIBLE_SSH_HOST_KEY_CHECKING'],
  },
  timeout: {
    kind: 'integer',
    ini: [
      ['defaults', 'timeout'],
      ['ssh_connection', 'timeout'],
    ],
    env: ['ANSIBLE_TIMEOUT', 'ANSIBLE_SSH_TIMEOUT'],
  },
  become: { kind: 'boolean', ini: [['privilege_escalation', 'become']], env: ['ANSIBLE_BECOME'] },
  becomeMethod: { kind: 'string', ini: [['privilege_escalation', 'become_method']], env: ['ANSIBLE_BECOME_METHOD'] },
  becomeUser: { kind: 'string', ini: [['privilege_escalation', 'become_user']], env: ['ANSIBLE_BECOME_USER'] },
  sshArgs: { kind: 'string', ini: [['ssh_connection', 'ssh_args']], env: ['ANSIBLE_SSH_ARGS'] },
  sshCommonArgs: { kind: 'string', ini: [['ssh_connection', 'ssh_common_args']], env: ['ANSIBLE_SSH_COMMON_ARGS'] },
  sshExtraArgs: { kind: 'string', ini: [['ssh_connection', 'ssh_extra_args']], env: ['ANSIBLE_SSH_EXTRA_ARGS'] },
};

/** The ansible.cfg Ansible would read, or undefined; `warnings` gets the world-writable-directory notice. */
export function findAnsibleCfg(env: NodeJS.ProcessEnv, cwd: string, warnings: string[]): string | undefined {
  const home = env.HOME || homedir();
  const candidates: string[] = [];
  let fromEnv: string | undefined;
  if (env.ANSIBLE_CONFIG !== undefined) {
    fromEnv = expandPath(env.ANSIBLE_CONFIG, cwd, home, env);
    if (isDir(fromEnv)) fromEnv = join(fromEnv, 'ansible.cfg');
    candidates.push(fromEnv);
  }
  const cwdCfg = join(cwd, 'ansible.cfg');
  let skippedCwd = false;
  try {
    if (statSync(cwd).mode & 0o002) skippedCwd = existsSync(cwdCfg);
    else candidates.push(cwdCfg);
  } catch {
    // an unreadable cwd is not a config source
  }
  candidates.push(join(home, '.ansible.cfg'), '/etc/ansible/ansible.cfg');
  const found = candidates.find(readable);
  if (skippedCwd && (fromEnv === undefined || found !== fromEnv)) {
    warnings.push(`${cwd} is world-writable: its ansible.cfg is ignored, as Ansible does (chmod o-w the directory, or set ANSIBLE_CONFIG)`);
  }
  return found;
}

/** Find and read ansible.cfg and the ANSIBLE_* variables. Bad values: ValidationError naming the file:line. */
export function loadAnsibleCfg(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): AnsibleCfg {
  const warnings: string[] = [];
  const file = findAnsibleCfg(env, cwd, warnings);
  let sections: IniSections = new Map();
  if (file) {
    try {
      sections = parseIni(readFileSync(file, 'utf8'));
    } catch (err) {
      if (err instanceof IniError) throw new ValidationError(`ansible.cfg: ${err.message}`, { file, line: err.line }, 'write key = value lines under [defaults], [privilege_escalation] or [ssh_connection]');
      throw new ValidationError(`cannot read ${file}: ${(err as Error).message}`, { file });
    }
  }
  const cfg: AnsibleCfg = { warnings };
  if (file) cfg.file = file;
  const home = env.HOME || homedir();
  for (const [key, def] of Object.entries(SETTINGS) as Array<[Key, (typeof SETTINGS)[Key]]>) {
    let raw: { text: string; origin: string; line?: number; base: string } | undefined;
    for (const [section, name] of def.ini) {
      const e = file ? iniValue(sections, section, name) : undefined;
      if (e) raw = { text: e.value, origin: `${file}:${e.line}`, line: e.line, base: dirname(file!) };
    }
    for (const name of def.env) {
      const v = env[name];
      if (v !== undefined) raw = { text: v, origin: name, base: cwd };
    }
    if (!raw) continue;
    const bad = (what: string, hint: string) =>
      new ValidationError(
        `${raw!.line ? iniName(def) : raw!.origin} must be ${what}, not ${JSON.stringify(raw!.text)}`,
        raw!.line ? { file, line: raw!.line } : { field: raw!.origin },
        hint,
      );
    const text = unquote(raw.text);
    let value: unknown;
    switch (def.kind) {
      case 'string':
        value = text;
        break;
      case 'integer':
        if (!/^\s*[+-]?\d+\s*$/.test(text)) throw bad('an integer', `${iniName(def)} = 10`);
        value = Number(text);
        break;
      case 'boolean': {
        const b = ansibleBoolean(text);
        if (b === undefined) throw bad('a boolean (true/false, yes/no)', `${iniName(def)} = False`);
        value = b;
        break;
      }
      case 'path':
        value = expandPath(text, raw.base, home, env);
        break;
      case 'pathlist':
        value = text
          .split(',')
          .map((p) => p.trim())
          .filter((p) => p !== '')
          .map((p) => expandPath(p, raw!.base, home, env));
        break;
    }
    (cfg as unknown as Record<string, Setting<unknown>>)[key] = { value, origin: raw.origin };
  }
  return cfg;
}

function iniName(def: { ini: Array<[string, string]> }): string {
  return def.ini[0][1];
}

/** Ansible's boolean(strict=False): the usual words; anything else is false there, an error here (a typo). */
export function ansibleBoolean(text: string): boolean | undefined {
  const w = text.trim().toLowerCase();
  if (['y', 'yes', 'on', '1', 'true', 't'].includes(w)) return true;
  if (['n', 'no', 'off', '0', 'false', 'f', ''].includes(w)) return false;
  return undefined;
}

/** Ansible's unquote(): one pair of matching surrounding quotes removed. */
function unquote(s: string): string {
  return s.length >= 2 && (s[0] === '"' || s[0] === "'") && s[s.length - 1] === s[0] ? s.slice(1, -1) : s;
}

/** Ansible's unfrackpath: ~ and $VAR expanded, relative to `base` (the config file's directory, or cwd). */
function expandPath(p: string, base: string, home: string, env: NodeJS.ProcessEnv): string {
  let s = p.replace(/\$(\w+)|\$\{(\w+)\}/g, (m, a: string | undefined, b: string | undefined) => env[a ?? b!] ?? m);
  if (s === '~') s = home;
  else if (s.startsWith('~/')) s = join(home, s.slice(2));
  return isAbsolute(s) ? resolve(s) : resolve(base, s);
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function readable(p: string): boolean {
  try {
    accessSync(p, constants.R_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
