/** The local transport (ansible_connection: local): the same exec contract as an SSH connection, on the controller. */
import test from 'ava';
import { SshPool, BecomeError, CommandTimeoutError, type ConnectionSpec } from '../../src/transport/index.ts';
import { currentUser } from '../../src/inventory/index.ts';

const pools: SshPool[] = [];
test.after.always(() => Promise.all(pools.map((p) => p.closeAll())));

function local(over: Partial<ConnectionSpec> = {}): ConnectionSpec {
  return { name: 'controller', connection: 'local', host: 'localhost', port: 0, user: currentUser(), jumps: [], become: false, ...over };
}
function pool(opts: ConstructorParameters<typeof SshPool>[0] = {}): SshPool {
  const p = new SshPool(opts);
  pools.push(p);
  return p;
}

test('runs the script with /bin/sh on stdin: exit code, stdout, stderr, streaming, round trips; no SSH connection', async (t) => {
  const p = pool();
  const conn = await p.connect(local());
  const chunks: string[] = [];
  const r = await conn.exec('echo out; echo err >&2; exit 3', { onStdout: (c) => chunks.push(c) });
  t.deepEqual(r, { code: 3, stdout: 'out\n', stderr: 'err\n' });
  t.is(chunks.join(''), 'out\n');
  t.is(conn.roundTrips, 1);
  t.is(await p.connect(local()), conn);
  t.deepEqual(p.stats, { hostConnections: 0, jumpConnections: 0 });
});

test('a timed-out command is killed with its children', async (t) => {
  const conn = await pool().connect(local());
  const started = Date.now();
  await t.throwsAsync(conn.exec('sleep 31.71 & sleep 31.71; echo never', { timeoutMs: 300 }), { instanceOf: CommandTimeoutError });
  t.true(Date.now() - started < 5000);
  const left = await conn.exec("pgrep -f 'sleep 31[.]71' || true");
  t.is(left.stdout.trim(), '');
});

test('become through sudo: the script runs as the become user', async (t) => {
  t.is(currentUser(), 'root', 'the test machine runs tests as root');
  const conn = await pool().connect(local({ become: true, becomeUser: 'nobody' }));
  t.is((await conn.exec('id -un')).stdout, 'nobody\n');
  t.is((await conn.exec('id -un', { become: false })).stdout, 'root\n');
  const bad = await pool().connect(local({ become: true, becomeUser: 'no-such-user-lvsplay' }));
  const err = await t.throwsAsync(bad.exec('id -un'), { instanceOf: BecomeError });
  t.regex(err!.message, /unknown user/);
});
