import test from 'ava';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { loadAnsibleCfg } from '../../src/config/ansible-cfg.ts';
import { SshConfigReader } from '../../src/config/ssh-config.ts';
import { connectionSpec, ConnectionWarnings, currentUser, loadInventory, parseSshArgs, SECRET_VARS } from '../../src/inventory/index.ts';
import { brief, validationErrors, writeTree } from '../fixtures/inventory/tmp-tree.ts';

const SSH_CONFIG = `
Host web*
  HostName 10.1.0.%h
  User cfguser
  Port 2022
  IdentityFile /keys/from_config
Host bastion
  HostName 10.9.9.9
  User jumper
  Port 2200
Host *
  StrictHostKeyChecking accept-new
`;

function setup(t: Parameters<typeof writeTree>[0], inventory: string, cfgText?: string) {
  const root = writeTree(t, { 'inv.yaml': inventory, 'ssh_config': SSH_CONFIG, ...(cfgText ? { 'ansible.cfg': cfgText } : {}) });
  const inv = loadInventory(join(root, 'inv.yaml'));
  const cfg = loadAnsibleCfg({ HOME: '/nonexistent', ANSIBLE_CONFIG: join(root, 'ansible.cfg') }, root);
  const warnings = new ConnectionWarnings();
  const settings = { cfg, sshConfig: new SshConfigReader('/nonexistent'), sshConfigFile: join(root, 'ssh_config'), warnings, cwd: root };
  return { root, inv, warnings, spec: (h: string) => connectionSpec(inv, h, settings) };
}

test('ssh config fills what the inventory leaves unset; inventory variables win (as -o options on ssh\'s command line)', (t) => {
  const { spec } = setup(t, 'all:\n  hosts:\n    web1:\n    web2: {ansible_user: inv, ansible_port: 22, ansible_ssh_private_key_file: /keys/inv}\n');
  const w1 = spec('web1');
  t.is(w1.host, '10.1.0.web1');
  t.is(w1.user, 'cfguser');
  t.is(w1.port, 2022);
  t.is(w1.privateKeyFile, '/keys/from_config');
  t.is(w1.hostKeyPolicy, 'accept-new');
  const w2 = spec('web2');
  t.is(w2.user, 'inv');
  t.is(w2.port, 22);
  // IdentityFile accumulates: the inventory's key first, then the config's
  t.is(w2.privateKeyFile, '/keys/inv');
  t.deepEqual(w2.moreIdentityFiles, ['/keys/from_config']);
});

test('ProxyJump hops get HostName/User/Port from the ssh config unless the hop spells them out', (t) => {
  const { spec } = setup(t, `all:\n  hosts:\n    db1:\n      ansible_ssh_common_args: "-J bastion,ops@bastion:23"\n`);
  t.deepEqual(spec('db1').jumps, [
    { host: '10.9.9.9', port: 2200, user: 'jumper' },
    { host: '10.9.9.9', port: 23, user: 'ops' },
  ]);
});

test('Ansible\'s command-line order: ansible.cfg ssh_args beat ansible_port; ansible_port beats -p in ansible_ssh_common_args', (t) => {
  const { spec } = setup(
    t,
    `all:\n  hosts:\n    h1: {ansible_port: 2201, ansible_ssh_common_args: "-p 2999 -l argsuser -o UserKnownHostsFile=kh -o StrictHostKeyChecking=no"}\n    h2: {ansible_ssh_common_args: "-p 2999"}\n`,
    '[defaults]\nremote_user = cfguser\nhost_key_checking = True\n[ssh_connection]\nssh_args = -o Port=2100 -C -o ControlMaster=auto -o ControlPersist=60s\n',
  );
  const h1 = spec('h1');
  t.is(h1.port, 2100);
  t.is(h1.user, 'cfguser'); // remote_user is -o User=, before the common args
  t.is(h1.hostKeyPolicy, 'off');
  t.true(h1.knownHostsFile!.endsWith('/kh'));
  t.is(spec('h2').port, 2100);
});

