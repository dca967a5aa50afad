import test from 'ava';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findAnsibleCfg, loadAnsibleCfg } from '../../src/config/ansible-cfg.ts';
import { IniError, iniValue, parseIni } from '../../src/config/ini-file.ts';
import { expandTokens, SshConfigReader } from '../../src/config/ssh-config.ts';
import { ValidationError } from '../../src/errors.ts';
import { writeTree } from '../fixtures/inventory/tmp-tree.ts';

test('parseIni: configparser rules (= and :, comments, inline ;, continuation lines, DEFAULT, lower-cased keys)', (t) => {
  const ini = parseIni(
    [
      '# comment',
      '; comment too',
      '[DEFAULT]',
      'shared = from-default',
      '[defaults]',
      'Inventory = hosts, more ; inline comment',
      'remote_user: ops',
      'keep = a#b;c',
      '  ; indented comment',
      '[ssh_connection]',
      'ssh_args = -C',
      '    -o ProxyJump=bastion',
      '',
      '    -o ControlMaster=auto',
      'empty =',
    ].join('\n'),
  );
  t.is(iniValue(ini, 'defaults', 'inventory')?.value, 'hosts, more');
  t.is(iniValue(ini, 'defaults', 'inventory')?.line, 6);
  t.is(iniValue(ini, 'defaults', 'remote_user')?.value, 'ops');
  t.is(iniValue(ini, 'defaults', 'keep')?.value, 'a#b;c'); // ; only starts a comment after whitespace
  t.is(iniValue(ini, 'ssh_connection', 'ssh_args')?.value, '-C\n-o ProxyJump=bastion\n\n-o ControlMaster=auto');
  t.is(iniValue(ini, 'ssh_connection', 'empty')?.value, '');
  t.is(iniValue(ini, 'defaults', 'shared')?.value, 'from-default');
  t.is(iniValue(ini, 'nosuchsection', 'shared'), undefined); // configparser: NoSectionError, which Ansible treats as unset
});

test('parseIni: duplicates, keys outside a section and lines without a delimiter are errors with the line', (t) => {
  const line = (text: string) => (t.throws(() => parseIni(text), { instanceOf: IniError }) as IniError).line;
  t.is(line('[a]\nx=1\n[a]\n'), 3);
  t.is(line('[a]\nx=1\nX = 2\n'), 3);
  t.is(line('x=1\n'), 1);
  t.is(line('[a]\njust words\n'), 2);
});

test('ansible.cfg search order: ANSIBLE_CONFIG (file or directory), ./ansible.cfg, ~/.ansible.cfg; first found only', (t) => {
  const root = writeTree(t, {
    'env/ansible.cfg': '[defaults]\nremote_user = env\n',
    'proj/ansible.cfg': '[defaults]\nremote_user = proj\n',
    'home/.ansible.cfg': '[defaults]\nremote_user = home\nforks = 7\n',
    'bare/x': '',
  });
  const home = join(root, 'home');
  const proj = join(root, 'proj');
  const user = (env: NodeJS.ProcessEnv, cwd: string) => loadAnsibleCfg({ HOME: home, ...env }, cwd).remoteUser?.value;
  t.is(user({ ANSIBLE_CONFIG: join(root, 'env/ansible.cfg') }, proj), 'env');
  t.is(user({ ANSIBLE_CONFIG: join(root, 'env') }, proj), 'env');
  t.is(user({}, proj), 'proj');
  t.is(user({}, join(root, 'bare')), 'home');
  // files are not merged: proj's file has no forks, and home's forks is not used
  t.is(loadAnsibleCfg({ HOME: home }, proj).forks, undefined);
  // a missing ANSIBLE_CONFIG falls through to the next candidates, as in Ansible
  t.is(user({ ANSIBLE_CONFIG: join(root, 'nope.cfg') }, proj), 'proj');
});

test('ansible.cfg in a world-writable current directory is skipped with a warning, unless ANSIBLE_CONFIG names it', (t) => {
  const root = writeTree(t, { 'pub/ansible.cfg': '[defaults]\nremote_user = pub\n', 'home/.keep': '' });
  const pub = join(root, 'pub');
  chmodSync(pub, 0o777);
  const warnings: string[] = [];
  t.is(findAnsibleCfg({ HOME: join(root, 'home') }, pub, warnings), undefined);
  t.regex(warnings[0], /world-writable: its ansible.cfg is ignored/);
  const w2: string[] = [];
  t.is(findAnsibleCfg({ HOME: join(root, 'home'), ANSIBLE_CONFIG: join(pub, 'ansible.cfg') }, pub, w2), join(pub, 'ansible.cfg'));
  t.deepEqual(w2, []);
});

