/** Host key checking against known_hosts, with real sshd host keys. */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SshPool, UnreachableError, type ConnectionSpec } from '../../src/transport/index.ts';
import { makeKey, specFor, startSshd, tempDir, type KeyPair, type Sshd } from '../helpers/sshd.ts';

const run = promisify(execFile);

let dir: string;
let key: KeyPair;
let sshd: Sshd; // ed25519 host key
let multi: Sshd; // ed25519 + ecdsa host keys
const pools: SshPool[] = [];
let n = 0;

test.before(async () => {
  dir = await tempDir('hostkeys');
  key = await makeKey(dir, 'id_ed25519');
  [sshd, multi] = await Promise.all([
    startSshd({ authorizedKeys: [key.publicLine] }),
    startSshd({ authorizedKeys: [key.publicLine], hostKeyTypes: ['ed25519', 'ecdsa'] }),
  ]);
});
test.after.always(async () => {
  await Promise.all(pools.map((p) => p.closeAll()));
  await Promise.all([sshd?.stop(), multi?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function pool(opts: ConstructorParameters<typeof SshPool>[0] = {}): SshPool {
  const p = new SshPool({ env: { HOME: dir }, passphrasePrompt: false, ...opts });
  pools.push(p);
  return p;
}
/** a fresh known_hosts path for one test */
function khFile(content?: string): string {
  const file = join(dir, `known_hosts.${++n}`);
  if (content !== undefined) writeFileSync(file, content, { mode: 0o600 });
  return file;
}
function spec(file: string, over: Partial<ConnectionSpec> = {}, server: Sshd = sshd): ConnectionSpec {
  return specFor(server, key, { knownHostsFile: file, ...over });
}
async function unreachable(t: import('ava').ExecutionContext, p: Promise<unknown>): Promise<UnreachableError> {
  return (await t.throwsAsync(p, { instanceOf: UnreachableError })) as UnreachableError;
}

test('an unknown host key is refused with the fix in the message, and nothing is written', async (t) => {
  const file = khFile();
  const err = await unreachable(t, pool().connect(spec(file, { name: 'newbie' })));
  t.is(err.host, 'newbie');
  t.true(
    err.message.includes(`host key for root@127.0.0.1:${sshd.port} ([127.0.0.1]:${sshd.port}, ssh-ed25519 SHA256:`),
    err.message,
  );
  t.true(err.message.includes(`is not in ${file}; verify it and rerun with --accept-new-host-keys`), err.message);
  t.false(existsSync(file));
});

test('acceptNewHostKeys writes the key (file created 0600) and later connects need no flag', async (t) => {
  const file = join(khFile(), '..', `sub-${n}`, 'known_hosts'); // directory does not exist yet either
  const conn = await pool({ acceptNewHostKeys: true }).connect(spec(file));
  t.is((await conn.exec('echo ok')).stdout, 'ok\n');
  t.is(statSync(file).mode & 0o777, 0o600);
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  t.deepEqual(lines, sshd.knownHostsLines());
  // OpenSSH agrees with what we wrote
  const { stdout } = await run('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', file]);
  t.true(stdout.includes(sshd.hostKeys[0].publicKey));
  const again = await pool().connect(spec(file));
  t.is((await again.exec('echo ok')).stdout, 'ok\n');
});

test('acceptNewHostKeys appends after existing lines, and parallel first connects write one line', async (t) => {
  const file = khFile(`# mine\nother.example ${sshd.hostKeys[0].publicKey}`); // no trailing newline
  const p = pool({ acceptNewHostKeys: true });
  await Promise.all(['a', 'b', 'c'].map((name) => p.connect(spec(file, { name }))));
  const lines = readFileSync(file, 'utf8').split('\n');
  t.deepEqual(lines, ['# mine', `other.example ${sshd.hostKeys[0].publicKey}`, ...sshd.knownHostsLines(), '']);
});

test('a changed host key is refused loudly, naming file and line, even with acceptNewHostKeys', async (t) => {
  const impostor = await makeKey(dir, `impostor-${n}`, 'ed25519');
  const file = khFile(`# header\n[127.0.0.1]:${sshd.port} ${impostor.publicKey}\n`);
  for (const acceptNewHostKeys of [false, true]) {
    const err = await unreachable(t, pool({ acceptNewHostKeys }).connect(spec(file, { name: 'moved' })));
    t.regex(err.message, /^HOST KEY CHANGED for root@127\.0\.0\.1:\d+/);
    t.true(err.message.includes(`${file}:2 holds a different ssh-ed25519 key`), err.message);
    t.true(err.message.includes(`ssh-keygen -R '[127.0.0.1]:${sshd.port}' -f ${file}`), err.message);
  }
  t.is(readFileSync(file, 'utf8').split('\n').length, 3, 'the file is left alone');
});

test('a hashed known_hosts entry (ssh-keygen -H) is accepted', async (t) => {
  const file = khFile(sshd.knownHostsLines().join('\n') + '\n');
  await run('ssh-keygen', ['-H', '-f', file]);
  const content = readFileSync(file, 'utf8');
  t.regex(content, /^\|1\|/);
  t.false(content.includes('127.0.0.1'));
  const conn = await pool().connect(spec(file));
  t.is((await conn.exec('echo ok')).stdout, 'ok\n');
});

test('a wildcard entry in a comma list matches', async (t) => {
  const file = khFile(`web1,[127.0.0.*]:${sshd.port} ${sshd.hostKeys[0].publicKey}\n`);
  const conn = await pool().connect(spec(file));
  t.is((await conn.exec('echo ok')).stdout, 'ok\n');
});

test('an entry for port 22 does not vouch for another port', async (t) => {
  const file = khFile(`127.0.0.1 ${sshd.hostKeys[0].publicKey}\n`);
  const err = await unreachable(t, pool().connect(spec(file)));
  t.regex(err.message, /is not in/);
});

test('@revoked keys are refused even when listed as known', async (t) => {
  const pub = sshd.hostKeys[0].publicKey;
  const file = khFile(`[127.0.0.1]:${sshd.port} ${pub}\n@revoked * ${pub}\n`);
  const err = await unreachable(t, pool({ acceptNewHostKeys: true }).connect(spec(file)));
  t.true(err.message.includes(`is marked @revoked in ${file}:2`), err.message);
});

test('with several host keys, the type on record is asked for (ecdsa known, ed25519 also offered)', async (t) => {
  const ecdsa = multi.hostKeys.find((k) => k.type === 'ecdsa')!;
  const file = khFile(`[127.0.0.1]:${multi.port} ${ecdsa.publicKey}\n`);
  const conn = await pool().connect(spec(file, {}, multi));
  t.is((await conn.exec('echo ok')).stdout, 'ok\n');
});

test('a host that offers only key types not on record is refused like a changed key', async (t) => {
  const otherType = await makeKey(dir, `ecdsa-${n}`, 'ecdsa');
  const file = khFile(`[127.0.0.1]:${sshd.port} ${otherType.publicKey}\n`);
  const err = await unreachable(t, pool({ acceptNewHostKeys: true }).connect(spec(file)));
  t.regex(err.message, /holds ecdsa-sha2-nistp256 key\(s\) for this host, but the server offered only ssh-ed25519/);
});

test('the default known_hosts is ~/.ssh/known_hosts', async (t) => {
  const home = join(dir, `home-${++n}`);
  const conn = await pool({ env: { HOME: home }, acceptNewHostKeys: true }).connect(spec(undefined as unknown as string, { knownHostsFile: undefined }));
  await conn.exec('true');
  t.deepEqual(readFileSync(join(home, '.ssh', 'known_hosts'), 'utf8').trim().split('\n'), sshd.knownHostsLines());
  t.is(statSync(join(home, '.ssh')).mode & 0o777, 0o700);
});
