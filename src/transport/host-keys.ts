/**
 * Host key checking against a known_hosts file, with trust-on-first-use when asked.
 * The file is looked at on every check (another connection may just have appended to it), but parsed again only
 * when its size or mtime changed: with 200 hosts, parsing the 200-line file twice per host was 40,000 lines.
 */
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  checkHostKey,
  fingerprintSha256,
  formatKnownHostsLine,
  hostForm,
  keyTypeOfBlob,
  knownKeyTypes,
  parseKnownHosts,
  type ParsedKnownHosts,
} from './known-hosts.ts';

export interface HostKeyCheck {
  file: string;
  host: string;
  port: number;
  /** how to name the host in messages (inventory name, or user@host:port for a jump) */
  label: string;
  key: Buffer;
  acceptNew: boolean;
}

export type HostKeyDecision = { ok: true; added: boolean } | { ok: false; reason: string; kind: 'revoked' | 'changed' | 'unknown' };

/** Host key algorithms to offer for each key type found in known_hosts. */
const ALGORITHMS_FOR_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
/** ssh2's default offer, in its order. */
const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

const parsedFiles = new Map<string, { mtimeMs: number; size: number; parsed: Promise<ParsedKnownHosts> }>();

async function readKnownHosts(file: string): Promise<ParsedKnownHosts> {
  try {
    const { mtimeMs, size } = await stat(file);
    const cached = parsedFiles.get(file);
    if (cached && cached.mtimeMs === mtimeMs && cached.size === size) return await cached.parsed;
    const parsed = readFile(file, 'utf8').then(parseKnownHosts);
    parsedFiles.set(file, { mtimeMs, size, parsed });
    parsed.catch(() => parsedFiles.delete(file));
    return await parsed;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], invalid: [] };
    throw new Error(`cannot read known_hosts file ${file}: ${(err as Error).message}`);
  }
}

export class KnownHostsStore {
  /** serialises appends per file, so that parallel first connections do not interleave or duplicate lines */
  private locks = new Map<string, Promise<unknown>>();

  /**
   * Host key algorithms in the order to offer them: the types already known for this host first, as OpenSSH
   * does, so that a server with several host keys presents the one we can check. Undefined: ssh2's default.
   */
  async preferredAlgorithms(file: string, host: string, port: number): Promise<string[] | undefined> {
    const { entries } = await readKnownHosts(file);
    const first = knownKeyTypes(entries, hostForm(host, port)).flatMap((t) => ALGORITHMS_FOR_TYPE[t] ?? []);
    if (first.length === 0) return undefined;
    return [...first, ...DEFAULT_HOST_KEY_ALGORITHMS.filter((a) => !first.includes(a))];
  }

  async verify(c: HostKeyCheck): Promise<HostKeyDecision> {
    const first = await this.decide(c);
    if (first !== 'append') return first;
    return this.withLock(c.file, async () => {
      // Re-check under the lock: a parallel connection to the same host may have added the key meanwhile.
      const again = await this.decide(c);
      if (again !== 'append') return again;
      await appendLine(c.file, formatKnownHostsLine(hostForm(c.host, c.port), c.key));
      return { ok: true, added: true } as const;
    });
  }

  private async decide(c: HostKeyCheck): Promise<HostKeyDecision | 'append'> {
    const form = hostForm(c.host, c.port);
    const type = keyTypeOfBlob(c.key) ?? 'unknown-type';
    const fp = `${type} ${fingerprintSha256(c.key)}`;
    const { entries } = await readKnownHosts(c.file);
    const st = checkHostKey(entries, form, c.key);
    switch (st.status) {
      case 'known':
        return { ok: true, added: false };
      case 'revoked':
        return {
          ok: false,
          kind: 'revoked',
          reason: `host key for ${c.label} (${form}, ${fp}) is marked @revoked in ${c.file}:${st.line}; refusing to connect`,
        };
      case 'changed':
        return {
          ok: false,
          kind: 'changed',
          reason:
            `HOST KEY CHANGED for ${c.label} (${form}): the server offered ${fp}, but ${c.file}:${st.line} ` +
            `holds a different ${st.keyType} key. Someone may be intercepting the connection, or the host was ` +
            `reinstalled. If the change is expected, remove the old entry (ssh-keygen -R '${form}' -f ${c.file}) ` +
            `and rerun with --accept-new-host-keys`,
        };
      case 'unknown':
        if (st.otherTypes.length > 0) {
          // The server no longer offers any key type we know for it: treat it like a changed key.
          return {
            ok: false,
            kind: 'changed',
            reason:
              `host key for ${c.label} (${form}) does not match ${c.file}: it holds ${st.otherTypes.join(', ')} ` +
              `key(s) for this host, but the server offered only ${fp}. If the host's keys were changed, remove the ` +
              `old entries (ssh-keygen -R '${form}' -f ${c.file}) and rerun with --accept-new-host-keys`,
          };
        }
        if (!c.acceptNew) {
          return {
            ok: false,
            kind: 'unknown',
            reason:
              `host key for ${c.label} (${form}, ${fp}) is not in ${c.file}; ` +
              `verify it and rerun with --accept-new-host-keys`,
          };
        }
        return 'append';
    }
  }

  private async withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(file) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.locks.set(
      file,
      next.catch(() => undefined),
    );
    return next;
  }
}

/** Append one line, creating the file 0600 (and its directory 0700) when missing. */
async function appendLine(file: string, line: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const fh = await open(file, 'a+', 0o600);
  try {
    const { size } = await fh.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    await fh.appendFile(`${prefix}${line}\n`);
  } finally {
    await fh.close();
  }
}
