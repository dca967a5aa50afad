import { userInfo, homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ansibleBoolean, type AnsibleCfg, type Setting } from '../config/ansible-cfg.ts';
import type { SshConfigReader, SshHostConfig } from '../config/ssh-config.ts';
import { ValidationError, type Location } from '../errors.ts';
import { JUMP_CHANNELS_MAX } from '../transport/jump-lines.ts';
import { Secret } from '../transport/secret.ts';
import type { BecomeMethod, ConnectionSpec, HostKeyPolicy, JumpSpec } from '../transport/types.ts';
import { didYouMean, Problems } from './problems.ts';
import { parseSshArgs, type SshOption } from './ssh-args.ts';
import type { HostEntry, Inventory } from './types.ts';

export { proxyJumpFromSshArgs } from './ssh-args.ts';

/**
 * Connection variables, highest priority first: lvsplay_* wins over ansible_*, which wins over the older
 * ansible_ssh_* spellings Ansible still accepts.
 */
export const CONNECTION_VARS = {
  connection: ['lvsplay_connection', 'ansible_connection'],
  host: ['lvsplay_host', 'ansible_host', 'ansible_ssh_host'],
  port: ['lvsplay_port', 'ansible_port', 'ansible_ssh_port'],
  user: ['lvsplay_user', 'ansible_user', 'ansible_ssh_user'],
  password: ['lvsplay_password', 'ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password'],
  privateKeyFile: ['lvsplay_private_key_file', 'ansible_ssh_private_key_file', 'ansible_private_key_file'],
  knownHostsFile: ['lvsplay_known_hosts'],
  sshConfig: ['lvsplay_ssh_config'],
  hostKeyChecking: ['lvsplay_host_key_checking', 'ansible_host_key_checking', 'ansible_ssh_host_key_checking'],
  become: ['lvsplay_become', 'ansible_become'],
  becomeUser: ['lvsplay_become_user', 'ansible_become_user'],
  becomeMethod: ['lvsplay_become_method', 'ansible_become_method'],
  becomePassword: ['lvsplay_become_password', 'ansible_become_password', 'ansible_become_pass'],
  timeout: ['lvsplay_timeout', 'ansible_timeout', 'ansible_ssh_timeout'],
  jump: ['lvsplay_jump'],
  jumpChannels: ['lvsplay_jump_channels'],
  sshArgs: ['ansible_ssh_args'],
  sshCommonArgs: ['ansible_ssh_common_args'],
  sshExtraArgs: ['ansible_ssh_extra_args'],
} as const;

/**
 * Variables whose values are secrets: never print them (the masking of output, --json and diffs keys on this).
 * The resolved ConnectionSpec holds them as Secret objects, which print as ********.
 */
export const SECRET_VARS: ReadonlySet<string> = new Set([...CONNECTION_VARS.password, ...CONNECTION_VARS.becomePassword]);

/** Every variable the connection resolution reads (the others named ansible_* are reported as not implemented). */
const IMPLEMENTED_VARS: ReadonlySet<string> = new Set(Object.values(CONNECTION_VARS).flat());

/** ansible_* variables that are not connection settings and that lvsplay reads elsewhere or has no use for. */
const NOT_CONNECTION_VARS: ReadonlySet<string> = new Set(['ansible_group_priority']);

/** Why a common unimplemented variable is ignored, for the warning. */
const IGNORED_WHY: Record<string, string> = {
  ansible_python_interpreter: 'lvsplay runs no Python on hosts',
  ansible_ssh_pipelining: 'lvsplay always sends scripts on stdin (one round trip)',
  ansible_pipelining: 'lvsplay always sends scripts on stdin (one round trip)',
  ansible_shell_type: 'lvsplay runs POSIX sh',
  ansible_shell_executable: 'lvsplay runs /bin/sh',
  ansible_ssh_executable: 'lvsplay does not run the ssh binary',
  ansible_become_flags: 'lvsplay builds its own sudo/su command line',
  ansible_become_exe: 'lvsplay runs sudo or su from PATH',
};

