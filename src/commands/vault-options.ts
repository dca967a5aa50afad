/** The vault options every command that reads an inventory takes, and the terminal prompt of --ask-vault-pass. */
import { createInterface } from 'node:readline';
import type { ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.ts';
import { setVaultSecrets, vaultSecretsFrom } from '../inventory/vault.ts';

export const vaultOptions = {
  'vault-password-file': { type: 'string', multiple: true },
  'vault-id': { type: 'string', multiple: true },
  'ask-vault-pass': { type: 'boolean', short: 'J' },
} as const satisfies ParseArgsConfig['options'];

export const VAULT_HELP = `      --vault-password-file FILE  vault password (an executable FILE is run, its output is the password)
      --vault-id [LABEL@]FILE|prompt  a vault password with its vault id; repeatable
  -J, --ask-vault-pass     prompt for the vault password (default: ANSIBLE_VAULT_PASSWORD_FILE)`;

/** Read a line from the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError('--ask-vault-pass needs a terminal (stdin is not one); use --vault-password-file FILE');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  process.stderr.write(question);
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {}; // no echo
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/** Set the run's vault passwords from the parsed options (before the inventory is loaded). */
export async function useVaultOptions(o: { 'vault-password-file'?: string[]; 'vault-id'?: string[]; 'ask-vault-pass'?: boolean }): Promise<void> {
  const secrets = await vaultSecretsFrom(
    {
      passwordFiles: o['vault-password-file'],
      ids: o['vault-id'],
      askVaultPass: o['ask-vault-pass'],
      envFile: process.env.ANSIBLE_VAULT_PASSWORD_FILE || undefined,
    },
    promptHidden,
  );
  setVaultSecrets(secrets);
}
