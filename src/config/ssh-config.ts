/**
 * The OpenSSH client configuration (ssh_config(5)) for one host, parsed and matched by the `ssh-config` package:
 * Host and Match (host, originalhost, user, localuser, all) sections, first obtained value wins, IdentityFile
 * accumulates. The keywords lvsplay's transport implements are returned typed, with `~` and the %-tokens OpenSSH
 * expands (%h %p %r %u %d %n %%) expanded; `Match exec` is never run (it would run a shell command per host).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type SSHConfig from 'ssh-config';
import { UsageError, ValidationError } from '../errors.ts';

export interface SshHostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: string;
  userKnownHostsFiles?: string[];
  strictHostKeyChecking?: string;
  connectTimeout?: number;
  /** set when a ProxyCommand applies: lvsplay cannot honour it */
  proxyCommand?: string;
  /** the file that gave the values, for messages */
  files: string[];
}

interface ParsedFile {
  file: string;
  config: SSHConfig;
  /** Include lines, which the parser does not follow */
  includes: boolean;
}

export interface SshConfigSource {
  /** files in OpenSSH's order: -F FILE alone, or ~/.ssh/config then /etc/ssh/ssh_config */
  files: string[];
  /** missing files are errors (an explicit -F / lvsplay_ssh_config) rather than skipped */
  explicit: boolean;
}

// The ssh-config package is loaded when a file is first parsed (commands that read no ssh config, such as
// `inventory`, do not pay for it at start-up); its CommonJS build, so that the synchronous lookup can load it.
let sshConfigClass: typeof SSHConfig | undefined;
function sshConfigLibrary(): typeof SSHConfig {
  sshConfigClass ??= (createRequire(import.meta.url)('ssh-config') as { default: typeof SSHConfig }).default;
  return sshConfigClass;
}

/** Parses each file once; looks hosts up. */
export class SshConfigReader {
  private cache = new Map<string, ParsedFile | undefined>();
  readonly warnings = new Set<string>();

  constructor(private readonly home: string = process.env.HOME || homedir()) {}

  /** Default sources: ~/.ssh/config and /etc/ssh/ssh_config (missing ones skipped), or the explicit file. */
  source(explicitFile: string | undefined, cwd: string = process.cwd()): SshConfigSource {
    if (explicitFile !== undefined) return { files: [this.expand(explicitFile, cwd)], explicit: true };
    return { files: [join(this.home, '.ssh', 'config'), '/etc/ssh/ssh_config'], explicit: false };
  }

  private parse(file: string, explicit: boolean): ParsedFile | undefined {
    if (this.cache.has(file)) return this.cache.get(file);
    let parsed: ParsedFile | undefined;
    try {
      const text = readFileSync(file, 'utf8');
      const config = sshConfigLibrary().parse(text);
      const included = includedFiles(text, file === '/etc/ssh/ssh_config' ? '/etc/ssh' : join(this.home, '.ssh'));
      parsed = { file, config, includes: included.length > 0 };
      if (parsed.includes) this.warnings.add(`${file}: Include is not followed by lvsplay; the settings in ${included.join(', ')} are not used`);
      if (/^\s*match\s.*\bexec\b/im.test(text)) this.warnings.add(`${file}: Match exec is never run by lvsplay (the block does not apply)`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !explicit) parsed = undefined;
      else if (code === 'ENOENT') throw new UsageError(`ssh config file not found: ${file}`);
      else throw new ValidationError(`cannot read ssh config ${file}: ${(err as Error).message}`, { file });
    }
    this.cache.set(file, parsed);
    return parsed;
  }

