/**
 * Password login (password and keyboard-interactive) and become with a password (sudo -S, su), against real
 * sshd servers on loopback whose test accounts exist only in their own mount namespace (test/helpers/sshd.ts).
 */
import test from 'ava';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BecomeError, SshPool, UnreachableError, type ConnectionSpec } from '../../src/transport/index.ts';
import { Secret } from '../../src/transport/secret.ts';
import { startSshd, tempDir, writeKnownHosts, type Sshd } from '../helpers/sshd.ts';

const PASSWORD = 'pw-Secret-4242';
const TARGET_PASSWORD = 'target-Pw-77';
let dir: string;
let pwSshd: Sshd;
let kbdSshd: Sshd;
let knownHosts: string;
const pools: SshPool[] = [];

const accounts = [
  { name: 'lvtest', uid: 4242, password: PASSWORD, sudo: 'password' as const },
  { name: 'lvnopw', uid: 4243, password: 'unused-Pw-1', sudo: 'nopasswd' as const },
  { name: 'lvtarget', uid: 4244, password: TARGET_PASSWORD },
];

test.before(async () => {
  dir = await tempDir('passwords');
  mkdirSync(join(dir, 'home'));
  [pwSshd, kbdSshd] = await Promise.all([
    startSshd({ authorizedKeys: [], accounts, extraConfig: ['UsePAM yes', 'PasswordAuthentication yes', 'KbdInteractiveAuthentication no'] }),
    startSshd({ authorizedKeys: [], accounts, extraConfig: ['UsePAM yes', 'PasswordAuthentication no', 'KbdInteractiveAuthentication yes'] }),
  ]);
  knownHosts = writeKnownHosts(dir, [pwSshd, kbdSshd]);
});

test.after.always(async () => {
  await Promise.all(pools.map((p) => p.closeAll()));
  await Promise.all([pwSshd?.stop(), kbdSshd?.stop()]);
});

function pool(): SshPool {
  // HOME without keys and no agent: only the password can log in
  const p = new SshPool({ env: { HOME: join(dir, 'home') }, passphrasePrompt: false });
  pools.push(p);
  return p;
}

function spec(sshd: Sshd, over: Partial<ConnectionSpec> = {}): ConnectionSpec {
  return {
    name: `pw-${sshd.port}-${over.user ?? 'lvtest'}-${Math.random().toString(36).slice(2, 7)}`,
    host: sshd.host,
    port: sshd.port,
    user: 'lvtest',
    jumps: [],
    become: false,
    knownHostsFile: knownHosts,
    password: new Secret(PASSWORD),
    ...over,
  };
}

test('password authentication (ansible_password) logs in', async (t) => {
  const conn = await pool().connect(spec(pwSshd));
  const r = await conn.exec('id -un');
  t.is(r.stdout.trim(), 'lvtest');
  t.regex(pwSshd.log(), /Accepted password for lvtest/);
});

test('keyboard-interactive authentication answers the prompt with the password', async (t) => {
  const conn = await pool().connect(spec(kbdSshd));
  t.is((await conn.exec('id -un')).stdout.trim(), 'lvtest');
  t.regex(kbdSshd.log(), /Accepted keyboard-interactive\/pam for lvtest/);
});

test('a wrong password is unreachable, says what was tried, and never shows the password', async (t) => {
  const err = await t.throwsAsync(pool().connect(spec(pwSshd, { password: new Secret('wrong-Pw-999') })), { instanceOf: UnreachableError });
  t.regex(err!.message, /authentication failed for lvtest@127\.0\.0\.1:\d+; tried password/);
  t.false(err!.message.includes('wrong-Pw-999'));
});

test('sudo with a become password: read from stdin, no prompt in the output, the script runs as root', async (t) => {
  const conn = await pool().connect(spec(pwSshd, { become: true, becomePassword: new Secret(PASSWORD) }));
  const r = await conn.exec('id -u\necho "$(id -un) second line"\necho to-stderr >&2');
  t.is(r.code, 0);
  t.is(r.stdout, '0\nroot second line\n');
  t.is(r.stderr, 'to-stderr\n');
  // every exec asks again (timestamp_timeout=0): the dialog runs each time
  t.is((await conn.exec('id -un')).stdout, 'root\n');
  t.is((await conn.exec('id -un', { become: false })).stdout, 'lvtest\n');
});

test('sudo with a wrong become password fails with a BecomeError that does not show it', async (t) => {
  const conn = await pool().connect(spec(pwSshd, { become: true, becomePassword: new Secret('bad-Become-1') }));
  const err = await t.throwsAsync(conn.exec('id -u'), { instanceOf: BecomeError });
  t.regex(err!.message, /sudo refused the become password for lvtest to become root/);
  t.false(err!.message.includes('bad-Become-1'));
});

test('sudo that wants a password but has none says to set ansible_become_password; NOPASSWD needs none', async (t) => {
  const conn = await pool().connect(spec(pwSshd, { become: true }));
  const err = await t.throwsAsync(conn.exec('id -u'), { instanceOf: BecomeError });
  t.regex(err!.message, /sudo asks lvtest for a password to become root .*set ansible_become_password/);
  // a become password given for a NOPASSWD account is simply not asked for
  const nopw = await pool().connect(spec(pwSshd, { user: 'lvnopw', password: new Secret('unused-Pw-1'), become: true, becomePassword: new Secret('whatever') }));
  t.is((await nopw.exec('id -u')).stdout, '0\n');
});

test('su with the target user\'s password (ansible_become_method: su)', async (t) => {
  const conn = await pool().connect(spec(pwSshd, { become: true, becomeMethod: 'su', becomeUser: 'lvtarget', becomePassword: new Secret(TARGET_PASSWORD) }));
  const r = await conn.exec('id -un\necho done');
  t.is(r.stdout, 'lvtarget\ndone\n');
  t.false(r.stderr.includes('Password'));
  const bad = await pool().connect(spec(pwSshd, { become: true, becomeMethod: 'su', becomeUser: 'lvtarget', becomePassword: new Secret('nope-Pw') }));
  const err = await t.throwsAsync(bad.exec('id -un'), { instanceOf: BecomeError });
  t.regex(err!.message, /become lvtarget failed for lvtest: su: Authentication failure/);
});

test('a shell through sudo and su with a password: the dialog runs once, every script runs as the target', async (t) => {
  for (const [over, user] of [
    [{ becomePassword: new Secret(PASSWORD) }, 'root'],
    [{ becomeMethod: 'su' as const, becomeUser: 'lvtarget', becomePassword: new Secret(TARGET_PASSWORD) }, 'lvtarget'],
  ] as const) {
    const conn = await pool().connect(spec(pwSshd, { become: true, ...over }));
    const sh = conn.shell!();
    const a = await sh.exec('id -un; echo $$; echo e1 >&2', { more: true });
    t.is(a.stdout.split('\n')[0], user);
    t.is(a.stderr, 'e1\n', 'no prompt, no ready mark in the first result');
    const b = await sh.exec('id -un; echo $$');
    t.is(b.stdout, a.stdout, 'the same shell, as the target user');
    t.is(b.stderr, '');
    sh.release();
  }
  // a wrong password: the first script fails with the BecomeError, the shell is ended
  const bad = await pool().connect(spec(pwSshd, { become: true, becomePassword: new Secret('bad-Become-1') }));
  const sh = bad.shell!();
  await t.throwsAsync(sh.exec('id -u', { more: true, timeoutMs: 20_000 }), { instanceOf: BecomeError });
  sh.release();
});
