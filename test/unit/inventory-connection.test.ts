import test from 'ava';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '../../src/errors.ts';
import {
  connectionSpec,
  currentUser,
  loadInventory,
  parseJumpChain,
  parseJumpHop,
  proxyJumpFromSshArgs,
  splitShellWords,
} from '../../src/inventory/index.ts';
import { brief, validationErrors, writeTree } from '../fixtures/inventory/tmp-tree.ts';

const INV = `
all:
  vars:
    ansible_user: ops
  children:
    directors:
      vars:
        ansible_become: yes
        ansible_ssh_private_key_file: keys/lab_ed25519
        lvsplay_known_hosts: ../known_hosts
      hosts:
        lb1:
          ansible_host: 10.0.0.11
          ansible_port: 2222
          ansible_timeout: 7
          ansible_become_user: admin
        lb2:
          ansible_host: 10.0.0.12
          ansible_ssh_common_args: '-o ProxyJump=jump@bastion:2200 -o StrictHostKeyChecking=no'
    real:
      hosts:
        web1:
          lvsplay_host: 127.0.0.1
          ansible_host: 10.9.9.9
          lvsplay_port: "2201"
          lvsplay_user: tester
          ansible_ssh_common_args: -J outer,inner:2022
        web2:
          ansible_ssh_common_args: "-oProxyJump='a@b,c'"
          lvsplay_jump: none
        web3:
          lvsplay_jump: [hop1, "root@hop2:23"]
          lvsplay_private_key_file: ~/.ssh/id_lab
          ansible_ssh_private_key_file: ignored
        plain:
`;

function inventory(t: Parameters<typeof writeTree>[0]) {
  const root = writeTree(t, { 'lab/inv.yaml': INV });
  return { root, inv: loadInventory(join(root, 'lab/inv.yaml')) };
}

test('connection spec from ansible_* variables; relative paths against the inventory directory', (t) => {
  const { root, inv } = inventory(t);
  t.deepEqual(connectionSpec(inv, 'lb1'), {
    name: 'lb1',
    host: '10.0.0.11',
    port: 2222,
    user: 'ops',
    jumps: [],
    become: true,
    becomeUser: 'admin',
    privateKeyFile: join(root, 'lab/keys/lab_ed25519'),
    knownHostsFile: join(root, 'known_hosts'),
    connectTimeoutMs: 7000,
  });
});

test('defaults: inventory name as address, port 22, current OS user, no become', (t) => {
  const { inv } = inventory(t);
  const root = writeTree(t, { 'inv.yaml': 'all:\n  hosts:\n    plain:\n' });
  t.deepEqual(connectionSpec(loadInventory(join(root, 'inv.yaml')), 'plain'), {
    name: 'plain',
    host: 'plain',
    port: 22,
    user: currentUser(),
    jumps: [],
    become: false,
  });
  t.is(connectionSpec(inv, 'plain').user, 'ops');
});

test('ProxyJump in ansible_ssh_common_args; a hop without a user inherits the host user', (t) => {
  const { inv } = inventory(t);
  t.deepEqual(connectionSpec(inv, 'lb2').jumps, [{ host: 'bastion', port: 2200, user: 'jump' }]);
  t.deepEqual(connectionSpec(inv, 'web1').jumps, [
    { host: 'outer', port: 22, user: 'tester' },
    { host: 'inner', port: 2022, user: 'tester' },
  ]);
});

test('lvsplay_* wins over ansible_*; lvsplay_jump none disables a jump; lvsplay_jump as a list; ~ expanded', (t) => {
  const { inv } = inventory(t);
  const web1 = connectionSpec(inv, 'web1');
  t.is(web1.host, '127.0.0.1');
  t.is(web1.port, 2201);
  t.is(web1.user, 'tester');
  t.deepEqual(connectionSpec(inv, 'web2').jumps, []);
  const web3 = connectionSpec(inv, 'web3');
  t.deepEqual(web3.jumps, [
    { host: 'hop1', port: 22, user: 'ops' },
    { host: 'hop2', port: 23, user: 'root' },
  ]);
  t.is(web3.privateKeyFile, join(homedir(), '.ssh/id_lab'));
});

