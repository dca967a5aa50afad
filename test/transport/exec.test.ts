/** Running scripts over one real sshd on 127.0.0.1. */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BecomeError, CommandTimeoutError, SshPool, UnreachableError, type ConnectionSpec } from '../../src/transport/index.ts';
import { makeKey, specFor, startSshd, tempDir, writeKnownHosts, type KeyPair, type Sshd } from '../helpers/sshd.ts';

let dir: string;
let key: KeyPair;
let sshd: Sshd;
let knownHosts: string;
const pools: SshPool[] = [];

test.before(async () => {
  dir = await tempDir('exec');
  key = await makeKey(dir, 'id_ed25519');
  sshd = await startSshd({ authorizedKeys: [key.publicLine] });
  knownHosts = writeKnownHosts(dir, [sshd]);
});
test.after.always(async () => {
  await Promise.all(pools.map((p) => p.closeAll()));
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function pool(opts: ConstructorParameters<typeof SshPool>[0] = {}): SshPool {
  const p = new SshPool({ env: { HOME: dir }, passphrasePrompt: false, ...opts });
  pools.push(p);
  return p;
}
function spec(over: Partial<ConnectionSpec> = {}): ConnectionSpec {
  return specFor(sshd, key, { knownHostsFile: knownHosts, ...over });
}

test('exec returns stdout, stderr and exit code, and counts round trips', async (t) => {
  const conn = await pool().connect(spec());
  t.is(conn.roundTrips, 0, 'connect itself runs no command');
  const r = await conn.exec('echo out; echo err >&2; exit 3');
  t.deepEqual(r, { code: 3, stdout: 'out\n', stderr: 'err\n' });
  const ok = await conn.exec('true');
  t.is(ok.code, 0);
  t.is(conn.roundTrips, 2);
});

test('connect is memoised per spec name and reuses one SSH connection', async (t) => {
  const own = await startSshd({ authorizedKeys: [key.publicLine] });
  t.teardown(() => own.stop());
  const p = pool();
  const spec = (over: Partial<ConnectionSpec>) =>
    specFor(own, key, { knownHostsFile: writeKnownHosts(dir, [own], `kh-${own.port}`), ...over });
  const [a, b] = await Promise.all([p.connect(spec({ name: 'same' })), p.connect(spec({ name: 'same' }))]);
  t.is(a, b);
  await a.exec('true');
  await b.exec('true');
  t.is(p.stats.hostConnections, 1);
  t.is(own.acceptedLogins(), 1);
});

test('scripts with quotes, newlines, $ and backslashes arrive verbatim', async (t) => {
  const conn = await pool().connect(spec());
  const script = [
    `a='single '"'"'quoted'"'"''`,
    `b="double \\"quoted\\" \\$HOME"`,
    `printf '%s\\n' "$a" "$b" 'lit $HOME `,
    `next line' "tab	here" 'back\\slash'`,
    `cat <<'EOF'`,
    `heredoc $NOT_EXPANDED \`nor this\``,
    `EOF`,
    `echo "ünïcødé €"`,
  ].join('\n');
  const r = await conn.exec(script);
  t.is(r.stderr, '');
  t.is(
    r.stdout,
    [
      `single 'quoted'`,
      `double "quoted" $HOME`,
      `lit $HOME \nnext line`,
      `tab	here`,
      `back\\slash`,
      'heredoc $NOT_EXPANDED `nor this`',
      'ünïcødé €',
      '',
    ].join('\n'),
  );
});

test('1 MB of output arrives complete', async (t) => {
  const conn = await pool().connect(spec());
  const r = await conn.exec(`head -c 1048576 /dev/zero | tr '\\0' x; echo; echo done >&2`);
  t.is(r.code, 0);
  t.is(r.stdout.length, 1048576 + 1);
  t.regex(r.stdout, /^x+\n$/);
  t.is(r.stderr, 'done\n');
});

/** Run `count` execs at once, each recording its start and end (ms), and return the highest overlap seen. */
async function maxOverlap(conn: Awaited<ReturnType<SshPool['connect']>>, count: number): Promise<{ overlap: number; outputs: string[] }> {
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      conn.exec(`s=$(date +%s%3N); sleep 0.3; e=$(date +%s%3N); echo "${i} $s $e"`),
    ),
  );
  const spans = results.map((r) => r.stdout.trim().split(' ').map(Number));
  let overlap = 0;
  for (const [, s] of spans) {
    overlap = Math.max(overlap, spans.filter(([, s2, e2]) => s2 <= s && s < e2).length);
  }
  return { overlap, outputs: results.map((r) => r.stdout.split(' ')[0]) };
}

test('20 concurrent execs on one connection all succeed, at most 8 channels at a time', async (t) => {
  const conn = await pool().connect(spec());
  const { overlap, outputs } = await maxOverlap(conn, 20);
  t.deepEqual(outputs, Array.from({ length: 20 }, (_, i) => String(i)));
  t.true(overlap <= 8, `overlap ${overlap}`);
  t.true(overlap >= 2, `execs should run in parallel (overlap ${overlap})`);
  t.is(conn.roundTrips, 20);
});