test('ansible.cfg defaults: remote_user, private_key_file, timeout, become settings, host_key_checking=False', (t) => {
  const { spec, root } = setup(
    t,
    'all:\n  hosts:\n    h1:\n    h2: {ansible_become: false, ansible_user: me, ansible_timeout: 3}\n',
    '[defaults]\nremote_user = deploy\nprivate_key_file = keys/k\ntimeout = 25\nhost_key_checking = False\n[privilege_escalation]\nbecome = True\nbecome_user = app\nbecome_method = sudo\n',
  );
  const h1 = spec('h1');
  t.is(h1.user, 'deploy');
  t.is(h1.privateKeyFile, join(root, 'keys/k'));
  t.is(h1.connectTimeoutMs, 25_000);
  t.true(h1.become);
  t.is(h1.becomeUser, 'app');
  t.is(h1.becomeMethod, 'sudo');
  t.is(h1.hostKeyPolicy, 'off');
  const h2 = spec('h2');
  t.false(h2.become);
  t.is(h2.user, 'me');
  t.is(h2.connectTimeoutMs, 3000);
});

test('ansible_connection: local, ssh spellings; an unsupported value loads (as ansible-inventory lists it) but is an error naming host and value once targeted', (t) => {
  const root = writeTree(t, {
    'inv.yaml': 'all:\n  hosts:\n    ctl: {ansible_connection: local, ansible_user: ignored, ansible_become: true}\n    a: {ansible_connection: paramiko}\n    b: {ansible_connection: smart}\n',
  });
  const inv = loadInventory(join(root, 'inv.yaml'));
  t.deepEqual(connectionSpec(inv, 'ctl'), { name: 'ctl', connection: 'local', host: 'localhost', port: 0, user: currentUser(), jumps: [], become: true });
  t.is(connectionSpec(inv, 'a').connection, undefined);
  t.is(connectionSpec(inv, 'b').host, 'b');
  const bad = writeTree(t, { 'inv.yaml': 'all:\n  hosts:\n    win1:\n      ansible_connection: winrm\n    d1: {ansible_connection: docker}\n' });
  const winInv = loadInventory(join(bad, 'inv.yaml'));
  t.deepEqual(
    ['win1', 'd1'].flatMap((h) => brief(validationErrors(t, () => connectionSpec(winInv, h)), bad)),
    [
      'inv.yaml:4 ansible_connection "winrm" is not supported by lvsplay: it connects with ssh (also written paramiko or smart) and local',
      'inv.yaml:5 ansible_connection "docker" is not supported by lvsplay: it connects with ssh (also written paramiko or smart) and local',
    ],
  );
  t.is(validationErrors(t, () => connectionSpec(winInv, 'win1'))[0].location.host, 'win1');
});

test('passwords are Secret values: they print, serialise and inspect as ********; a wrong type never shows the value', (t) => {
  const root = writeTree(t, {
    'inv.yaml': 'all:\n  hosts:\n    h1: {ansible_ssh_pass: hunter2, ansible_become_pass: 12345, ansible_become_method: su}\n    h2: {ansible_password: s3cret, ansible_become_password: b3come}\n',
  });
  const inv = loadInventory(join(root, 'inv.yaml'));
  const h1 = connectionSpec(inv, 'h1');
  t.is(h1.password!.reveal(), 'hunter2');
  t.is(h1.becomePassword!.reveal(), '12345'); // YAML read it as a number
  t.is(h1.becomeMethod, 'su');
  const h2 = connectionSpec(inv, 'h2');
  const printed = [JSON.stringify(h2), inspect(h2), `${h2.password}`, String(h2.becomePassword)].join('\n');
  t.false(printed.includes('s3cret'));
  t.false(printed.includes('b3come'));
  t.true(printed.includes('********'));
  t.true(SECRET_VARS.has('ansible_ssh_pass') && SECRET_VARS.has('ansible_become_pass') && SECRET_VARS.has('ansible_password'));

  const bad = writeTree(t, { 'inv.yaml': 'all:\n  hosts:\n    h1: {ansible_password: [hunter2]}\n    h2: {ansible_become_method: doas}\n' });
  const text = validationErrors(t, () => loadInventory(join(bad, 'inv.yaml'))).map((e) => e.toString()).join('\n');
  t.false(text.includes('hunter2'));
  t.regex(text, /ansible_password must be a string, not a list/);
  const doas = writeTree(t, { 'inv.yaml': 'all:\n  hosts:\n    h2: {ansible_become_method: doas}\n' });
  const [err] = validationErrors(t, () => connectionSpec(loadInventory(join(doas, 'inv.yaml')), 'h2'));
  t.regex(err.message, /ansible_become_method "doas" is not supported by lvsplay: use sudo or su/);
});

