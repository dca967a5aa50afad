/** ProxyJump: hosts reached through one or two jump hosts (all real sshds on 127.0.0.1, different ports). */
import test from 'ava';
import { rmSync } from 'node:fs';
import { SshPool, UnreachableError, type ConnectionSpec } from '../../src/transport/index.ts';
import { makeKey, specFor, startSshd, tempDir, writeKnownHosts, type KeyPair, type Sshd } from '../helpers/sshd.ts';

let dir: string;
let key: KeyPair;
let j1: Sshd;
let j2: Sshd;
let b: Sshd;
let c: Sshd;
let knownHosts: string;
const pools: SshPool[] = [];

// DEBUG1 makes a jump sshd log each direct-tcpip request with its target port: proof that traffic went through it.
const debugLog = ['LogLevel DEBUG1'];

test.before(async () => {
  dir = await tempDir('jumps');
  key = await makeKey(dir, 'id_ed25519');
  [j1, j2, b, c] = await Promise.all([
    startSshd({ authorizedKeys: [key.publicLine], extraConfig: debugLog }),
    startSshd({ authorizedKeys: [key.publicLine], extraConfig: debugLog }),
    startSshd({ authorizedKeys: [key.publicLine] }),
    startSshd({ authorizedKeys: [key.publicLine] }),
  ]);
  knownHosts = writeKnownHosts(dir, [j1, j2, b, c]);
});
test.after.always(async () => {
  await Promise.all(pools.map((p) => p.closeAll()));
  await Promise.all([j1, j2, b, c].map((s) => s?.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function pool(opts: ConstructorParameters<typeof SshPool>[0] = {}): SshPool {
  const p = new SshPool({ env: { HOME: dir }, passphrasePrompt: false, ...opts });
  pools.push(p);
  return p;
}
const hop = (s: Sshd) => ({ host: s.host, port: s.port, user: 'root' });
function spec(target: Sshd, jumps: Sshd[], over: Partial<ConnectionSpec> = {}): ConnectionSpec {
  return specFor(target, key, { knownHostsFile: knownHosts, jumps: jumps.map(hop), ...over });
}
/** direct-tcpip requests a jump sshd logged for this target port */
function forwardsTo(jump: Sshd, port: number): number {
  return (jump.log().match(new RegExp(`server_request_direct_tcpip: .*target 127\\.0\\.0\\.1 port ${port}\\b`, 'g')) ?? []).length;
}

test('one jump: the host is reached through the jump host', async (t) => {
  const before = forwardsTo(j1, b.port);
  const conn = await pool().connect(spec(b, [j1], { name: 'b-via-j1' }));
  const r = await conn.exec('echo "$SSH_CONNECTION"');
  t.is(r.code, 0);
  t.true(r.stdout.endsWith(` 127.0.0.1 ${b.port}\n`));
  t.true(forwardsTo(j1, b.port) > before, 'j1 forwarded a connection to b');
});

test('a chain of two jumps, outermost first', async (t) => {
  const p = pool();
  const before1 = forwardsTo(j1, j2.port);
  const before2 = forwardsTo(j2, c.port);
  const conn = await p.connect(spec(c, [j1, j2], { name: 'c-via-j1-j2' }));
  t.is((await conn.exec('echo deep')).stdout, 'deep\n');
  t.true(forwardsTo(j1, j2.port) > before1, 'j1 forwarded to j2');
  t.true(forwardsTo(j2, c.port) > before2, 'j2 forwarded to c');
  t.deepEqual(p.stats, { hostConnections: 1, jumpConnections: 2 });
});

test('one connection per jump host serves every host behind it', async (t) => {
  const own = await startSshd({ authorizedKeys: [key.publicLine] });
  t.teardown(() => own.stop());
  const kh = writeKnownHosts(dir, [own, b, c], `kh-own-${own.port}`);
  const p = pool();
  const [cb, cc] = await Promise.all([
    p.connect(specFor(b, key, { name: 'b', knownHostsFile: kh, jumps: [hop(own)] })),
    p.connect(specFor(c, key, { name: 'c', knownHostsFile: kh, jumps: [hop(own)] })),
  ]);
  await Promise.all([cb.exec('true'), cc.exec('true'), cb.exec('true')]);
  t.is(own.acceptedLogins(), 1, 'the jump sshd saw one login');
  t.deepEqual(p.stats, { hostConnections: 2, jumpConnections: 1 });
});

test('jumpChannels 2: five hosts behind one jump take three connections to it (2, 2, 1), opened one at a time', async (t) => {
  const own = await startSshd({ authorizedKeys: [key.publicLine] });
  t.teardown(() => own.stop());
  const kh = writeKnownHosts(dir, [own, b, c], `kh-cap-${own.port}`);
  const p = pool({ jumpChannels: 2 });
  const conns = await Promise.all(
    ['h1', 'h2', 'h3', 'h4', 'h5'].map((name, i) => p.connect(specFor(i % 2 ? c : b, key, { name, knownHostsFile: kh, jumps: [hop(own)] }))),
  );
  for (const conn of conns) t.is((await conn.exec('echo ok')).stdout, 'ok\n');
  t.is(own.acceptedLogins(), 3, 'the jump sshd saw three logins');
  t.deepEqual(p.stats, { hostConnections: 5, jumpConnections: 3 });
  // a host's own lvsplay_jump_channels wins over the pool's
  const one = await p.connect(specFor(b, key, { name: 'h6', knownHostsFile: kh, jumps: [hop(own)], jumpChannels: 8 }));
  t.is((await one.exec('echo ok')).stdout, 'ok\n');
  t.is(p.stats.jumpConnections, 3, 'h6 joined the first connection (2 < 8)');
});

test('closeAll closes host and jump connections', async (t) => {
  const own = await startSshd({ authorizedKeys: [key.publicLine] });
  t.teardown(() => own.stop());
  const kh = writeKnownHosts(dir, [own, b], `kh-close-${own.port}`);
  const p = pool();
  const conn = await p.connect(specFor(b, key, { name: 'b2', knownHostsFile: kh, jumps: [hop(own)] }));
  await conn.exec('true');
  await p.closeAll();
  // sshd logs the disconnect once it has seen it
  for (let i = 0; i < 100 && !/Disconnected from user root/.test(own.log()); i++) await new Promise((r) => setTimeout(r, 20));
  t.regex(own.log(), /Disconnected from user root/);
  await t.throwsAsync(conn.exec('true'), { instanceOf: UnreachableError });
});

test("a jump host's key is checked too", async (t) => {
  const kh = writeKnownHosts(dir, [b], 'kh-only-b');
  const err = (await t.throwsAsync(pool().connect(spec(b, [j1], { name: 'b', knownHostsFile: kh })), {
    instanceOf: UnreachableError,
  })) as UnreachableError;
  t.true(err.message.startsWith(`cannot reach root@127.0.0.1:${b.port} via root@127.0.0.1:${j1.port}: jump host root@127.0.0.1:${j1.port}: host key for`), err.message);
  t.regex(err.message, /--accept-new-host-keys/);
});

test('an unreachable jump host and an unreachable host behind a jump give clear errors', async (t) => {
  const p = pool();
  const deadJump = { host: '127.0.0.1', port: 1, user: 'root' };
  const e1 = (await t.throwsAsync(p.connect(specFor(b, key, { knownHostsFile: knownHosts, jumps: [deadJump] })), {
    instanceOf: UnreachableError,
  })) as UnreachableError;
  t.regex(e1.message, /jump host root@127\.0\.0\.1:1: connection refused by 127\.0\.0\.1:1/);
  const e2 = (await t.throwsAsync(p.connect(specFor(b, key, { name: 'gone', port: 1, knownHostsFile: knownHosts, jumps: [hop(j1)] })), {
    instanceOf: UnreachableError,
  })) as UnreachableError;
  t.is(e2.host, 'gone');
  t.is(e2.message, `jump host root@127.0.0.1:${j1.port} could not open a connection to 127.0.0.1:1: Channel open failure: Connection refused`);
});