test('extra vars reach the connection spec (strings converted), and win', (t) => {
  const root = writeTree(t, { 'inv.yaml': 'all:\n  hosts:\n    h1: {ansible_port: 22}\n' });
  const inv = loadInventory(join(root, 'inv.yaml'), { extraVars: { ansible_port: '2022', ansible_become: 'true', ansible_timeout: '2.5' } });
  const spec = connectionSpec(inv, 'h1');
  t.is(spec.port, 2022);
  t.true(spec.become);
  t.is(spec.connectTimeoutMs, 2500);
});

test('a wrong extra var type is reported against -e', (t) => {
  const root = writeTree(t, { 'inv.yaml': 'all:\n  hosts:\n    h1:\n' });
  const errs = validationErrors(t, () => loadInventory(join(root, 'inv.yaml'), { extraVars: { ansible_port: 'x' } }));
  t.deepEqual(errs.map((e) => e.toString()), [
    'extra vars (-e), host h1, field ansible_port: ansible_port must be a port number 1-65535, not "x"\n  fix: ansible_port: 22',
  ]);
});

test('connectionSpec of an unknown host names the closest host', (t) => {
  const { inv } = inventory(t);
  const err = t.throws(() => connectionSpec(inv, 'lb3'), { instanceOf: ValidationError });
  t.regex(err!.message, /host lb3 is not in the inventory \(did you mean lb[12]\?\)/);
});

test('ProxyCommand is refused; jump syntax errors name the field and line', (t) => {
  const root = writeTree(t, {
    'inv.yaml': `
all:
  hosts:
    h1:
      ansible_ssh_common_args: -o ProxyCommand="ssh -W %h:%p bastion"
    h2:
      lvsplay_jump: "user@:22"
    h3:
      lvsplay_jump: "bastion:http"
    h4:
      ansible_ssh_common_args: "-o 'ProxyJump=a"
    h5:
      lvsplay_jump: {host: a}
`,
  });
  const errs = validationErrors(t, () => loadInventory(join(root, 'inv.yaml')));
  t.deepEqual(brief(errs, root), [
    'inv.yaml:4 ansible_ssh_common_args uses ProxyCommand, which lvsplay does not support',
    'inv.yaml:6 lvsplay_jump jump hop "user@:22" has no host',
    'inv.yaml:8 lvsplay_jump jump hop "bastion:http" has a bad port "http"',
    'inv.yaml:10 ansible_ssh_common_args cannot be split into words: unterminated single quote at character 4',
    'inv.yaml:12 lvsplay_jump must be a string or a list of strings, not a mapping',
  ]);
});

test('proxyJumpFromSshArgs: every ssh spelling, first one wins, none when absent', (t) => {
  t.is(proxyJumpFromSshArgs('-o ProxyJump=a'), 'a');
  t.is(proxyJumpFromSshArgs('-oProxyJump=a,b'), 'a,b');
  t.is(proxyJumpFromSshArgs('-o "ProxyJump b"'), 'b');
  t.is(proxyJumpFromSshArgs('-o proxyjump = c'), undefined); // "= c" is a separate word for ssh too
  t.is(proxyJumpFromSshArgs("-o 'proxyjump = c'"), 'c');
  t.is(proxyJumpFromSshArgs('-J u@d:2 -o ProxyJump=e'), 'u@d:2');
  t.is(proxyJumpFromSshArgs('-Jf'), 'f');
  t.is(proxyJumpFromSshArgs('-o StrictHostKeyChecking=no -C'), undefined);
  t.throws(() => proxyJumpFromSshArgs('-J'), { message: /-J without a value/ });
});

