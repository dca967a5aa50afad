/**
 * src/transport/ssh2-tuning.ts against a real sshd logging at DEBUG3: lvsplay's connections answer the host key
 * announcement with an ignore message instead of a proof request, and answer command output with empty window
 * adjusts; plain ssh2 does ask for the proof (so the check can fail). An ssh2 upgrade that moves the internals
 * fails here instead of silently losing the 40 ms per command.
 */
import test from 'ava';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { SshPool } from '../../src/transport/index.ts';
import { makeKey, specFor, startSshd, tempDir, writeKnownHosts, type KeyPair, type Sshd } from '../helpers/sshd.ts';

let dir: string;
let key: KeyPair;
let sshd: Sshd;
let knownHosts: string;

test.before(async () => {
  dir = await tempDir('ssh2-tuning');
  key = await makeKey(dir, 'id_ed25519');
  // two host keys: OpenSSH announces both after login
  sshd = await startSshd({ authorizedKeys: [key.publicLine], hostKeyTypes: ['ed25519', 'ecdsa'], extraConfig: ['LogLevel DEBUG3'] });
  knownHosts = writeKnownHosts(dir, [sshd]);
});
test.after.always(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const PROVE = /rtype hostkeys-prove-00@openssh\.com/g;
const count = (re: RegExp) => (sshd.log().match(re) ?? []).length;

test.serial('lvsplay does not ask the server to prove its host keys; it answers the announcement with an ignore message', async (t) => {
  const proofsBefore = count(PROVE);
  const ignoresBefore = count(/Received SSH2_MSG_IGNORE/g);
  const pool = new SshPool({ passphrasePrompt: false, env: { HOME: join(dir, 'home') } });
  try {
    const conn = await pool.connect(specFor(sshd, key, { knownHostsFile: knownHosts }));
    t.is((await conn.exec('echo ok')).stdout, 'ok\n');
    t.is((await conn.exec('echo again')).stdout, 'again\n');
  } finally {
    await pool.closeAll();
  }
  t.is(count(PROVE), proofsBefore);
  t.true(count(/Received SSH2_MSG_IGNORE/g) > ignoresBefore, 'the ignore message reached sshd');
});

test.serial('plain ssh2 asks for the proof (the control for the test above)', async (t) => {
  const before = count(PROVE);
  await new Promise<void>((resolve, reject) => {
    const c = new ssh2.Client();
    c.once('ready', () => {
      // the proof request follows the announcement, which comes right after login
      c.once('hostkeys', () => {
        c.end();
        resolve();
      });
    });
    c.once('error', reject);
    c.connect({ host: sshd.host, port: sshd.port, username: 'root', privateKey: readFileSync(key.path) });
  });
  // sshd logs the request when it handles it; give it a moment after the reply reached us
  for (let i = 0; i < 50 && count(PROVE) === before; i++) await new Promise((r) => setTimeout(r, 20));
  t.true(count(PROVE) > before);
});

test.serial('command output is answered with empty window adjusts, and 1 MB still arrives complete', async (t) => {
  const before = count(/rcvd adjust 0\b/g);
  const pool = new SshPool({ passphrasePrompt: false, env: { HOME: join(dir, 'home') } });
  try {
    const conn = await pool.connect(specFor(sshd, key, { knownHostsFile: knownHosts }));
    const r = await conn.exec("head -c 1048576 /dev/zero | tr '\\0' x; echo; echo err >&2");
    t.is(r.stdout.length, 1048577);
    t.is(r.stderr, 'err\n');
  } finally {
    await pool.closeAll();
  }
  t.true(count(/rcvd adjust 0\b/g) > before);
});