test('ansible.cfg settings: types, origins, paths relative to the file, later ini entry and environment win', (t) => {
  const root = writeTree(t, {
    'p/ansible.cfg': [
      '[defaults]',
      'inventory = inventory/hosts.ini, ~/other.yaml',
      'private_key_file = keys/id_lab',
      'forks = 20',
      'host_key_checking = False',
      'timeout = 30',
      'remote_user = "deploy"',
      '[privilege_escalation]',
      'become = yes',
      'become_method = su',
      'become_user = admin',
      '[ssh_connection]',
      'timeout = 12',
      "ssh_args = -o ProxyJump=ops@bastion:2222",
    ].join('\n'),
  });
  const p = join(root, 'p');
  const cfg = loadAnsibleCfg({ HOME: '/home/me' }, p);
  t.is(cfg.file, join(p, 'ansible.cfg'));
  t.deepEqual(cfg.inventory?.value, [join(p, 'inventory/hosts.ini'), '/home/me/other.yaml']);
  t.is(cfg.inventory?.origin, `${join(p, 'ansible.cfg')}:2`);
  t.is(cfg.privateKeyFile?.value, join(p, 'keys/id_lab'));
  t.is(cfg.forks?.value, 20);
  t.is(cfg.hostKeyChecking?.value, false);
  t.is(cfg.timeout?.value, 12); // [ssh_connection] timeout comes later in Ansible's list: it wins
  t.is(cfg.remoteUser?.value, 'deploy'); // unquoted as Ansible does
  t.is(cfg.become?.value, true);
  t.is(cfg.becomeMethod?.value, 'su');
  t.is(cfg.becomeUser?.value, 'admin');
  t.is(cfg.sshArgs?.value, '-o ProxyJump=ops@bastion:2222');
  const env = loadAnsibleCfg({ HOME: '/home/me', ANSIBLE_FORKS: '3', ANSIBLE_INVENTORY: 'a.yaml,b.yaml' }, p);
  t.is(env.forks?.value, 3);
  t.is(env.forks?.origin, 'ANSIBLE_FORKS');
  t.deepEqual(env.inventory?.value, [join(p, 'a.yaml'), join(p, 'b.yaml')]); // from the environment: relative to cwd
});

test('ansible.cfg bad values name the file and line', (t) => {
  const root = writeTree(t, { 'p/ansible.cfg': '[defaults]\nforks = many\n' });
  const err = t.throws(() => loadAnsibleCfg({ HOME: '/nonexistent' }, join(root, 'p')), { instanceOf: ValidationError });
  t.is(err!.location.line, 2);
  t.regex(err!.message, /forks must be an integer, not "many"/);
  const root2 = writeTree(t, { 'p/ansible.cfg': '[defaults]\nforks = 1\nforks = 2\n' });
  const err2 = t.throws(() => loadAnsibleCfg({ HOME: '/nonexistent' }, join(root2, 'p')), { instanceOf: ValidationError });
  t.is(err2!.location.line, 3);
});

test('ssh config: Host patterns, first value wins, IdentityFile accumulates, tokens and ~ expanded', (t) => {
  const root = writeTree(t, {
    'config': [
      'Host web*',
      '  HostName %h.lab.example',
      '  User ops',
      '  IdentityFile ~/.ssh/web_%r',
      '  UserKnownHostsFile /dev/null',
      '  StrictHostKeyChecking no',
      'Host !web9 web?',
      '  Port 2200',
      'Match user root',
      '  Port 2300',
      'Host *',
      '  IdentityFile %d/.ssh/id_%u',
      '  Port 22',
      '  ProxyJump bastion',
      '  User nobody',
    ].join('\n'),
  });
  const reader = new SshConfigReader('/home/me');
  const src = reader.source(join(root, 'config'));
  const web1 = reader.lookup(src, 'web1', undefined);
  t.is(web1.hostName, 'web1.lab.example');
  t.is(web1.user, 'ops');
  t.is(web1.port, 2200);
  t.is(web1.identityFiles[0], '/home/me/.ssh/web_ops');
  t.regex(web1.identityFiles[1], /^\/home\/me\/\.ssh\/id_/);
  t.deepEqual(web1.userKnownHostsFiles, ['/dev/null']);
  t.is(web1.strictHostKeyChecking, 'no');
  t.is(web1.proxyJump, 'bastion');
  t.is(reader.lookup(src, 'web9', undefined).port, 22); // negated pattern
  // a user given on the "command line" (ansible_user) wins, and Match user sees it
  const asRoot = reader.lookup(src, 'db1', 'root');
  t.is(asRoot.user, undefined);
  t.is(asRoot.port, 2300);
  t.is(reader.lookup(src, 'db1', undefined).user, 'nobody');
  t.is(expandTokens('%h-%%-%x', { h: 'a' }), 'a-%-%x');
});

test('ssh config: the default files are skipped when missing, an explicit -F file must exist', (t) => {
  const root = writeTree(t, { 'home/.keep': '' });
  mkdirSync(join(root, 'home/.ssh'));
  const reader = new SshConfigReader(join(root, 'home'));
  const src = reader.source(undefined);
  t.deepEqual(src.files, [join(root, 'home/.ssh/config'), '/etc/ssh/ssh_config']);
  t.notThrows(() => reader.lookup({ files: [join(root, 'home/.ssh/config')], explicit: false }, 'x', undefined));
  t.throws(() => reader.lookup(reader.source(join(root, 'nope')), 'x', undefined), { message: /ssh config file not found/ });
});

test('ssh config: an Include that names existing files is a warning (not followed); one matching nothing is silent', (t) => {
  const root = writeTree(t, { 'inc/a.conf': 'Host *\n  Port 2\n', 'main': '', 'quiet': '' });
  writeFileSync(join(root, 'main'), `Include ${join(root, 'inc')}/*.conf\nHost x\n  Port 3\n`);
  writeFileSync(join(root, 'quiet'), `Include ${join(root, 'none')}/*.conf\n`);
  const reader = new SshConfigReader('/nonexistent');
  t.is(reader.lookup(reader.source(join(root, 'main')), 'x', undefined).port, 3);
  t.deepEqual([...reader.warnings], [`${join(root, 'main')}: Include is not followed by lvsplay; the settings in ${join(root, 'inc/a.conf')} are not used`]);
  reader.lookup(reader.source(join(root, 'quiet')), 'x', undefined);
  t.is(reader.warnings.size, 1);
});
