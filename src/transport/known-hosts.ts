/**
 * OpenSSH known_hosts: parsing and host key lookup. Pure functions, no I/O.
 *
 * Supported, as sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT" describes it:
 * - plain host patterns, comma lists, `*`/`?` wildcards, `!negation`;
 * - `[host]:port` for ports other than 22;
 * - hashed host names `|1|base64(salt)|base64(HMAC-SHA1(salt, host))`;
 * - `@revoked` (the key is refused for matching hosts); `@cert-authority` lines are skipped (no certificate support).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

export type HostPatterns =
  | { kind: 'hashed'; salt: Buffer; hash: Buffer }
  | { kind: 'patterns'; patterns: string[] };

export interface KnownHostEntry {
  /** 1-based line number in the file */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  hosts: HostPatterns;
  keyType: string;
  /** the decoded public key blob (the base64 field) */
  key: Buffer;
}

export interface InvalidLine {
  line: number;
  reason: string;
}

export interface ParsedKnownHosts {
  entries: KnownHostEntry[];
  /** lines that could not be parsed; OpenSSH ignores them, and so do we, but callers may warn */
  invalid: InvalidLine[];
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function parseKnownHosts(text: string): ParsedKnownHosts {
  const entries: KnownHostEntry[] = [];
  const invalid: InvalidLine[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const trimmed = lines[i].trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else {
        invalid.push({ line: lineNo, reason: `unknown marker ${m}` });
        continue;
      }
    }
    if (fields.length < 3) {
      invalid.push({ line: lineNo, reason: 'expected "hosts keytype base64-key"' });
      continue;
    }
    const [hostField, keyType, keyB64] = fields;
    if (!BASE64.test(keyB64)) {
      invalid.push({ line: lineNo, reason: 'key is not base64' });
      continue;
    }
    const key = Buffer.from(keyB64, 'base64');
    const blobType = keyTypeOfBlob(key);
    if (blobType === undefined || blobType !== keyType) {
      invalid.push({ line: lineNo, reason: `key blob does not hold a ${keyType} key` });
      continue;
    }
    const hosts = parseHostField(hostField);
    if (typeof hosts === 'string') {
      invalid.push({ line: lineNo, reason: hosts });
      continue;
    }
    entries.push({ line: lineNo, marker, hosts, keyType, key });
  }
  return { entries, invalid };
}

function parseHostField(field: string): HostPatterns | string {
  if (field.startsWith('|')) {
    const m = /^\|1\|([A-Za-z0-9+/=]+)\|([A-Za-z0-9+/=]+)$/.exec(field);
    if (!m) return 'malformed hashed host name (expected |1|salt|hash)';
    const salt = Buffer.from(m[1], 'base64');
    const hash = Buffer.from(m[2], 'base64');
    if (salt.length !== 20 || hash.length !== 20) return 'malformed hashed host name (salt and hash must be 20 bytes)';
    return { kind: 'hashed', salt, hash };
  }
  const patterns = field.split(',').filter((p) => p !== '');
  if (patterns.length === 0) return 'empty host list';
  return { kind: 'patterns', patterns };
}

/** The name under which OpenSSH files a host: `host` for port 22, `[host]:port` otherwise. */
export function hostForm(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

const globs = new Map<string, RegExp | string>();

/** `*` and `?` glob, case-insensitive, over the whole string (as OpenSSH's match_pattern). Compiled once per pattern. */
function globMatch(pattern: string, text: string): boolean {
  let g = globs.get(pattern);
  if (g === undefined) {
    const p = pattern.toLowerCase();
    // a plain name (the usual known_hosts line) is compared as a string
    g = /[*?]/.test(p) ? new RegExp('^' + p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$') : p;
    globs.set(pattern, g);
  }
  const t = text.toLowerCase();
  return typeof g === 'string' ? g === t : g.test(t);
}

export function hostsMatch(hosts: HostPatterns, form: string): boolean {
  if (hosts.kind === 'hashed') {
    const h = createHmac('sha1', hosts.salt).update(form).digest();
    return h.equals(hosts.hash);
  }
  // A matching negated pattern vetoes the line, whatever else matches.
  let positive = false;
  for (const p of hosts.patterns) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), form)) return false;
    } else if (globMatch(p, form)) positive = true;
  }
  return positive;
}

/** The key type named at the start of an SSH public key blob (string length + name), or undefined. */
export function keyTypeOfBlob(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  const name = blob.subarray(4, 4 + len).toString('latin1');
  return /^[a-z0-9@.-]+$/i.test(name) ? name : undefined;
}

/** OpenSSH-style fingerprint: `SHA256:` + unpadded base64 of the blob's SHA-256. */
export function fingerprintSha256(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

export type HostKeyStatus =
  /** a line for this host holds exactly this key */
  | { status: 'known'; line: number }
  /** the key is listed under @revoked for this host */
  | { status: 'revoked'; line: number }
  /** the host is known with a different key of the same type: possible man-in-the-middle */
  | { status: 'changed'; line: number; keyType: string }
  /** no line for this host holds a key of this type; otherTypes lists the types that are known for it */
  | { status: 'unknown'; otherTypes: string[] };

export function checkHostKey(entries: KnownHostEntry[], form: string, key: Buffer): HostKeyStatus {
  const keyType = keyTypeOfBlob(key) ?? '';
  let known: number | undefined;
  let changed: number | undefined;
  const otherTypes = new Set<string>();
  for (const e of entries) {
    if (e.marker === 'cert-authority' || !hostsMatch(e.hosts, form)) continue;
    if (e.marker === 'revoked') {
      // Revocation wins over any other line, wherever it sits in the file.
      if (e.key.equals(key)) return { status: 'revoked', line: e.line };
      continue;
    }
    if (e.key.equals(key)) known ??= e.line;
    else if (e.keyType === keyType) changed ??= e.line;
    else otherTypes.add(e.keyType);
  }
  // OpenSSH accepts the key if any line matches it, even when another line for the host holds an older key.
  if (known !== undefined) return { status: 'known', line: known };
  if (changed !== undefined) return { status: 'changed', line: changed, keyType };
  return { status: 'unknown', otherTypes: [...otherTypes] };
}

/** Key types known for this host (non-revoked lines), in file order: used to prefer those host key algorithms. */
export function knownKeyTypes(entries: KnownHostEntry[], form: string): string[] {
  const types: string[] = [];
  for (const e of entries) {
    if (e.marker === undefined && hostsMatch(e.hosts, form) && !types.includes(e.keyType)) types.push(e.keyType);
  }
  return types;
}

/** Hash a host form as OpenSSH's HashKnownHosts does: `|1|salt|hash`. */
export function hashHostName(form: string, salt: Buffer = randomBytes(20)): string {
  const hash = createHmac('sha1', salt).update(form).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

/** One known_hosts line (without newline) for this host form and key blob. */
export function formatKnownHostsLine(form: string, key: Buffer, opts: { hash?: boolean } = {}): string {
  const type = keyTypeOfBlob(key);
  if (type === undefined) throw new Error('not an SSH public key blob');
  return `${opts.hash ? hashHostName(form) : form} ${type} ${key.toString('base64')}`;
}
