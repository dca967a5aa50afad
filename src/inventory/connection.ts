import { userInfo, homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ValidationError, type Location } from '../errors.ts';
import type { ConnectionSpec, JumpSpec } from '../transport/types.ts';
import { didYouMean, Problems } from './problems.ts';
import { splitShellWords } from './shell-words.ts';
import type { HostEntry, Inventory } from './types.ts';

/**
 * Connection variables, highest priority first: lvsplay_* wins over ansible_*, which wins over the older
 * ansible_ssh_* spellings Ansible still accepts.
 */
export const CONNECTION_VARS = {
  host: ['lvsplay_host', 'ansible_host', 'ansible_ssh_host'],
  port: ['lvsplay_port', 'ansible_port', 'ansible_ssh_port'],
  user: ['lvsplay_user', 'ansible_user', 'ansible_ssh_user'],
  privateKeyFile: ['lvsplay_private_key_file', 'ansible_ssh_private_key_file', 'ansible_private_key_file'],
  knownHostsFile: ['lvsplay_known_hosts'],
  become: ['lvsplay_become', 'ansible_become'],
  becomeUser: ['lvsplay_become_user', 'ansible_become_user'],
  timeout: ['lvsplay_timeout', 'ansible_timeout', 'ansible_ssh_timeout'],
  jump: ['lvsplay_jump'],
  sshArgs: ['ansible_ssh_common_args', 'ansible_ssh_extra_args'],
} as const;

export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

interface Found {
  field: string;
  value: unknown;
  location: Location;
}

/** The highest-priority variable of `names` that is set (null counts as unset). */
function pick(host: HostEntry, names: readonly string[]): Found | undefined {
  for (const field of names) {
    const value = host.vars[field];
    if (value !== undefined && value !== null) return { field, value, location: host.varSources?.[field] ?? host.source };
  }
  return undefined;
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : String(value);
}

const TRUE_WORDS = new Set(['yes', 'y', 'true', 't', 'on', '1']);
const FALSE_WORDS = new Set(['no', 'n', 'false', 'f', 'off', '0']);

/** Resolves one host's connection variables; wrong types are added to `problems` and yield undefined. */
export function resolveConnection(host: HostEntry, inventoryDir: string, problems: Problems): ConnectionSpec | undefined {
  const before = problems.list.length;
  const bad = (f: Found, message: string, hint?: string) => {
    problems.add(`${f.field} ${message}`, { ...f.location, host: host.name, field: f.field }, hint);
  };

  const asString = (f: Found | undefined): string | undefined => {
    if (!f) return undefined;
    if (typeof f.value === 'string' && f.value.trim() !== '') return f.value.trim();
    bad(f, `must be a non-empty string, not ${show(f.value)}`);
    return undefined;
  };
  const asPath = (f: Found | undefined): string | undefined => {
    const s = asString(f);
    if (s === undefined) return undefined;
    // relative paths are relative to the inventory file's directory, so an inventory works from any cwd
    const expanded = s === '~' ? homedir() : s.startsWith('~/') ? join(homedir(), s.slice(2)) : s;
    return isAbsolute(expanded) ? expanded : resolve(inventoryDir, expanded);
  };

  const hostField = pick(host, CONNECTION_VARS.host);
  const address = asString(hostField) ?? host.name;

  let port = 22;
  const portField = pick(host, CONNECTION_VARS.port);
  if (portField) {
    const p = parsePort(portField.value);
    if (p === undefined) bad(portField, `must be a port number 1-65535, not ${show(portField.value)}`, `${portField.field}: 22`);
    else port = p;
  }

  const user = asString(pick(host, CONNECTION_VARS.user)) ?? currentUser();
  const privateKeyFile = asPath(pick(host, CONNECTION_VARS.privateKeyFile));
  const knownHostsFile = asPath(pick(host, CONNECTION_VARS.knownHostsFile));

  let become = false;
  const becomeField = pick(host, CONNECTION_VARS.become);
  if (becomeField) {
    const b = parseBool(becomeField.value);
    if (b === undefined) bad(becomeField, `must be a boolean (true/false, yes/no), not ${show(becomeField.value)}`, `${becomeField.field}: true`);
    else become = b;
  }
  const becomeUser = asString(pick(host, CONNECTION_VARS.becomeUser));

  let connectTimeoutMs: number | undefined;
  const timeoutField = pick(host, CONNECTION_VARS.timeout);
  if (timeoutField) {
    const s = typeof timeoutField.value === 'number' ? timeoutField.value : typeof timeoutField.value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(timeoutField.value) ? Number(timeoutField.value) : NaN;
    if (!(s > 0) || !Number.isFinite(s)) bad(timeoutField, `must be a positive number of seconds, not ${show(timeoutField.value)}`, `${timeoutField.field}: 10`);
    else connectTimeoutMs = Math.round(s * 1000);
  }

  const jumps = resolveJumps(host, user, bad);

  if (problems.list.length > before) return undefined;
  const spec: ConnectionSpec = { name: host.name, host: address, port, user, jumps, become };
  if (privateKeyFile !== undefined) spec.privateKeyFile = privateKeyFile;
  if (knownHostsFile !== undefined) spec.knownHostsFile = knownHostsFile;
  if (becomeUser !== undefined) spec.becomeUser = becomeUser;
  if (connectTimeoutMs !== undefined) spec.connectTimeoutMs = connectTimeoutMs;
  return spec;
}

