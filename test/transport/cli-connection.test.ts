/**
 * The real CLI with an Ansible project's connection setup: ansible_connection=local with the inventory taken from
 * ansible.cfg (no -i), and a host reached through nothing but an OpenSSH config file (-F) against a real sshd on
 * loopback. Every target is a file under the test's temp dir.
 */
import test from 'ava';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonLines, lvsplay } from '../helpers/cli.ts';
import { makeKey, startSshd, tempDir, writeKnownHosts, type KeyPair, type Sshd } from '../helpers/sshd.ts';

const PLAYBOOK = fileURLToPath(new URL('../fixtures/connection/target-file.ts', import.meta.url));
const SECRET = 'never-Printed-93';
let dir: string;
let sshd: Sshd;
let key: KeyPair;

test.before(async () => {
  dir = await tempDir('cli-conn');
  key = await makeKey(dir, 'id_lab');
  sshd = await startSshd({ authorizedKeys: [key.publicLine] });
});
test.after.always(async () => {
  await sshd?.stop();
});

test('ansible_connection=local: a real play on the controller, inventory from ./ansible.cfg, idempotent, secrets never printed', async (t) => {
  const project = join(dir, 'local-project');
  const target = join(dir, 'local-target.txt');
  mkdirSync(project, { mode: 0o755 });
  writeFileSync(join(project, 'ansible.cfg'), '[defaults]\ninventory = hosts.yaml\nforks = 2\n');
  writeFileSync(
    join(project, 'hosts.yaml'),
    `all:\n  vars:\n    ansible_python_interpreter: /usr/bin/python3\n  hosts:\n    controller:\n      ansible_connection: local\n      ansible_password: ${SECRET}\n      target_file: ${target}\n`,
  );
  const env = { HOME: join(dir, 'empty-home') };
  const json = join(dir, 'local.jsonl');
  const first = await lvsplay(['run', PLAYBOOK, '--no-verify', '--json', json], { cwd: project, env });
  t.is(first.code, 0, first.stderr + first.stdout);
  t.is(readFileSync(target, 'utf8'), 'written for controller\n');
  t.regex(first.stdout, /changed: \[controller\] file /);
  t.regex(first.stderr, /\[WARNING\]: ansible_python_interpreter is not implemented by lvsplay .*\(host controller\)/);
  const recap = jsonLines(readFileSync(json, 'utf8')).at(-1)!;
  t.is(recap.hosts.controller.changed, 1);
  for (const text of [first.stdout, first.stderr, readFileSync(json, 'utf8')]) t.false(text.includes(SECRET));

  const again = await lvsplay(['run', PLAYBOOK, '--no-verify', '--json', json], { cwd: project, env });
  t.is(again.code, 0, again.stderr);
  t.is(jsonLines(readFileSync(json, 'utf8')).at(-1)!.hosts.controller.changed, 0);
  writeFileSync(target, 'drifted\n');
  const check = await lvsplay(['run', PLAYBOOK, '--check', '--no-verify'], { cwd: project, env });
  t.is(check.code, 0, check.stderr);
  t.regex(check.stdout, /changed: \[controller\] file /);
  t.is(readFileSync(target, 'utf8'), 'drifted\n');
});

test('ansible_connection=winrm stops the run before anything is touched (exit 4), naming host and value', async (t) => {
  const inv = join(dir, 'winrm.yaml');
  const target = join(dir, 'winrm-target.txt');
  writeFileSync(inv, `all:\n  hosts:\n    win1:\n      ansible_connection: winrm\n      target_file: ${target}\n`);
  const r = await lvsplay(['run', PLAYBOOK, '-i', inv, '--no-verify'], { env: { HOME: join(dir, 'empty-home') } });
  t.is(r.code, 4);
  t.regex(r.stderr, /host win1, field ansible_connection: ansible_connection "winrm" is not supported by lvsplay/);
  t.false(existsSync(target));
});

test('a host reached only through an ssh config file (-F): HostName, Port, User, IdentityFile, UserKnownHostsFile', async (t) => {
  const knownHosts = writeKnownHosts(dir, [sshd], 'cli_known_hosts');
  const config = join(dir, 'ssh_config');
  writeFileSync(
    config,
    [
      'Host labhost',
      `  HostName ${sshd.host}`,
      `  Port ${sshd.port}`,
      '  User root',
      `  IdentityFile ${key.path}`,
      `  UserKnownHostsFile ${knownHosts}`,
      'Host *',
      '  Port 1',
      '  User nobody',
    ].join('\n') + '\n',
  );
  const target = join(dir, 'ssh-target.txt');
  const inv = join(dir, 'ssh.yaml');
  writeFileSync(inv, `all:\n  hosts:\n    labhost:\n      target_file: ${target}\n`);
  const env = { HOME: join(dir, 'empty-home'), SSH_AUTH_SOCK: '' };
  const r = await lvsplay(['run', PLAYBOOK, '-i', inv, '-F', config, '--no-verify'], { env });
  t.is(r.code, 0, r.stderr + r.stdout);
  t.is(readFileSync(target, 'utf8'), 'written for labhost\n');
  t.regex(sshd.log(), /Accepted publickey for root/);
  // the later Host * section (Port 1, User nobody) did not override the first values obtained
  t.regex(r.stdout, /changed: \[labhost\] file /);
});