test('maxChannelsPerHost caps concurrent channels', async (t) => {
  const conn = await pool({ maxChannelsPerHost: 2 }).connect(spec());
  const { overlap } = await maxOverlap(conn, 6);
  t.true(overlap <= 2, `overlap ${overlap}`);
});

test('a command past its timeout is killed with its children and rejects naming host and timeout', async (t) => {
  const conn = await pool().connect(spec({ name: 'slowhost' }));
  const marker = `sleep 31.${process.pid}`;
  const started = Date.now();
  const err = await t.throwsAsync(conn.exec(`${marker} & wait`, { timeoutMs: 500 }), { instanceOf: CommandTimeoutError });
  t.true(Date.now() - started < 5000);
  t.regex(err!.message, /slowhost: command timed out after 0\.5 s/);
  // sshd runs on this machine, so its processes are visible here
  // kill(2) returns before the processes are gone: allow a busy machine a moment to finish them off
  const left = () => execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.startsWith(marker));
  for (let i = 0; i < 40 && left().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(left(), [], 'the remote command and its children are gone');
  // the connection is still usable
  t.is((await conn.exec('echo alive')).stdout, 'alive\n');
});

test('the pool default command timeout applies when exec gives none', async (t) => {
  const conn = await pool({ commandTimeoutMs: 300 }).connect(spec());
  await t.throwsAsync(conn.exec('sleep 5'), { instanceOf: CommandTimeoutError, message: /0\.3 s/ });
});

test('onStdout streams output while the command runs', async (t) => {
  const conn = await pool().connect(spec());
  const chunks: Array<{ at: number; text: string }> = [];
  const r = await conn.exec('echo first; sleep 0.5; echo second', {
    onStdout: (text) => chunks.push({ at: Date.now(), text }),
  });
  const done = Date.now();
  t.is(r.stdout, 'first\nsecond\n');
  t.is(chunks.map((c) => c.text).join(''), r.stdout);
  t.true(chunks.length >= 2);
  t.true(done - chunks[0].at >= 300, 'the first line came before the command ended');
});

test('a command killed by a signal reports it', async (t) => {
  const conn = await pool().connect(spec());
  const r = await conn.exec('kill -TERM $$');
  t.is(r.signal, 'SIGTERM');
  t.is(r.code, 128 + 15);
});

test('exec after close rejects with UnreachableError; connect after closeAll too', async (t) => {
  const p = pool();
  const conn = await p.connect(spec());
  await conn.close();
  await t.throwsAsync(conn.exec('true'), { instanceOf: UnreachableError });
  await p.closeAll();
  await t.throwsAsync(p.connect(spec()), { instanceOf: UnreachableError, message: /closed/ });
});

test('a connection closed by lvsplay is reopened by the next connect', async (t) => {
  const p = pool();
  const first = await p.connect(spec({ name: 'reopen' }));
  await first.close();
  const second = await p.connect(spec({ name: 'reopen' }));
  t.not(second, first);
  t.is((await second.exec('echo again')).stdout, 'again\n');
});

test('become as the login user needs no sudo', async (t) => {
  const conn = await pool().connect(spec({ become: true, becomeUser: 'root' }));
  t.is((await conn.exec('id -u')).stdout, '0\n');
});

test('become another user goes through sudo -n (or fails clearly where sudo is missing)', async (t) => {
  const conn = await pool().connect(spec({ name: 'becomer', become: true, becomeUser: 'nobody' }));
  const hasSudo = execFileSync('sh', ['-c', 'command -v sudo || true']).toString().trim() !== '';
  if (hasSudo) {
    const r = await conn.exec('id -un');
    t.is(r.stdout, 'nobody\n');
    t.is(r.code, 0);
    // exec's own become flag overrides the spec's
    t.is((await conn.exec('id -un', { become: false })).stdout, 'root\n');
    // a timed-out command under sudo is killed too
    const marker = `sleep 32.${process.pid}`;
    await t.throwsAsync(conn.exec(`${marker} & wait`, { timeoutMs: 500 }), { instanceOf: CommandTimeoutError });
    const left = () => execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.startsWith(marker));
    for (let i = 0; i < 40 && left().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    t.deepEqual(left(), []);
  } else {
    t.log('sudo is not installed here: checking the error');
    await t.throwsAsync(conn.exec('id -un'), { instanceOf: BecomeError, message: /becomer: .*sudo, which is not installed/ });
  }
});