  /**
   * The configuration for `host` (the address given to ssh: ansible_host or the inventory name), with the user
   * already chosen on the "command line" (ansible_user / remote_user), which wins and which Match user tests.
   */
  lookup(src: SshConfigSource, host: string, user: string | undefined): SshHostConfig {
    const merged: Record<string, string | string[]> = {};
    const files: string[] = [];
    for (const f of src.files) {
      const parsed = this.parse(f, src.explicit);
      if (!parsed) continue;
      const firstUser = (merged.user as string | undefined) ?? user;
      const got = parsed.config.compute(firstUser === undefined ? { Host: host } : { Host: host, User: firstUser }, { ignoreCase: true, matchExec: false });
      let used = false;
      for (const [k, v] of Object.entries(got)) {
        if (k === 'host' || k === 'match') continue;
        if (k === 'identityfile') {
          merged[k] = [...((merged[k] as string[] | undefined) ?? []), ...([] as string[]).concat(v)];
          used = true;
        } else if (merged[k] === undefined && !(k === 'user' && user !== undefined && v === user)) {
          merged[k] = v;
          used = true;
        }
      }
      if (used) files.push(f);
    }
    const one = (k: string): string | undefined => {
      const v = merged[k];
      return v === undefined ? undefined : Array.isArray(v) ? v.join(' ') : v;
    };
    const out: SshHostConfig = { identityFiles: [], files };
    const hostName = one('hostname');
    const finalHost = hostName !== undefined ? hostName.replace(/%h/g, host).replace(/%%/g, '%') : host;
    if (hostName !== undefined) out.hostName = finalHost;
    const cfgUser = one('user');
    if (cfgUser !== undefined && user === undefined) out.user = cfgUser;
    const portText = one('port');
    if (portText !== undefined) {
      const p = Number(portText);
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw new ValidationError(`ssh config Port for ${host} must be 1-65535, not ${JSON.stringify(portText)}`, { file: files[0] });
      out.port = p;
    }
    const tokens = { h: finalHost, n: host, p: String(out.port ?? 22), r: user ?? out.user ?? localUser(), u: localUser(), d: this.home };
    const idf = merged.identityfile as string[] | undefined;
    if (idf) out.identityFiles = idf.filter((f) => f.toLowerCase() !== 'none').map((f) => this.expand(expandTokens(f, tokens)));
    const jump = one('proxyjump');
    if (jump !== undefined) out.proxyJump = jump;
    const kh = merged.userknownhostsfile;
    if (kh !== undefined) out.userKnownHostsFiles = ([] as string[]).concat(kh).map((f) => this.expand(expandTokens(f, tokens)));
    const strict = one('stricthostkeychecking');
    if (strict !== undefined) out.strictHostKeyChecking = strict.toLowerCase();
    const ct = one('connecttimeout');
    if (ct !== undefined && /^\d+$/.test(ct) && Number(ct) > 0) out.connectTimeout = Number(ct);
    const pc = one('proxycommand');
    if (pc !== undefined && pc.toLowerCase() !== 'none') out.proxyCommand = pc;
    return out;
  }

  /** `~/x` → home/x; relative → cwd (as ssh does). */
  expand(p: string, cwd: string = process.cwd()): string {
    const s = p === '~' ? this.home : p.startsWith('~/') ? join(this.home, p.slice(2)) : p;
    return isAbsolute(s) ? s : resolve(cwd, s);
  }
}

/** The existing files an Include line names (`*` and `?` globs in the last path part; relative to `base`). */
function includedFiles(text: string, base: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*include\s+(.+)$/gim)) {
    for (const pattern of m[1].trim().split(/\s+/)) {
      const p = pattern.startsWith('~/') ? join(homedir(), pattern.slice(2)) : isAbsolute(pattern) ? pattern : join(base, pattern);
      const dir = dirname(p);
      const re = new RegExp(`^${basename(p).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
      try {
        for (const f of readdirSync(dir)) if (re.test(f)) out.push(join(dir, f));
      } catch {
        // a missing directory includes nothing
      }
    }
  }
  return out;
}

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/** OpenSSH's percent tokens; an unknown token is left as written. */
export function expandTokens(s: string, t: Record<string, string>): string {
  return s.replace(/%(.)/g, (m, c: string) => (c === '%' ? '%' : (t[c] ?? m)));
}
