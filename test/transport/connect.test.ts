/** Connecting and authenticating: failures become UnreachableError with messages an operator can act on. */
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SshPool, UnreachableError, type ConnectionSpec } from '../../src/transport/index.ts';
import { makeKey, specFor, startSshd, tempDir, writeKnownHosts, type KeyPair, type Sshd } from '../helpers/sshd.ts';

const run = promisify(execFile);

let dir: string;
let keys: Record<'ed25519' | 'ecdsa' | 'rsa' | 'encrypted' | 'stranger', KeyPair>;
let sshd: Sshd;
let knownHosts: string;
const pools: SshPool[] = [];
const PASSPHRASE = 'correct horse battery staple';

test.before(async () => {
  dir = await tempDir('connect');
  keys = {
    ed25519: await makeKey(dir, 'id_ed25519', 'ed25519'),
    ecdsa: await makeKey(dir, 'id_ecdsa', 'ecdsa'),
    rsa: await makeKey(dir, 'id_rsa', 'rsa'),
    encrypted: await makeKey(dir, 'id_encrypted', 'ed25519', PASSPHRASE),
    stranger: await makeKey(dir, 'id_stranger', 'ed25519'),
  };
  const allowed = [keys.ed25519, keys.ecdsa, keys.rsa, keys.encrypted].map((k) => k.publicLine);
  sshd = await startSshd({ authorizedKeys: allowed });
  knownHosts = writeKnownHosts(dir, [sshd]);
});
test.after.always(async () => {
  await Promise.all(pools.map((p) => p.closeAll()));
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function pool(opts: ConstructorParameters<typeof SshPool>[0] = {}): SshPool {
  const p = new SshPool({ passphrasePrompt: false, ...opts, env: { HOME: join(dir, 'empty-home'), ...opts.env } });
  pools.push(p);
  return p;
}
function spec(key: KeyPair | undefined, over: Partial<ConnectionSpec> = {}): ConnectionSpec {
  return specFor(sshd, key, { knownHostsFile: knownHosts, ...over });
}

async function unreachable(t: import('ava').ExecutionContext, p: Promise<unknown>): Promise<UnreachableError> {
  const err = await t.throwsAsync(p, { instanceOf: UnreachableError });
  return err as UnreachableError;
}

for (const type of ['ed25519', 'ecdsa', 'rsa'] as const) {
  test(`authenticates with an OpenSSH ${type} key file`, async (t) => {
    const conn = await pool().connect(spec(keys[type], { name: `k-${type}` }));
    t.is((await conn.exec('echo ok')).stdout, 'ok\n');
  });
}

test('connection refused fails fast, naming host and port', async (t) => {
  const free = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
  const started = Date.now();
  const err = await unreachable(t, pool().connect(spec(keys.ed25519, { name: 'down', port: free })));
  t.true(Date.now() - started < 2000);
  t.is(err.host, 'down');
  t.regex(err.message, new RegExp(`connection refused by 127\\.0\\.0\\.1:${free}`));
});

test('a server that never speaks SSH hits the connect timeout', async (t) => {
  const sockets: Socket[] = [];
  const server: Server = createServer((s) => sockets.push(s)); // accepts, says nothing
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    sockets.forEach((s) => s.destroy());
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const started = Date.now();
  const err = await unreachable(t, pool({ connectTimeoutMs: 10_000 }).connect(spec(keys.ed25519, { name: 'mute', port, connectTimeoutMs: 400 })));
  const took = Date.now() - started;
  t.true(took >= 350 && took < 3000, `took ${took} ms`);
  t.regex(err.message, new RegExp(`timed out after 0\\.4 s connecting to root@127\\.0\\.0\\.1:${port}`));
});

test('the pool default connect timeout applies when the spec has none', async (t) => {
  const server = createServer(() => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const err = await unreachable(t, pool({ connectTimeoutMs: 300 }).connect(spec(keys.ed25519, { port })));
  t.regex(err.message, /timed out after 0\.3 s/);
});

test('a key the server does not accept: the error lists what was tried', async (t) => {
  const err = await unreachable(t, pool().connect(spec(keys.stranger, { name: 'denied' })));
  t.is(err.host, 'denied');
  t.regex(err.message, new RegExp(`authentication failed for root@127\\.0\\.0\\.1:${sshd.port}`));
  t.true(err.message.includes(`key ${keys.stranger.path} (ssh-ed25519)`), err.message);
  t.regex(err.message, /the server accepts: publickey/);
});

test('a missing key file is named in the error', async (t) => {
  const missing = join(dir, 'no-such-key');
  const err = await unreachable(t, pool().connect(spec(undefined, { privateKeyFile: missing })));
  t.true(err.message.includes(`key ${missing}: file not found`), err.message);
});

test('no agent and no key at all says so', async (t) => {
  const err = await unreachable(t, pool().connect(spec(undefined)));
  t.regex(err.message, /tried nothing: no ssh-agent/);
});

test('without a key file, ~/.ssh/id_* are tried as OpenSSH does', async (t) => {
  const home = join(dir, 'home-with-default-key');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  copyFileSync(keys.ecdsa.path, join(home, '.ssh', 'id_ecdsa'));
  const conn = await pool({ env: { HOME: home } }).connect(spec(undefined));
  t.is((await conn.exec('echo ok')).stdout, 'ok\n');
});

test('an encrypted key is decrypted with LVSPLAY_SSH_PASSPHRASE', async (t) => {
  const conn = await pool({ env: { LVSPLAY_SSH_PASSPHRASE: PASSPHRASE } }).connect(spec(keys.encrypted));
  t.is((await conn.exec('echo ok')).stdout, 'ok\n');
});

test('an encrypted key with a wrong passphrase, or none, fails clearly without showing the passphrase', async (t) => {
  const wrong = 'not-the-passphrase';
  const err = await unreachable(t, pool({ env: { LVSPLAY_SSH_PASSPHRASE: wrong } }).connect(spec(keys.encrypted)));
  t.regex(err.message, /cannot decrypt with the passphrase from \$LVSPLAY_SSH_PASSPHRASE \(wrong passphrase\?\)/);
  t.false(err.message.includes(wrong));
  const none = await unreachable(t, pool().connect(spec(keys.encrypted)));
  t.regex(none.message, /key is encrypted; set LVSPLAY_SSH_PASSPHRASE or run lvsplay from a terminal/);
});

test('a passphrase prompt is used when no variable is set, and asked once per key', async (t) => {
  let asked = 0;
  const p = pool({
    passphrasePrompt: async (q) => {
      asked++;
      t.true(q.includes(keys.encrypted.path));
      return PASSPHRASE;
    },
  });
  const [a, b] = await Promise.all([
    p.connect(spec(keys.encrypted, { name: 'p1' })),
    p.connect(spec(keys.encrypted, { name: 'p2' })),
  ]);
  t.is((await a.exec('echo ok')).stdout, 'ok\n');
  t.is((await b.exec('echo ok')).stdout, 'ok\n');
  t.is(asked, 1);
});

/** A real ssh-agent on a socket in the temp dir, holding the given keys. */
async function startAgent(t: import('ava').ExecutionContext, name: string, add: KeyPair[]): Promise<string> {
  const sock = join(dir, `${name}.sock`);
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  t.teardown(() => {
    agent.kill('SIGTERM');
  });
  for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 10));
  for (const k of add) await run('ssh-add', [k.path], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
  return sock;
}

test('ssh-agent keys are used (SSH_AUTH_SOCK)', async (t) => {
  const sock = await startAgent(t, 'agent-good', [keys.rsa]);
  const conn = await pool({ env: { SSH_AUTH_SOCK: sock } }).connect(spec(undefined));
  t.is((await conn.exec('echo ok')).stdout, 'ok\n');
});

test('agent first, then the key file, as OpenSSH; both listed on failure', async (t) => {
  const sock = await startAgent(t, 'agent-stranger', [keys.stranger]);
  const conn = await pool({ env: { SSH_AUTH_SOCK: sock } }).connect(spec(keys.ed25519, { name: 'fallback' }));
  t.is((await conn.exec('echo ok')).stdout, 'ok\n');

  const err = await unreachable(t, pool({ env: { SSH_AUTH_SOCK: sock } }).connect(spec(keys.stranger, { name: 'nobody-knows' })));
  t.true(err.message.includes(`ssh-agent (${sock})`), err.message);
  t.true(err.message.includes(`key ${keys.stranger.path}`), err.message);
  t.true(err.message.indexOf('ssh-agent') < err.message.indexOf(`key ${keys.stranger.path}`));
});

test('a dead agent socket is reported and the key file still works', async (t) => {
  const conn = await pool({ env: { SSH_AUTH_SOCK: join(dir, 'no-agent.sock') } }).connect(spec(keys.ed25519, { name: 'deadagent' }));
  t.is((await conn.exec('echo ok')).stdout, 'ok\n');
});

test('invalid pool options are a usage error', (t) => {
  t.throws(() => new SshPool({ maxChannelsPerHost: 20 }), { message: /maxChannelsPerHost/ });
  t.throws(() => new SshPool({ connectTimeoutMs: -1 }), { message: /connectTimeoutMs/ });
});

test.serial('time in which lvsplay itself was stalled does not count against the connect timeout', async (t) => {
  const server = createServer(() => undefined); // accepts, never speaks
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const started = Date.now();
  const pending = pool().connect(spec(keys.ed25519, { port, connectTimeoutMs: 400 }));
  while (Date.now() - started < 1600) {
    // a synchronous stall, as when ssh2 decrypts a key with bcrypt-pbkdf
  }
  const err = await unreachable(t, pending);
  const took = Date.now() - started;
  t.regex(err.message, /timed out after 0\.4 s/);
  t.true(took >= 2200, `the ~1.2 s of stall past the deadline were given back (took ${took} ms)`);
});