const ALLOWED_CONNECTIONS = 'ssh (also written paramiko or smart) and local';

export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/** What connections are resolved against besides the inventory: ansible.cfg and the OpenSSH client config. */
export interface ConnectionSettings {
  cfg?: AnsibleCfg;
  /** the OpenSSH client config reader; none: ssh_config is not read (unit tests, the lab) */
  sshConfig?: SshConfigReader;
  /** -F FILE on lvsplay's command line */
  sshConfigFile?: string;
  /** directory for relative paths in ssh arguments, as ssh resolves them (default: process.cwd()) */
  cwd?: string;
  /** collects the warnings about variables and options lvsplay does not implement */
  warnings?: ConnectionWarnings;
  /**
   * The host is about to be reached (connectionSpec): values lvsplay cannot honour (ansible_connection: winrm,
   * become_method: doas) are errors then. Loading an inventory checks only types, so that an inventory with a few
   * Windows hosts still loads and lists, as ansible-inventory does.
   */
  targeted?: boolean;
}

/** Warnings about what lvsplay ignores, one line per variable or option, naming the hosts it was set for. */
export class ConnectionWarnings {
  private byWhat = new Map<string, string[]>();
  add(what: string, host: string): void {
    const hosts = this.byWhat.get(what) ?? [];
    if (!hosts.includes(host)) hosts.push(host);
    this.byWhat.set(what, hosts);
  }
  lines(): string[] {
    return [...this.byWhat].map(([what, hosts]) => {
      const shown = hosts.slice(0, 5).join(', ') + (hosts.length > 5 ? ` and ${hosts.length - 5} more` : '');
      return `${what} (host${hosts.length > 1 ? 's' : ''} ${shown})`;
    });
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

function show(field: string, value: unknown): string {
  if (SECRET_VARS.has(field)) return typeof value === 'object' ? (Array.isArray(value) ? 'a list' : 'a mapping') : `a ${typeof value}`;
  return typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : String(value);
}

/** Ansible's boolean(): real booleans, 0/1, and the usual words (strings come from `-e key=value`). */
function parseBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  return typeof value === 'string' && value.trim() !== '' ? ansibleBoolean(value) : undefined;
}

/** A whole number from 1 to max (a string of digits from `-e key=value` too). */
export function parseCount(value: unknown, max: number): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= max ? n : undefined;
}

function parsePort(value: unknown): number | undefined {
  return parseCount(value, 65535);
}

function parseSeconds(value: unknown): number | undefined {
  const s = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  return s > 0 && Number.isFinite(s) ? s : undefined;
}

function expandHome(s: string): string {
  return s === '~' ? homedir() : s.startsWith('~/') ? join(homedir(), s.slice(2)) : s;
}

/** An ssh option with where it came from, in the order ssh would read them on Ansible's command line. */
interface SourcedOption extends SshOption {
  /** variable name or ansible.cfg origin, for messages */
  from: string;
  location: Location;
  /** relative paths resolve against this directory */
  base: string;
}

/**
 * Resolves one host's connection. Wrong types and unsupported values are added to `problems` (and yield undefined);
 * variables and options lvsplay ignores go to settings.warnings. Precedence, as Ansible builds ssh's command line
 * (ssh keeps the first value of each option): lvsplay_* variables; ansible.cfg ssh_args; host_key_checking;
 * the port, key file, user and timeout (inventory variable, else ansible.cfg); ansible_ssh_common_args;
 * ansible_ssh_extra_args; then the OpenSSH client config for the host; then the defaults.
 */