test('become: missing sudo and a sudo that wants a password give clear errors', async (t) => {
  // A second sshd whose sessions get a PATH with only sh (no sudo), or sh plus a sudo that behaves like sudo -n
  // does when a password is needed (prints sudo's message, exits 1).
  const bin = join(dir, 'nosudo-bin');
  const pwBin = join(dir, 'pwsudo-bin');
  for (const d of [bin, pwBin]) {
    mkdirSync(d, { recursive: true });
    symlinkSync('/bin/sh', join(d, 'sh'));
  }
  writeFileSync(join(pwBin, 'sudo'), '#!/bin/sh\necho "sudo: a password is required" >&2\nexit 1\n');
  chmodSync(join(pwBin, 'sudo'), 0o755);
  for (const [path, expected] of [
    [bin, /not installed/],
    [pwBin, /asks root for a password to become nobody.*NOPASSWD/],
  ] as const) {
    const other = await startSshd({ authorizedKeys: [key.publicLine], extraConfig: [`SetEnv PATH=${path}`] });
    t.teardown(() => other.stop());
    const kh = writeKnownHosts(dir, [other], `kh-${other.port}`);
    const conn = await pool().connect(specFor(other, key, { knownHostsFile: kh, become: true, becomeUser: 'nobody' }));
    await t.throwsAsync(conn.exec('id -un'), { instanceOf: BecomeError, message: expected });
    // without become the same host works
    t.is((await conn.exec('echo plain', { become: false })).stdout, 'plain\n');
  }
});

// Connection.shell: one remote shell for a sequence of scripts (the engine's facts, then changes)

test('a shell runs several scripts in one remote sh, each with its own exact result, one round trip each', async (t) => {
  const conn = await pool().connect(spec());
  const sh = conn.shell!();
  const a = await sh.exec('echo $$; printf "no newline"; echo err >&2; false', { more: true });
  t.is(a.code, 1);
  t.is(a.stderr, 'err\n');
  const [pid, rest] = a.stdout.split('\n');
  t.regex(pid!, /^\d+$/);
  t.is(rest, 'no newline', 'output ends where the script ended, without the end marker');
  const b = await sh.exec(`echo $$; printf '%s\\n' "a'b" 'c"d' '$x\\y'; echo e2 >&2`, { more: true });
  t.is(b.stdout, `${pid}\na'b\nc"d\n$x\\y\n`, 'same shell process, the script verbatim');
  t.is(b.stderr, 'e2\n');
  const c = await sh.exec('echo $$; exit 4');
  t.deepEqual(c, { code: 4, stdout: `${pid}\n`, stderr: '' }, 'the last script: its result is the channel exit');
  sh.release();
  t.is(conn.roundTrips, 3);
});

test('a shell script that does not parse fails with its own error instead of hanging the shell', async (t) => {
  const conn = await pool().connect(spec());
  const sh = conn.shell!();
  const started = Date.now();
  const r = await sh.exec("echo 'unclosed", { more: true, timeoutMs: 10_000 });
  t.not(r.code, 0);
  t.regex(r.stderr, /unterminated|Syntax error|EOF/i);
  t.true(Date.now() - started < 5000);
  // the next script gets a fresh shell
  t.is((await sh.exec('echo next')).stdout, 'next\n');
  sh.release();
});

test('a shell script that exits ends that shell; the next script starts a new one', async (t) => {
  const conn = await pool().connect(spec());
  const sh = conn.shell!();
  const a = await sh.exec('echo $$; exit 5', { more: true });
  t.is(a.code, 5);
  const b = await sh.exec('echo $$', { more: true });
  t.is(b.code, 0);
  t.not(b.stdout, a.stdout, 'another shell process');
  sh.release();
});

test('a shell script past its timeout is killed; the shell goes on in a new process', async (t) => {
  const conn = await pool().connect(spec());
  const sh = conn.shell!();
  const marker = `sleep 32.${process.pid}`;
  await t.throwsAsync(sh.exec(`${marker} & wait`, { more: true, timeoutMs: 400 }), { instanceOf: CommandTimeoutError });
  const left = () => execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.startsWith(marker));
  for (let i = 0; i < 40 && left().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(left(), []);
  t.is((await sh.exec('echo alive', { more: true })).stdout, 'alive\n');
  sh.release();
});

test('a released shell frees its channel: with one channel per host, the next exec is not held up', async (t) => {
  const conn = await pool({ maxChannelsPerHost: 1 }).connect(spec());
  const sh = conn.shell!();
  await sh.exec('true', { more: true });
  const waiting = conn.exec('echo after');
  const early = await Promise.race([waiting.then(() => 'ran'), new Promise((r) => setTimeout(() => r('held'), 500))]);
  t.is(early, 'held', 'the open shell holds the only channel');
  sh.release();
  t.is((await waiting).stdout, 'after\n');
  await t.throwsAsync(sh.exec('true'), { message: /released/ });
});

test('a shell with become runs every script as the become user', async (t) => {
  const conn = await pool().connect(spec({ become: true, becomeUser: 'root' }));
  const sh = conn.shell!();
  const a = await sh.exec('id -un; echo $$', { more: true });
  const b = await sh.exec('id -un; echo $$');
  t.is(a.stdout.split('\n')[0], 'root');
  t.is(b.stdout, a.stdout);
  sh.release();
});