function parsePort(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
}

/** Ansible's boolean(): real booleans, 0/1, and the usual words (strings come from `-e key=value`). */
function parseBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === 'string') {
    const w = value.trim().toLowerCase();
    if (TRUE_WORDS.has(w)) return true;
    if (FALSE_WORDS.has(w)) return false;
  }
  return undefined;
}

function resolveJumps(host: HostEntry, user: string, bad: (f: Found, message: string, hint?: string) => void): JumpSpec[] {
  const hint = 'write [user@]host[:port], several hops comma-separated: bastion1,admin@bastion2:2222';
  const jumpField = pick(host, CONNECTION_VARS.jump);
  if (jumpField) {
    const v = jumpField.value;
    const parts = typeof v === 'string' ? [v] : Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
    if (!parts) {
      bad(jumpField, `must be a string or a list of strings, not ${show(v)}`, hint);
      return [];
    }
    try {
      return parts.flatMap((p) => parseJumpChain(p, user));
    } catch (err) {
      bad(jumpField, (err as Error).message, hint);
      return [];
    }
  }
  // ssh uses the first ProxyJump it sees; Ansible puts the common args before the extra args
  for (const name of CONNECTION_VARS.sshArgs) {
    const f = pick(host, [name]);
    if (!f) continue;
    if (typeof f.value !== 'string') {
      bad(f, `must be a string of ssh options, not ${show(f.value)}`, `${name}: "-o ProxyJump=bastion"`);
      return [];
    }
    try {
      const chain = proxyJumpFromSshArgs(f.value);
      if (chain !== undefined) return parseJumpChain(chain, user);
    } catch (err) {
      bad(f, (err as Error).message, hint);
      return [];
    }
  }
  return [];
}

/**
 * The ProxyJump value in an ssh argument string (`-o ProxyJump=x`, `-oProxyJump=x`, `-o "ProxyJump x"`,
 * `-J x`, `-Jx`), or undefined. Other ssh options are ignored (the SSH transport is not OpenSSH);
 * ProxyCommand is refused, since ignoring it would connect directly, bypassing the intended path.
 */
export function proxyJumpFromSshArgs(args: string): string | undefined {
  let words: string[];
  try {
    words = splitShellWords(args);
  } catch (err) {
    throw new Error(`cannot be split into words: ${(err as Error).message}`);
  }
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    let option: string | undefined;
    if (w === '-J' || w === '-o') {
      const next = words[++i];
      if (next === undefined) throw new Error(`has ${w} without a value`);
      if (w === '-J') return next;
      option = next;
    } else if (w.startsWith('-J')) return w.slice(2);
    else if (w.startsWith('-o')) option = w.slice(2);
    if (option === undefined) continue;
    const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(option);
    if (!m) continue;
    const keyword = m[1].toLowerCase();
    if (keyword === 'proxyjump') return m[2].trim();
    if (keyword === 'proxycommand') throw new Error('uses ProxyCommand, which lvsplay does not support');
  }
  return undefined;
}

/** `a,b` → hops [a, b] (outermost first); `none` → no jump. Throws Error naming the bad hop. */
export function parseJumpChain(chain: string, defaultUser: string): JumpSpec[] {
  const text = chain.trim();
  if (text === '' || text.toLowerCase() === 'none') return [];
  return text.split(',').map((hop) => parseJumpHop(hop.trim(), defaultUser));
}

/** `[ssh://][user@]host[:port]`, IPv6 in brackets (`[2001:db8::1]:2222`). A hop without a user gets `defaultUser`. */
export function parseJumpHop(hop: string, defaultUser: string): JumpSpec {
  let rest = hop.startsWith('ssh://') ? hop.slice(6) : hop;
  if (rest === '') throw new Error(`has an empty jump hop in ${JSON.stringify(hop)}`);
  let user = defaultUser;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (user === '') throw new Error(`jump hop ${JSON.stringify(hop)} has an empty user`);
  }
  let host = rest;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new Error(`jump hop ${JSON.stringify(hop)} has an unclosed [`);
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after.startsWith(':')) portText = after.slice(1);
    else if (after !== '') throw new Error(`jump hop ${JSON.stringify(hop)} has unexpected text after ]`);
  } else if (rest.indexOf(':') >= 0 && rest.indexOf(':') === rest.lastIndexOf(':')) {
    [host, portText] = rest.split(':');
  }
  if (host === '') throw new Error(`jump hop ${JSON.stringify(hop)} has no host`);
  let port = 22;
  if (portText !== undefined) {
    const p = parsePort(portText);
    if (p === undefined) throw new Error(`jump hop ${JSON.stringify(hop)} has a bad port ${JSON.stringify(portText)}`);
    port = p;
  }
  return { host, port, user };
}

/** How to reach `hostName`: its connection variables resolved (see CONNECTION_VARS for the names). */
export function connectionSpec(inv: Inventory, hostName: string): ConnectionSpec {
  const host = inv.hosts.get(hostName);
  if (!host) {
    throw new ValidationError(`host ${hostName} is not in the inventory${didYouMean(hostName, inv.hosts.keys())}`, { file: inv.file, host: hostName });
  }
  const problems = new Problems();
  const spec = resolveConnection(host, dirname(inv.file), problems);
  problems.throwIfAny();
  return spec!;
}