export function resolveConnection(host: HostEntry, inventoryDir: string, problems: Problems, settings: ConnectionSettings = {}): ConnectionSpec | undefined {
  const before = problems.list.length;
  const cfg = settings.cfg;
  const cwd = settings.cwd ?? process.cwd();
  const bad = (f: Found, message: string, hint?: string) => {
    problems.add(`${f.field} ${message}`, { ...f.location, host: host.name, field: f.field }, hint);
  };
  const cfgBad = (s: Setting<unknown>, message: string) => problems.add(`${s.origin}: ${message}`, { host: host.name });
  const asString = (f: Found | undefined): string | undefined => {
    if (!f) return undefined;
    if (typeof f.value === 'string' && f.value.trim() !== '') return f.value.trim();
    bad(f, `must be a non-empty string, not ${show(f.field, f.value)}`);
    return undefined;
  };
  /** relative paths in variables are relative to the inventory file's directory, so an inventory works from any cwd */
  const asPath = (f: Found | undefined): string | undefined => {
    const s = asString(f);
    if (s === undefined) return undefined;
    const expanded = expandHome(s);
    return isAbsolute(expanded) ? expanded : resolve(inventoryDir, expanded);
  };
  const asSecret = (f: Found | undefined): Secret | undefined => {
    if (!f) return undefined;
    // YAML reads `ansible_password: 1234` as a number; Ansible uses it as the string
    if (typeof f.value === 'string' || typeof f.value === 'number') return new Secret(String(f.value));
    bad(f, `must be a string, not ${show(f.field, f.value)}`);
    return undefined;
  };
  const asBool = (f: Found | undefined): boolean | undefined => {
    if (!f) return undefined;
    const b = parseBool(f.value);
    if (b === undefined) bad(f, `must be a boolean (true/false, yes/no), not ${show(f.field, f.value)}`, `${f.field}: true`);
    return b;
  };

  // --- which transport
  let connection: 'ssh' | 'local' = 'ssh';
  const connField = pick(host, CONNECTION_VARS.connection);
  const connName = asString(connField);
  if (connField && connName !== undefined) {
    const c = connName.toLowerCase();
    if (c === 'local') connection = 'local';
    else if (settings.targeted && !['ssh', 'paramiko', 'paramiko_ssh', 'smart', 'ansible.builtin.ssh', 'ansible.builtin.paramiko_ssh'].includes(c)) {
      bad(connField, `${JSON.stringify(connName)} is not supported by lvsplay: it connects with ${ALLOWED_CONNECTIONS}`, `${connField.field}: ssh`);
    }
  }

  // --- privilege escalation (both transports)
  const become = asBool(pick(host, CONNECTION_VARS.become)) ?? cfg?.become?.value ?? false;
  const becomeUser = asString(pick(host, CONNECTION_VARS.becomeUser)) ?? cfg?.becomeUser?.value;
  let becomeMethod: BecomeMethod | undefined;
  const methodField = pick(host, CONNECTION_VARS.becomeMethod);
  const methodName = asString(methodField) ?? cfg?.becomeMethod?.value;
  if (methodName !== undefined) {
    const m = methodName.toLowerCase().replace(/^ansible\.builtin\./, '');
    if (m === 'sudo' || m === 'su') becomeMethod = m;
    else if (!settings.targeted) becomeMethod = undefined;
    else if (methodField) bad(methodField, `${JSON.stringify(methodName)} is not supported by lvsplay: use sudo or su`, `${methodField.field}: sudo`);
    else cfgBad(cfg!.becomeMethod!, `become_method ${JSON.stringify(methodName)} is not supported by lvsplay: use sudo or su`);
  }
  const becomePassword = asSecret(pick(host, CONNECTION_VARS.becomePassword));

  let timeoutSeconds: number | undefined;
  const timeoutField = pick(host, CONNECTION_VARS.timeout);
  if (timeoutField) {
    timeoutSeconds = parseSeconds(timeoutField.value);
    if (timeoutSeconds === undefined) bad(timeoutField, `must be a positive number of seconds, not ${show(timeoutField.field, timeoutField.value)}`, `${timeoutField.field}: 10`);
  }

  reportIgnoredVars(host, settings.warnings);

  if (connection === 'local') {
    if (problems.list.length > before) return undefined;
    // the local transport runs as the current user: ansible_user and the SSH settings do not apply (as in Ansible)
    const spec: ConnectionSpec = { name: host.name, connection: 'local', host: 'localhost', port: 0, user: currentUser(), jumps: [], become };
    if (becomeUser !== undefined) spec.becomeUser = becomeUser;
    if (becomeMethod !== undefined) spec.becomeMethod = becomeMethod;
    if (becomePassword !== undefined) spec.becomePassword = becomePassword;
    return spec;
  }

  // --- ssh options, in the order of Ansible's ssh command line (first value of each keyword wins)
  const options: SourcedOption[] = [];
  const fromVar = (f: Found, keyword: string, value: string, base = inventoryDir) => ({ keyword, value, from: f.field, location: f.location, base });
  const fromCfg = (s: Setting<unknown>, keyword: string, value: string) => ({ keyword, value, from: s.origin, location: {}, base: cwd });
  const lvsplayFirst: SourcedOption[] = [];
  const addArgs = (text: unknown, f: Found | undefined, s: Setting<string> | undefined) => {
    const name = f?.field ?? s!.origin;
    if (typeof text !== 'string') {
      bad(f!, `must be a string of ssh options, not ${show(f!.field, text)}`, `${f!.field}: "-o ProxyJump=bastion"`);
      return;
    }
    try {
      const parsed = parseSshArgs(text);
      for (const o of parsed.options) options.push({ ...o, from: name, location: f?.location ?? {}, base: cwd });
      for (const i of parsed.ignored) settings.warnings?.add(`ssh option ${i} in ${f ? name : `ansible.cfg ssh args (${name})`} is not implemented by lvsplay (ignored)`, host.name);
    } catch (err) {
      if (f) bad(f, (err as Error).message, 'write [user@]host[:port], several hops comma-separated: -o ProxyJump=bastion1,admin@bastion2:2222');
      else cfgBad(s!, `ssh args ${(err as Error).message}`);
    }
  };
  const sshArgsVar = pick(host, CONNECTION_VARS.sshArgs);
  if (sshArgsVar) addArgs(sshArgsVar.value, sshArgsVar, undefined);
  else if (cfg?.sshArgs) addArgs(cfg.sshArgs.value, undefined, cfg.sshArgs);

  const hkcField = pick(host, CONNECTION_VARS.hostKeyChecking);
  const hkc = hkcField ? asBool(hkcField) : cfg?.hostKeyChecking?.value;
  if (hkc === false) {
    const o = hkcField ? fromVar(hkcField, 'stricthostkeychecking', 'no') : fromCfg(cfg!.hostKeyChecking!, 'stricthostkeychecking', 'no');
    (hkcField?.field.startsWith('lvsplay_') ? lvsplayFirst : options).push(o);
  }

  const portField = pick(host, CONNECTION_VARS.port);
  if (portField) {
    const p = parsePort(portField.value);
    if (p === undefined) bad(portField, `must be a port number 1-65535, not ${show(portField.field, portField.value)}`, `${portField.field}: 22`);
    else (portField.field.startsWith('lvsplay_') ? lvsplayFirst : options).push(fromVar(portField, 'port', String(p)));
  } else if (cfg?.remotePort) options.push(fromCfg(cfg.remotePort, 'port', String(cfg.remotePort.value)));

  const keyField = pick(host, CONNECTION_VARS.privateKeyFile);
  const keyPath = asPath(keyField);
  if (keyField && keyPath !== undefined) (keyField.field.startsWith('lvsplay_') ? lvsplayFirst : options).push(fromVar(keyField, 'identityfile', keyPath));
  else if (!keyField && cfg?.privateKeyFile) options.push(fromCfg(cfg.privateKeyFile, 'identityfile', cfg.privateKeyFile.value));

  const userField = pick(host, CONNECTION_VARS.user);
  const userName = asString(userField);
  if (userField && userName !== undefined) (userField.field.startsWith('lvsplay_') ? lvsplayFirst : options).push(fromVar(userField, 'user', userName));
  else if (!userField && cfg?.remoteUser) options.push(fromCfg(cfg.remoteUser, 'user', cfg.remoteUser.value));

  if (timeoutField && timeoutSeconds !== undefined) (timeoutField.field.startsWith('lvsplay_') ? lvsplayFirst : options).push(fromVar(timeoutField, 'connecttimeout', String(timeoutSeconds)));
  else if (!timeoutField && cfg?.timeout) options.push(fromCfg(cfg.timeout, 'connecttimeout', String(cfg.timeout.value)));

  const commonField = pick(host, CONNECTION_VARS.sshCommonArgs);
  if (commonField) addArgs(commonField.value, commonField, undefined);
  else if (cfg?.sshCommonArgs) addArgs(cfg.sshCommonArgs.value, undefined, cfg.sshCommonArgs);
  const extraField = pick(host, CONNECTION_VARS.sshExtraArgs);
  if (extraField) addArgs(extraField.value, extraField, undefined);
  else if (cfg?.sshExtraArgs) addArgs(cfg.sshExtraArgs.value, undefined, cfg.sshExtraArgs);

  const knownField = pick(host, CONNECTION_VARS.knownHostsFile);
  const knownPath = asPath(knownField);
  if (knownField && knownPath !== undefined) lvsplayFirst.push(fromVar(knownField, 'userknownhostsfile', knownPath));

  const ordered = [...lvsplayFirst, ...options];
  const first = (keyword: string) => ordered.find((o) => o.keyword === keyword);

  const hostField = pick(host, CONNECTION_VARS.host);
  let address = asString(hostField) ?? first('hostname')?.value ?? host.name;
  let user = first('user')?.value;
  let port: number | undefined;
  const portOpt = first('port');
  if (portOpt) {
    port = parsePort(portOpt.value);
    if (port === undefined) problems.add(`${portOpt.from}: Port must be 1-65535, not ${JSON.stringify(portOpt.value)}`, { ...portOpt.location, host: host.name, field: portOpt.from });
  }
  const identityFiles = ordered.filter((o) => o.keyword === 'identityfile').map((o) => resolve(o.base, expandHome(o.value)));
  let jumpText = first('proxyjump');
  let knownHostsFile = first('userknownhostsfile') && resolve(first('userknownhostsfile')!.base, expandHome(first('userknownhostsfile')!.value.split(/\s+/)[0]));
  let strict = first('stricthostkeychecking')?.value;
  let connectTimeout = first('connecttimeout') ? parseSeconds(first('connecttimeout')!.value) : undefined;

  // --- the OpenSSH client config fills what the command line left unset
  const lookupHop = settings.sshConfig ? sshConfigLookup(host, settings, first('configfile'), asPath) : undefined;
  if (lookupHop) {
    try {
      const sc = lookupHop(address, user);
      if (sc.proxyCommand !== undefined && !jumpText) {
        problems.add(`ssh config ${sc.files.join(', ')} sets ProxyCommand for ${address}, which lvsplay does not support`, { host: host.name }, 'use ProxyJump (or lvsplay_jump) instead');
      }
      if (sc.hostName !== undefined) address = sc.hostName;
      user ??= sc.user;
      port ??= sc.port;
      identityFiles.push(...sc.identityFiles.filter((f) => !identityFiles.includes(f)));
      if (!jumpText && sc.proxyJump !== undefined) jumpText = { keyword: 'proxyjump', value: sc.proxyJump, from: `ssh config ${sc.files[0]}`, location: { file: sc.files[0] }, base: cwd };
      knownHostsFile ??= sc.userKnownHostsFiles?.[0];
      strict ??= sc.strictHostKeyChecking;
      connectTimeout ??= sc.connectTimeout;
    } catch (err) {
      problems.absorb(err);
    }
  }

  let hostKeyPolicy: HostKeyPolicy | undefined;
  if (strict !== undefined) {
    const s = strict.toLowerCase();
    if (s === 'yes' || s === 'ask') hostKeyPolicy = 'strict';
    else if (s === 'accept-new') hostKeyPolicy = 'accept-new';
    else if (s === 'no' || s === 'off') hostKeyPolicy = 'off';
    else problems.add(`StrictHostKeyChecking ${JSON.stringify(strict)} is not one of yes, ask, accept-new, no, off`, { host: host.name });
  }

  const finalUser = user ?? currentUser();
  const jumps = resolveJumps(host, finalUser, jumpText, bad, lookupHop, problems);
  const password = asSecret(pick(host, CONNECTION_VARS.password));
  let jumpChannels: number | undefined;
  const channelsField = pick(host, CONNECTION_VARS.jumpChannels);
  if (channelsField) {
    jumpChannels = parseCount(channelsField.value, JUMP_CHANNELS_MAX);
    if (jumpChannels === undefined) {
      bad(channelsField, `must be a whole number of hosts per connection to a jump host, from 1 to ${JUMP_CHANNELS_MAX} (OpenSSH's limit of channels on one connection), not ${show(channelsField.field, channelsField.value)}`, `${channelsField.field}: 200`);
    }
  }

  if (problems.list.length > before) return undefined;
  const spec: ConnectionSpec = { name: host.name, host: address, port: port ?? 22, user: finalUser, jumps, become };
  if (identityFiles.length > 0) spec.privateKeyFile = identityFiles[0];
  if (identityFiles.length > 1) spec.moreIdentityFiles = identityFiles.slice(1);
  if (knownHostsFile !== undefined) spec.knownHostsFile = knownHostsFile;
  if (hostKeyPolicy !== undefined) spec.hostKeyPolicy = hostKeyPolicy;
  if (password !== undefined) spec.password = password;
  if (becomeUser !== undefined) spec.becomeUser = becomeUser;
  if (becomeMethod !== undefined) spec.becomeMethod = becomeMethod;
  if (becomePassword !== undefined) spec.becomePassword = becomePassword;
  if (connectTimeout !== undefined) spec.connectTimeoutMs = Math.round(connectTimeout * 1000);
  if (jumpChannels !== undefined) spec.jumpChannels = jumpChannels;
  return spec;
}

