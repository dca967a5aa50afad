/**
 * Private key files for public key authentication: which files to try, and loading them (with a passphrase from
 * LVSPLAY_SSH_PASSPHRASE or, on a terminal, a prompt). Each file is read and decrypted once per pool.
 * Passphrases are never logged or put into error messages.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';

export const PASSPHRASE_ENV = 'LVSPLAY_SSH_PASSPHRASE';

export interface IdentityFile {
  path: string;
  /** named by the inventory (a missing file is an error) rather than one of OpenSSH's defaults (skipped if absent) */
  explicit: boolean;
}

export type LoadedKey =
  | { ok: true; key: ParsedKey; type: string }
  | { ok: false; missing: boolean; reason: string };

/** Asks for a passphrase; resolves undefined when nobody can answer. */
export type PassphrasePrompt = (question: string) => Promise<string | undefined>;

/**
 * The files OpenSSH would offer: the ones the inventory / ssh config name (in order), or else ~/.ssh/id_rsa,
 * id_ecdsa, id_ed25519 (OpenSSH's default order).
 */
export function identityFiles(explicit: string | string[] | undefined, home: string | undefined): IdentityFile[] {
  const named = explicit === undefined ? [] : ([] as string[]).concat(explicit);
  if (named.length > 0) return named.map((path) => ({ path, explicit: true }));
  if (!home) return [];
  return ['id_rsa', 'id_ecdsa', 'id_ed25519'].map((f) => ({ path: join(home, '.ssh', f), explicit: false }));
}

const NEEDS_PASSPHRASE = /no passphrase given/i;

export class KeyLoader {
  private cache = new Map<string, Promise<LoadedKey>>();
  /** one prompt at a time on the terminal */
  private promptChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly passphraseFromEnv: string | undefined,
    private readonly prompt: PassphrasePrompt | undefined,
  ) {}

  load(path: string): Promise<LoadedKey> {
    let p = this.cache.get(path);
    if (!p) {
      p = this.loadUncached(path);
      this.cache.set(path, p);
    }
    return p;
  }

  private async loadUncached(path: string): Promise<LoadedKey> {
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { ok: false, missing: code === 'ENOENT', reason: code === 'ENOENT' ? 'file not found' : `cannot read: ${code}` };
    }
    let parsed = ssh2.utils.parseKey(data);
    if (parsed instanceof Error && NEEDS_PASSPHRASE.test(parsed.message)) {
      let passphrase = this.passphraseFromEnv;
      let source = `$${PASSPHRASE_ENV}`;
      if (passphrase === undefined && this.prompt) {
        passphrase = await this.ask(`Enter passphrase for key ${path}: `);
        source = 'the prompt';
      }
      if (passphrase === undefined) {
        return {
          ok: false,
          missing: false,
          reason: `key is encrypted; set ${PASSPHRASE_ENV} or run lvsplay from a terminal to be asked for the passphrase`,
        };
      }
      parsed = ssh2.utils.parseKey(data, passphrase);
      if (parsed instanceof Error) {
        return { ok: false, missing: false, reason: `cannot decrypt with the passphrase from ${source} (wrong passphrase?)` };
      }
    }
    if (parsed instanceof Error) {
      return { ok: false, missing: false, reason: `not a usable private key (${parsed.message}); expected OpenSSH or PEM format` };
    }
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key || !key.isPrivateKey()) return { ok: false, missing: false, reason: 'holds no private key' };
    return { ok: true, key, type: key.type };
  }

  private ask(question: string): Promise<string | undefined> {
    const run = () => this.prompt!(question);
    const p = this.promptChain.then(run, run);
    this.promptChain = p.catch(() => undefined);
    return p;
  }
}

/**
 * Read a passphrase from the terminal without echo. Undefined when stdin is not a TTY (then nobody can answer).
 */
export const terminalPrompt: PassphrasePrompt = (question) => {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    process.stderr.write(question);
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    let answer = '';
    const finish = (value: string | undefined) => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      process.stderr.write('\n');
      resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(answer);
        if (ch === '\u0003' || ch === '\u0004') return finish(undefined); // Ctrl-C / Ctrl-D: give up on this key
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    stdin.on('data', onData);
  });
};
