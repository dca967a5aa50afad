// Issue 14 points 6-7 end to end: a templated variable and a vaulted secret, through the real CLI over real SSH on a
// tier-1 lab. The secret reaches the host and never appears in stdout, stderr or the --json log.
import test from 'ava';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useLab } from '../helpers/lab.ts';
import { jsonLines, lvsplay, ROOT } from '../helpers/cli.ts';

const lab = useLab(test, { topology: 'test/fixtures/lab/pair.yaml' });
const PB = 'test/fixtures/playbooks/secrets.ts';
const PASSWORD_FILE = join(ROOT, 'test/fixtures/vault/vault-pass.txt');
const SECRET = 'S3cret-vrrp'; // the plaintext of the Debian-made !vault value below

/** The lab inventory with group_vars/all.yml: a templated line and a !vault value (made by Debian's ansible-vault). */
function secretsInventory(): { inventory: string; groupVars: string } {
  const dir = join(lab().dir, 'secrets');
  mkdirSync(join(dir, 'group_vars'), { recursive: true });
  const inventory = join(dir, 'inventory.yaml');
  writeFileSync(inventory, readFileSync(lab().inventory, 'utf8'));
  const vault = readFileSync(join(ROOT, 'test/fixtures/vault/host_vars/web1.yml'), 'utf8').split('lab_secret:')[1]!.split('dev_secret:')[0]!;
  const groupVars = join(dir, 'group_vars/all.yml');
  writeFileSync(groupVars, `motd_line: "templated for {{ inventory_hostname }} ({{ groups['all'] | length }} hosts, {{ playbook_dir | basename }})"\napp_password:${vault}`);
  return { inventory, groupVars };
}

function noSecretIn(t: { notRegex(s: string, r: RegExp, m?: string): void }, what: string, text: string): void {
  t.notRegex(text, new RegExp(SECRET), `${what} holds the plaintext secret`);
}

test.serial('no vault password: exit 4 naming the variable and its file:line, nothing touched', async (t) => {
  const { inventory } = secretsInventory();
  const r = await lvsplay(['run', PB, '-i', inventory]);
  t.is(r.code, 4, r.stdout + r.stderr);
  t.regex(r.stderr, /group_vars\/all\.yml:2, host alpha, field app_password: variable app_password of host alpha is vault-encrypted and no vault password was given/);
  const state = await lab().ssh('alpha', 'ls /etc/lvsplay-test/app.conf 2>&1; echo end');
  t.regex(state.stdout, /No such file/);
});

test.serial('--check --diff --json: the diff shows the rendered template and ******** for the secret; then the run writes it', async (t) => {
  const { inventory } = secretsInventory();
  const json = join(lab().dir, 'secrets-check.jsonl');
  const check = await lvsplay(['run', PB, '-i', inventory, '--check', '--diff', '--json', json, '--vault-password-file', PASSWORD_FILE]);
  t.is(check.code, 0, check.stdout + check.stderr);
  t.regex(check.stdout, /\+line=templated for alpha \(2 hosts, playbooks\)/);
  t.regex(check.stdout, /\+password=\*\*\*\*\*\*\*\*/);
  t.regex(check.stdout, /\(diff hidden: secret step\)/);
  const events = readFileSync(json, 'utf8');
  t.true(jsonLines(events).some((e) => e.event === 'step' && (e.diff ?? []).some((d: string) => d.includes('+password=********'))));
  for (const [what, text] of [['stdout', check.stdout], ['stderr', check.stderr], ['--json', events]] as const) noSecretIn(t, what, text);
  t.regex((await lab().ssh('alpha', 'ls /etc/lvsplay-test/app.conf 2>&1; echo end')).stdout, /No such file/, '--check touched the host');

  const j1 = join(lab().dir, 'secrets-run.jsonl');
  const run = await lvsplay(['run', PB, '-i', inventory, '--diff', '--json', j1, '--vault-password-file', PASSWORD_FILE]);
  t.is(run.code, 0, run.stdout + run.stderr);
  for (const [what, text] of [['stdout', run.stdout], ['stderr', run.stderr], ['--json', readFileSync(j1, 'utf8')]] as const) noSecretIn(t, what, text);
  const onHost = await lab().ssh('beta', 'cat /etc/lvsplay-test/app.conf /etc/lvsplay-test/token');
  t.is(onHost.stdout, `line=templated for beta (2 hosts, playbooks)\npassword=${SECRET}\n${SECRET}\n`);

  const j2 = join(lab().dir, 'secrets-again.jsonl');
  const again = await lvsplay(['run', PB, '-i', inventory, '--json', j2, '--vault-password-file', PASSWORD_FILE]);
  t.is(again.code, 0, again.stdout + again.stderr);
  const recap = jsonLines(readFileSync(j2, 'utf8')).at(-1)!;
  t.is(recap.hosts.alpha.changed, 0);
  t.is(recap.hosts.beta.changed, 0);
});