type HopLookup = (host: string, user: string | undefined) => SshHostConfig;

/** The ssh config lookup for this host: lvsplay_ssh_config, else -F in the ssh arguments, else lvsplay -F, else the default files. */
function sshConfigLookup(
  host: HostEntry,
  settings: ConnectionSettings,
  argsFile: SourcedOption | undefined,
  asPath: (f: Found | undefined) => string | undefined,
): HopLookup | undefined {
  const reader = settings.sshConfig!;
  const varField = pick(host, CONNECTION_VARS.sshConfig);
  const file = varField ? asPath(varField) : argsFile ? resolve(argsFile.base, expandHome(argsFile.value)) : settings.sshConfigFile;
  if (varField && file === undefined) return undefined;
  const src = reader.source(file, settings.cwd);
  if (file !== undefined && src.files[0] === '/dev/null') return undefined; // ssh -F /dev/null: no config at all
  return (h, u) => reader.lookup(src, h, u);
}

/** Warn about every ansible_* variable of the host that lvsplay does not implement. */
function reportIgnoredVars(host: HostEntry, warnings: ConnectionWarnings | undefined): void {
  if (!warnings) return;
  for (const name of Object.keys(host.vars)) {
    if (!name.startsWith('ansible_') || IMPLEMENTED_VARS.has(name) || NOT_CONNECTION_VARS.has(name)) continue;
    if (host.vars[name] === undefined || host.vars[name] === null) continue;
    const why = IGNORED_WHY[name];
    warnings.add(`${name} is not implemented by lvsplay (ignored${why ? `: ${why}` : ''})`, host.name);
  }
}