test('every ansible_* variable and ssh option lvsplay does not implement is a warning naming it and the hosts', (t) => {
  const { spec, warnings } = setup(
    t,
    'all:\n  vars:\n    ansible_python_interpreter: /usr/bin/python3\n  hosts:\n    h1: {ansible_ssh_pipelining: true, ansible_ssh_extra_args: "-A -o ForwardAgent=yes -o ServerAliveInterval=5"}\n    h2:\n',
  );
  spec('h1');
  spec('h2');
  t.deepEqual(warnings.lines(), [
    'ansible_python_interpreter is not implemented by lvsplay (ignored: lvsplay runs no Python on hosts) (hosts h1, h2)',
    'ansible_ssh_pipelining is not implemented by lvsplay (ignored: lvsplay always sends scripts on stdin (one round trip)) (host h1)',
    'ssh option -A in ansible_ssh_extra_args is not implemented by lvsplay (ignored) (host h1)',
    'ssh option -o ForwardAgent in ansible_ssh_extra_args is not implemented by lvsplay (ignored) (host h1)',
    'ssh option -o ServerAliveInterval in ansible_ssh_extra_args is not implemented by lvsplay (ignored) (host h1)',
  ]);
});

test('parseSshArgs: -o forms, short options, no-effect options, ProxyCommand refused', (t) => {
  t.deepEqual(parseSshArgs('-o Port=1 -oUser=u -o "IdentityFile /k" -p2 -l x -i k2 -J j -F cfg -C -o ControlPersist=60s'), {
    options: [
      { keyword: 'port', value: '1' },
      { keyword: 'user', value: 'u' },
      { keyword: 'identityfile', value: '/k' },
      { keyword: 'port', value: '2' },
      { keyword: 'user', value: 'x' },
      { keyword: 'identityfile', value: 'k2' },
      { keyword: 'proxyjump', value: 'j' },
      { keyword: 'configfile', value: 'cfg' },
    ],
    ignored: [],
  });
  t.deepEqual(parseSshArgs('-L 8080:x:80 -Ax').ignored, ['-L', '-A', '-x']);
  t.throws(() => parseSshArgs('-o ProxyCommand="nc %h %p"'), { message: /ProxyCommand/ });
});

test('a ProxyCommand in the ssh config for a host is an error; -F /dev/null reads no config', (t) => {
  const root = writeTree(t, { 'inv.yaml': 'all:\n  hosts:\n    h1:\n    h2: {lvsplay_ssh_config: /dev/null}\n', 'cfg': 'Host h1 h2\n  ProxyCommand nc %h %p\n' });
  const inv = loadInventory(join(root, 'inv.yaml'));
  const settings = { sshConfig: new SshConfigReader('/nonexistent'), sshConfigFile: join(root, 'cfg') };
  const [err] = validationErrors(t, () => connectionSpec(inv, 'h1', settings));
  t.regex(err.message, /sets ProxyCommand for h1, which lvsplay does not support/);
  t.is(connectionSpec(inv, 'h2', settings).host, 'h2');
});
