/** StrictHostKeyChecking as a spec's hostKeyPolicy (from ssh args, ssh config or host_key_checking=False). */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SshPool, UnreachableError, type ConnectionSpec } from '../../src/transport/index.ts';
import { makeKey, specFor, startSshd, tempDir, type KeyPair, type Sshd } from '../helpers/sshd.ts';

let dir: string;
let key: KeyPair;
let sshd: Sshd;
const pools: SshPool[] = [];

test.before(async () => {
  dir = await tempDir('hkpolicy');
  key = await makeKey(dir, 'id_lab');
  sshd = await startSshd({ authorizedKeys: [key.publicLine] });
});
test.after.always(async () => {
  await Promise.all(pools.map((p) => p.closeAll()));
  await sshd?.stop();
});

function connect(name: string, over: Partial<ConnectionSpec>) {
  const p = new SshPool({ env: { HOME: join(dir, 'home') }, passphrasePrompt: false });
  pools.push(p);
  return p.connect(specFor(sshd, key, { name, ...over }));
}

test('no/off: an unknown key is recorded, a changed key is accepted; UserKnownHostsFile=/dev/null works', async (t) => {
  const kh = join(dir, 'kh-off');
  await t.notThrowsAsync(connect('off-new', { knownHostsFile: kh, hostKeyPolicy: 'off' }));
  t.regex(readFileSync(kh, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `));
  const other = await makeKey(dir, 'other_host_key');
  writeFileSync(kh, `[127.0.0.1]:${sshd.port} ${other.publicKey}\n`);
  await t.notThrowsAsync(connect('off-changed', { knownHostsFile: kh, hostKeyPolicy: 'off' }));
  await t.notThrowsAsync(connect('off-devnull', { knownHostsFile: '/dev/null', hostKeyPolicy: 'off' }));
});

test('accept-new records an unknown key but refuses a changed one; strict refuses an unknown one', async (t) => {
  const kh = join(dir, 'kh-new');
  await t.notThrowsAsync(connect('new-unknown', { knownHostsFile: kh, hostKeyPolicy: 'accept-new' }));
  const other = await makeKey(dir, 'other_host_key2');
  writeFileSync(kh, `[127.0.0.1]:${sshd.port} ${other.publicKey}\n`);
  const changed = await t.throwsAsync(connect('new-changed', { knownHostsFile: kh, hostKeyPolicy: 'accept-new' }), { instanceOf: UnreachableError });
  t.regex(changed!.message, /HOST KEY CHANGED/);
  const strict = await t.throwsAsync(connect('strict', { knownHostsFile: join(dir, 'kh-empty'), hostKeyPolicy: 'strict' }), { instanceOf: UnreachableError });
  t.regex(strict!.message, /is not in .*kh-empty/);
});