function resolveJumps(
  host: HostEntry,
  user: string,
  fromOptions: SourcedOption | undefined,
  bad: (f: Found, message: string, hint?: string) => void,
  lookup: HopLookup | undefined,
  problems: Problems,
): JumpSpec[] {
  const hint = 'write [user@]host[:port], several hops comma-separated: bastion1,admin@bastion2:2222';
  const jumpField = pick(host, CONNECTION_VARS.jump);
  let hops: PartialHop[] = [];
  if (jumpField) {
    const v = jumpField.value;
    const parts = typeof v === 'string' ? [v] : Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
    if (!parts) {
      bad(jumpField, `must be a string or a list of strings, not ${show(jumpField.field, v)}`, hint);
      return [];
    }
    try {
      hops = parts.flatMap((p) => parseJumpChainParts(p));
    } catch (err) {
      bad(jumpField, (err as Error).message, hint);
      return [];
    }
  } else if (fromOptions) {
    try {
      hops = parseJumpChainParts(fromOptions.value);
    } catch (err) {
      const f = pick(host, [fromOptions.from]);
      if (f) bad(f, (err as Error).message, hint);
      else problems.add(`${fromOptions.from}: ProxyJump ${(err as Error).message}`, { ...fromOptions.location, host: host.name }, hint);
      return [];
    }
  }
  // each hop gets its own HostName/User/Port from the ssh config when the jump spec leaves them out, as ssh -J does
  return hops.map((h) => {
    let cfgHop: ReturnType<HopLookup> | undefined;
    try {
      cfgHop = lookup?.(h.host, h.user);
    } catch (err) {
      problems.absorb(err);
    }
    return { host: cfgHop?.hostName ?? h.host, port: h.port ?? cfgHop?.port ?? 22, user: h.user ?? cfgHop?.user ?? user };
  });
}

