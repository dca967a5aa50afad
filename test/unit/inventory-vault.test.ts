// Vault fixtures under test/fixtures/vault were made by Debian's ansible-vault (ansible-core 2.14), see inventory.yaml.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, ValidationError } from '../../src/errors.ts';
import { inventoryList, loadInventory } from '../../src/inventory/index.ts';
import { decryptVaultText, readVaultPasswordFile, setVaultSecrets, vaultSecretsFrom } from '../../src/inventory/vault.ts';
import { clearSecrets, maskText } from '../../src/secret-values.ts';
import { ROOT } from '../helpers/cli.ts';

const FIX = join(ROOT, 'test/fixtures/vault');
const INV = join(FIX, 'inventory.yaml');
const main = () => readVaultPasswordFile(join(FIX, 'vault-pass.txt'));
const dev = () => readVaultPasswordFile(join(FIX, 'dev-pass.txt'), 'dev');

// the vault passwords and the secret set are process-wide: one test at a time
test.afterEach.always(() => {
  setVaultSecrets([]);
  clearSecrets();
});

test.serial('Debian-made vault texts decrypt: 1.1 with the default password, 1.2 with its vault id', (t) => {
  setVaultSecrets([main(), dev()]);
  const inv = loadInventory(INV);
  const web1 = inv.hosts.get('web1')!;
  t.is(web1.vars.lab_secret, 'S3cret-vrrp');
  t.is(web1.vars.dev_secret, 'labelled-secret');
  // whole vault file group_vars/all/vault.yml
  t.is(web1.vars.db_password, 'hunter2-db');
  t.is(inv.hosts.get('web2')!.vars.api_token, 'tok-12345');
  t.is(web1.vars.greeting, 'hello web1');
});

test.serial('a password file that is executable is run and its output is the password', (t) => {
  const s = readVaultPasswordFile(join(FIX, 'vault-pass.sh'));
  t.is(s.password, 'lvsplay-test-vault');
  t.is(main().password, 'lvsplay-test-vault'); // trailing newline stripped
  t.throws(() => readVaultPasswordFile(join(FIX, 'nope.txt')), { instanceOf: UsageError, message: /vault password file .*nope\.txt/ });
});

test.serial('lazy: a vaulted value nobody reads needs no password (or no matching one)', (t) => {
  setVaultSecrets([main()]); // no dev password: dev_secret cannot be decrypted
  const inv = loadInventory(INV);
  t.is(inv.hosts.get('web1')!.vars.lab_secret, 'S3cret-vrrp');
  t.is(inv.hosts.get('web2')!.vars.db_password, 'hunter2-db');
  const err = t.throws(() => inv.hosts.get('web1')!.vars.dev_secret) as ValidationError;
  t.true(err instanceof ValidationError);
  t.regex(err.message, /variable dev_secret of host web1: none of the 1 vault password\(s\) given .* decrypts it \(vault id dev\)/);
  t.like(err.location, { line: 9, host: 'web1', field: 'dev_secret' });
  t.true(err.location.file!.endsWith('host_vars/web1.yml'));
});

test.serial('a needed vaulted value without any password: exit 4 naming the variable and file:line', (t) => {
  const root = join(FIX, 'inventory.yaml');
  const text = readFileSync(join(FIX, 'host_vars/web1.yml'), 'utf8');
  t.regex(text, /!vault \|/);
  // the whole-file vault needs a password at load, as in Ansible: the file is named
  const whole = t.throws(() => loadInventory(root)) as ValidationError;
  t.is(whole.exitCode, 4);
  t.regex(whole.location.file!, /group_vars\/all\/vault\.yml$/);
  t.is(whole.message, 'this file is vault-encrypted and no vault password was given');
  t.regex(whole.hint!, /--vault-password-file/);
  // a !vault value alone
  t.throws(() => decryptVaultText(text.split('lab_secret: !vault |\n')[1]!.split('dev_secret')[0]!, 'variable lab_secret of host web1', { file: 'host_vars/web1.yml', line: 2 }), {
    message: /variable lab_secret of host web1 is vault-encrypted and no vault password was given/,
  });
});

test.serial('a wrong password is an error naming the value, not a crash', (t) => {
  setVaultSecrets([{ label: 'default', password: 'wrong', source: 'x.txt' }]);
  const err = t.throws(() => loadInventory(INV)) as ValidationError;
  t.regex(err.location.file!, /group_vars\/all\/vault\.yml$/);
  t.regex(err.message, /^this file: none of the 1 vault password\(s\) given \(x\.txt\) decrypts it/);
});

test.serial('inventory --list data keeps !vault values encrypted, as ansible-inventory; whole-file values are masked', (t) => {
  setVaultSecrets([main(), dev()]);
  const inv = loadInventory(INV);
  inv.hosts.get('web1')!.vars.lab_secret; // decrypted values must not change what --list prints
  const ours = JSON.parse(maskText(inventoryList(inv)));
  const theirs = JSON.parse(readFileSync(join(FIX, 'ansible-inventory-list.json'), 'utf8'));
  // ansible-inventory prints a whole vault file's values in clear; lvsplay masks them (the only difference)
  for (const h of Object.values(theirs._meta.hostvars) as Record<string, unknown>[]) {
    h.db_password = '********';
    h.api_token = '********';
  }
  t.deepEqual(ours, theirs);
});

test.serial('--vault-id LABEL@FILE, several password files, ANSIBLE_VAULT_PASSWORD_FILE only when nothing else is given', async (t) => {
  const noPrompt = async () => t.fail('no prompt expected') as never;
  const s = await vaultSecretsFrom({ ids: [`dev@${join(FIX, 'dev-pass.txt')}`], passwordFiles: [join(FIX, 'vault-pass.txt')], envFile: '/nonexistent' }, noPrompt);
  t.deepEqual(s.map((x) => [x.label, x.password]), [['dev', 'other-pass'], ['default', 'lvsplay-test-vault']]);
  const env = await vaultSecretsFrom({ envFile: join(FIX, 'vault-pass.txt') }, noPrompt);
  t.is(env[0]!.password, 'lvsplay-test-vault');
  const prompted = await vaultSecretsFrom({ askVaultPass: true }, async (q) => (q.startsWith('Vault password') ? 'typed' : ''));
  t.is(prompted[0]!.password, 'typed');
});

test.serial('a whole vault-encrypted inventory file (Debian-made) loads with the password; its values are secrets, its keys are not', (t) => {
  setVaultSecrets([main()]);
  const inv = loadInventory(join(FIX, 'inventory-file/hosts.yaml'));
  t.is(inv.hosts.get('vaulted1')!.vars.app_secret, 'inventory-file-secret');
  t.is(maskText('app_secret: inventory-file-secret, hosts: all'), 'app_secret: ********, hosts: all');
});
