/**
 * Ansible Vault: `!vault`-tagged values and whole vault-encrypted files, in the format of ansible-vault 1.1/1.2
 * (AES256, implemented by the `ansible-vault` package). The passwords of a run are set once by the command
 * (setVaultSecrets) before the inventory is read; a `!vault` value is only decrypted when something reads it, so
 * a vaulted value the run does not need needs no password (a whole vault file does: its variable names are inside).
 * Every plaintext and password becomes a secret of the run (masked in all output).
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { Vault as VaultClass } from 'ansible-vault';
import { UsageError, ValidationError, type Location } from '../errors.ts';
import { addSecret } from '../secret-values.ts';

export interface VaultSecret {
  /** vault id label (`--vault-id dev@file`); 'default' otherwise */
  label: string;
  password: string;
  /** where it came from, for messages: a file name or 'prompt' */
  source: string;
}

let secrets: VaultSecret[] = [];

// The ansible-vault package (and its crypto) is loaded on the first decryption: an inventory without vaulted values
// does not pay for it at start-up. Its CommonJS build, so that a synchronous read can load it.
let vaultClass: typeof VaultClass | undefined;
function vaultLibrary(): typeof VaultClass {
  vaultClass ??= (createRequire(import.meta.url)('ansible-vault') as { Vault: typeof VaultClass }).Vault;
  return vaultClass;
}

/** The vault passwords of this run (replaces any earlier set). */
export function setVaultSecrets(list: VaultSecret[]): void {
  secrets = [...list];
  for (const s of list) addSecret(s.password);
}

const NO_PASSWORD_HINT = 'give the vault password: --vault-password-file FILE, --ask-vault-pass, --vault-id [LABEL@]FILE or ANSIBLE_VAULT_PASSWORD_FILE';

/** A `!vault |` value as read from YAML: the ciphertext, decrypted on first use. */
export class VaultedValue {
  #plain: string | undefined;
  constructor(readonly ciphertext: string) {}

  /** The plaintext; `what` and `where` name the variable in the error when it cannot be decrypted. */
  decrypt(what: string, where: Location): string {
    this.#plain ??= decryptVaultText(this.ciphertext, what, where);
    return this.#plain;
  }

  /** As ansible-inventory --list prints a vaulted value: the ciphertext, never the plaintext. */
  toJSON(): { __ansible_vault: string } {
    return { __ansible_vault: this.ciphertext };
  }
}

export function isVaultText(text: string): boolean {
  return text.trimStart().startsWith('$ANSIBLE_VAULT;');
}

function vaultLabel(text: string): string | undefined {
  const header = text.trimStart().split(/\r?\n/, 1)[0]!.trim().split(';');
  return header[1] === '1.2' ? header[3] : undefined;
}

/**
 * Decrypt vault text with the run's passwords: the one whose label matches the vault id of a 1.2 header first,
 * then every other (as Ansible does without vault_id_match). Errors are ValidationErrors (exit 4) naming `what`.
 * The plaintext of a value becomes a secret of the run; with `wholeFile` the caller adds the file's values.
 */
export function decryptVaultText(text: string, what: string, where: Location, opts: { wholeFile?: boolean } = {}): string {
  if (secrets.length === 0) throw new ValidationError(`${what} is vault-encrypted and no vault password was given`, where, NO_PASSWORD_HINT);
  const label = vaultLabel(text);
  const ordered = [...secrets.filter((s) => s.label === label), ...secrets.filter((s) => s.label !== label)];
  const body = text.trim().replace(/\r\n/g, '\n');
  for (const s of ordered) {
    let plain: string | undefined;
    try {
      plain = new (vaultLibrary())({ password: s.password }).decryptSync(body, undefined);
    } catch (e) {
      if (/bad vault header|invalid vault/i.test((e as Error).message))
        throw new ValidationError(`${what}: not a valid ansible-vault text (${(e as Error).message})`, where, 'recreate it with ansible-vault encrypt_string');
      continue; // wrong password: the integrity check failed; try the next one
    }
    if (plain !== undefined) {
      // a value is a secret; a whole file's text is not (its keys and YAML syntax): the reader adds its values
      if (!opts.wholeFile) addSecret(plain);
      return plain;
    }
  }
  throw new ValidationError(
    `${what}: none of the ${secrets.length} vault password(s) given (${secrets.map((s) => s.source).join(', ')}) decrypts it${label ? ` (vault id ${label})` : ''}`,
    where,
    'check the password file, or give the right one with --vault-id LABEL@FILE',
  );
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A vault password file: its content, or, for an executable file, what it prints (Ansible's script form). */
export function readVaultPasswordFile(file: string, label = 'default'): VaultSecret {
  let text: string;
  try {
    text = isExecutable(file) ? execFileSync(resolve(file), [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }) : readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`vault password file ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const password = text.trim(); // Ansible strips surrounding whitespace and the final newline
  if (!password) throw new UsageError(`vault password file ${file} is empty`);
  return { label, password, source: file };
}

export interface VaultOptions {
  passwordFiles?: string[];
  /** `--vault-id [LABEL@]SOURCE`, SOURCE a file or `prompt` */
  ids?: string[];
  askVaultPass?: boolean;
  /** ANSIBLE_VAULT_PASSWORD_FILE */
  envFile?: string;
}

/** Collect the run's vault passwords from the options; `prompt` asks on the terminal. */
export async function vaultSecretsFrom(o: VaultOptions, prompt: (question: string) => Promise<string>): Promise<VaultSecret[]> {
  const out: VaultSecret[] = [];
  const fromPrompt = async (label: string) => {
    const password = await prompt(label === 'default' ? 'Vault password: ' : `Vault password (${label}): `);
    if (!password) throw new UsageError('empty vault password');
    out.push({ label, password, source: 'prompt' });
  };
  for (const id of o.ids ?? []) {
    const at = id.indexOf('@');
    const label = at > 0 ? id.slice(0, at) : 'default';
    const source = at > 0 ? id.slice(at + 1) : id;
    if (!source) throw new UsageError(`--vault-id ${id}: expected [LABEL@]FILE or [LABEL@]prompt`);
    if (source === 'prompt') await fromPrompt(label);
    else out.push(readVaultPasswordFile(source, label));
  }
  for (const f of o.passwordFiles ?? []) out.push(readVaultPasswordFile(f));
  if (o.askVaultPass) await fromPrompt('default');
  if (out.length === 0 && o.envFile) out.push(readVaultPasswordFile(o.envFile));
  return out;
}