interface PartialHop {
  host: string;
  port?: number;
  user?: string;
}

function parseJumpChainParts(chain: string): PartialHop[] {
  const text = chain.trim();
  if (text === '' || text.toLowerCase() === 'none') return [];
  return text.split(',').map((hop) => parseJumpHopParts(hop.trim()));
}

/** `a,b` → hops [a, b] (outermost first); `none` → no jump. Throws Error naming the bad hop. */
export function parseJumpChain(chain: string, defaultUser: string): JumpSpec[] {
  return parseJumpChainParts(chain).map((h) => ({ host: h.host, port: h.port ?? 22, user: h.user ?? defaultUser }));
}

/** `[ssh://][user@]host[:port]`, IPv6 in brackets (`[2001:db8::1]:2222`). A hop without a user gets `defaultUser`. */
export function parseJumpHop(hop: string, defaultUser: string): JumpSpec {
  const h = parseJumpHopParts(hop);
  return { host: h.host, port: h.port ?? 22, user: h.user ?? defaultUser };
}

function parseJumpHopParts(hop: string): PartialHop {
  let rest = hop.startsWith('ssh://') ? hop.slice(6) : hop;
  if (rest === '') throw new Error(`has an empty jump hop in ${JSON.stringify(hop)}`);
  let user: string | undefined;
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
  const out: PartialHop = { host };
  if (user !== undefined) out.user = user;
  if (portText !== undefined) {
    const p = parsePort(portText);
    if (p === undefined) throw new Error(`jump hop ${JSON.stringify(hop)} has a bad port ${JSON.stringify(portText)}`);
    out.port = p;
  }
  return out;
}

/** How to reach `hostName`: its connection variables resolved (see CONNECTION_VARS), with ansible.cfg and ssh_config when given. */
export function connectionSpec(inv: Inventory, hostName: string, settings: ConnectionSettings = {}): ConnectionSpec {
  const host = inv.hosts.get(hostName);
  if (!host) {
    throw new ValidationError(`host ${hostName} is not in the inventory${didYouMean(hostName, inv.hosts.keys())}`, { file: inv.file, host: hostName });
  }
  const problems = new Problems();
  const spec = resolveConnection(host, dirname(inv.file), problems, { ...settings, targeted: true });
  problems.throwIfAny();
  return spec!;
}