test('parseJumpChain / parseJumpHop: users, ports, IPv6, ssh:// and none', (t) => {
  t.deepEqual(parseJumpChain('a,b', 'me'), [
    { host: 'a', port: 22, user: 'me' },
    { host: 'b', port: 22, user: 'me' },
  ]);
  t.deepEqual(parseJumpChain(' none ', 'me'), []);
  t.deepEqual(parseJumpHop('ssh://ops@jump.example:2222', 'me'), { host: 'jump.example', port: 2222, user: 'ops' });
  t.deepEqual(parseJumpHop('[2001:db8::1]:2022', 'me'), { host: '2001:db8::1', port: 2022, user: 'me' });
  t.deepEqual(parseJumpHop('u@2001:db8::2', 'me'), { host: '2001:db8::2', port: 22, user: 'u' });
  t.deepEqual(parseJumpHop('a@b@c', 'me'), { host: 'c', port: 22, user: 'a@b' });
  t.throws(() => parseJumpChain('a,,b', 'me'), { message: /empty jump hop/ });
  t.throws(() => parseJumpHop('h:0', 'me'), { message: /bad port "0"/ });
  t.throws(() => parseJumpHop('@h', 'me'), { message: /empty user/ });
});

test('splitShellWords: quotes and escapes like shlex', (t) => {
  t.deepEqual(splitShellWords(`  a  'b c' "d \\"e\\" \\n" f\\ g ''  `), ['a', 'b c', 'd "e" \\n', 'f g', '']);
  t.deepEqual(splitShellWords(`x="1 2"y`), ['x=1 2y']);
  t.deepEqual(splitShellWords(''), []);
  t.throws(() => splitShellWords(`"abc`), { message: /unterminated double quote/ });
  t.throws(() => splitShellWords(`abc\\`), { message: /trailing backslash/ });
});

test('a templated connection variable is rendered; one using an undefined variable is an error at its line', (t) => {
  const ok = writeTree(t, { 'inv.yaml': 'all:\n  vars:\n    base_port: 2200\n  hosts:\n    h1:\n      ansible_port: "{{ base_port + 1 }}"\n' });
  t.is(connectionSpec(loadInventory(join(ok, 'inv.yaml')), 'h1').port, 2201);
  const bad = writeTree(t, { 'inv.yaml': 'all:\n  hosts:\n    h1:\n      ansible_port: "{{ base_port + 1 }}"\n' });
  const err = t.throws(() => loadInventory(join(bad, 'inv.yaml'))) as ValidationError;
  t.is(err.location.line, 4);
  t.regex(err.message, /ansible_port .*undefined variable 'base_port'/);
});

test('lvsplay_jump_channels: hosts per jump connection, from a group var or -e; a bad value names the file, line and host', (t) => {
  const root = writeTree(t, {
    'inv.yaml': 'all:\n  children:\n    behind:\n      vars:\n        lvsplay_jump_channels: 50\n      hosts:\n        h1:\n        h2: {lvsplay_jump_channels: "7"}\n  hosts:\n    h3:\n',
    'bad.yaml': 'all:\n  hosts:\n    h1:\n      lvsplay_jump_channels: 0\n    h2:\n      lvsplay_jump_channels: 20000\n    h3:\n      lvsplay_jump_channels: many\n',
  });
  const inv = loadInventory(join(root, 'inv.yaml'));
  t.is(connectionSpec(inv, 'h1').jumpChannels, 50);
  t.is(connectionSpec(inv, 'h2').jumpChannels, 7);
  t.is(connectionSpec(inv, 'h3').jumpChannels, undefined, 'unset: the pool default (--jump-channels, else 200)');
  t.is(connectionSpec(loadInventory(join(root, 'inv.yaml'), { extraVars: { lvsplay_jump_channels: '4' } }), 'h3').jumpChannels, 4);
  const errs = validationErrors(t, () => loadInventory(join(root, 'bad.yaml')));
  const why = (v: string) => `lvsplay_jump_channels must be a whole number of hosts per connection to a jump host, from 1 to 16384 (OpenSSH's limit of channels on one connection), not ${v}`;
  t.deepEqual(brief(errs, root), [`bad.yaml:4 ${why('0')}`, `bad.yaml:6 ${why('20000')}`, `bad.yaml:8 ${why('"many"')}`]);
  t.true(errs.every((e) => e.toString().includes('fix: lvsplay_jump_channels: 200')), errs.map(String).join('\n'));
});
