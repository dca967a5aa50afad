import test from 'ava';
import { createHmac, randomBytes } from 'node:crypto';
import {
  checkHostKey,
  fingerprintSha256,
  formatKnownHostsLine,
  hashHostName,
  hostForm,
  hostsMatch,
  keyTypeOfBlob,
  knownKeyTypes,
  parseKnownHosts,
} from '../../src/transport/known-hosts.ts';

/** An SSH public key blob: string type, then opaque bytes (enough for the parser, which never decodes keys). */
function blob(type: string, seed = randomBytes(32)): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  const klen = Buffer.alloc(4);
  klen.writeUInt32BE(seed.length);
  return Buffer.concat([len, t, klen, seed]);
}
const b64 = (b: Buffer) => b.toString('base64');

const ed1 = blob('ssh-ed25519');
const ed2 = blob('ssh-ed25519');
const ec1 = blob('ecdsa-sha2-nistp256');

test('hostForm: bare name for port 22, [host]:port otherwise, lower-cased', (t) => {
  t.is(hostForm('Web1.Example', 22), 'web1.example');
  t.is(hostForm('10.0.0.1', 2222), '[10.0.0.1]:2222');
});

test('parses plain, comma-list, marker and comment lines, with line numbers', (t) => {
  const text = [
    '# comment',
    '',
    `web1,10.0.0.1 ssh-ed25519 ${b64(ed1)} root@web1`,
    `[10.0.0.2]:2222 ecdsa-sha2-nistp256 ${b64(ec1)}`,
    `@revoked * ssh-ed25519 ${b64(ed2)}`,
    `@cert-authority *.example ssh-ed25519 ${b64(ed1)}`,
  ].join('\n');
  const { entries, invalid } = parseKnownHosts(text);
  t.deepEqual(invalid, []);
  t.is(entries.length, 4);
  t.deepEqual(
    entries.map((e) => [e.line, e.marker, e.keyType]),
    [
      [3, undefined, 'ssh-ed25519'],
      [4, undefined, 'ecdsa-sha2-nistp256'],
      [5, 'revoked', 'ssh-ed25519'],
      [6, 'cert-authority', 'ssh-ed25519'],
    ],
  );
  t.deepEqual(entries[0].hosts, { kind: 'patterns', patterns: ['web1', '10.0.0.1'] });
  t.true(entries[0].key.equals(ed1));
});

test('reports malformed lines and keeps the good ones', (t) => {
  const text = [
    'onlyhost',
    `web1 ssh-ed25519 not*base64`,
    `web1 ssh-rsa ${b64(ed1)}`, // type field disagrees with the blob
    `|1|bad|hash ssh-ed25519 ${b64(ed1)}`,
    `@weird web1 ssh-ed25519 ${b64(ed1)}`,
    `web2 ssh-ed25519 ${b64(ed1)}`,
  ].join('\r\n');
  const { entries, invalid } = parseKnownHosts(text);
  t.deepEqual(
    invalid.map((i) => i.line),
    [1, 2, 3, 4, 5],
  );
  t.is(entries.length, 1);
  t.is(entries[0].line, 6);
});

test('wildcards, negation and case-insensitivity in host patterns', (t) => {
  const p = (s: string) => ({ kind: 'patterns' as const, patterns: s.split(',') });
  t.true(hostsMatch(p('*.example.com'), 'web1.example.com'));
  t.true(hostsMatch(p('WEB?.example.com'), 'web7.example.com'));
  t.false(hostsMatch(p('web?.example.com'), 'web10.example.com'));
  t.false(hostsMatch(p('*.example.com,!db.example.com'), 'db.example.com'));
  t.true(hostsMatch(p('*.example.com,!db.example.com'), 'web.example.com'));
  t.false(hostsMatch(p('!web1'), 'web1'), 'a negation alone never matches');
  t.true(hostsMatch(p('[10.0.0.1]:2222'), '[10.0.0.1]:2222'));
  t.false(hostsMatch(p('10.0.0.1'), '[10.0.0.1]:2222'), 'a non-22 port needs the [host]:port form');
  t.true(hostsMatch(p('[10.0.0.*]:2222'), '[10.0.0.9]:2222'));
  t.false(hostsMatch(p('a.b'), 'axb'), 'dots are literal');
});

test('hashed names match exactly the hashed form (HMAC-SHA1 with the salt)', (t) => {
  const salt = randomBytes(20);
  const form = '[127.0.0.1]:2222';
  const line = `${hashHostName(form, salt)} ssh-ed25519 ${b64(ed1)}`;
  const expected = createHmac('sha1', salt).update(form).digest('base64');
  t.true(line.startsWith(`|1|${salt.toString('base64')}|${expected} `));
  const { entries } = parseKnownHosts(line);
  t.is(entries.length, 1);
  t.true(hostsMatch(entries[0].hosts, form));
  t.false(hostsMatch(entries[0].hosts, '127.0.0.1'));
  t.deepEqual(checkHostKey(entries, form, ed1), { status: 'known', line: 1 });
});

test('checkHostKey: known, changed (same type, names the line), unknown with other types', (t) => {
  const text = [`web1 ssh-ed25519 ${b64(ed1)}`, `web2 ecdsa-sha2-nistp256 ${b64(ec1)}`].join('\n');
  const { entries } = parseKnownHosts(text);
  t.deepEqual(checkHostKey(entries, 'web1', ed1), { status: 'known', line: 1 });
  t.deepEqual(checkHostKey(entries, 'web1', ed2), { status: 'changed', line: 1, keyType: 'ssh-ed25519' });
  t.deepEqual(checkHostKey(entries, 'web2', ed1), { status: 'unknown', otherTypes: ['ecdsa-sha2-nistp256'] });
  t.deepEqual(checkHostKey(entries, 'web3', ed1), { status: 'unknown', otherTypes: [] });
});

test('checkHostKey: a matching line wins over an older line with another key of the same type', (t) => {
  const { entries } = parseKnownHosts([`web1 ssh-ed25519 ${b64(ed2)}`, `web1 ssh-ed25519 ${b64(ed1)}`].join('\n'));
  t.deepEqual(checkHostKey(entries, 'web1', ed1), { status: 'known', line: 2 });
});

test('checkHostKey: @revoked refuses the key even when another line accepts it', (t) => {
  const { entries } = parseKnownHosts([`web1 ssh-ed25519 ${b64(ed1)}`, `@revoked * ssh-ed25519 ${b64(ed1)}`].join('\n'));
  t.deepEqual(checkHostKey(entries, 'web1', ed1), { status: 'revoked', line: 2 });
  // a revoked line for other hosts does not apply
  const other = parseKnownHosts([`web1 ssh-ed25519 ${b64(ed1)}`, `@revoked web9 ssh-ed25519 ${b64(ed1)}`].join('\n'));
  t.deepEqual(checkHostKey(other.entries, 'web1', ed1), { status: 'known', line: 1 });
});

test('checkHostKey ignores @cert-authority lines', (t) => {
  const { entries } = parseKnownHosts(`@cert-authority web1 ssh-ed25519 ${b64(ed1)}`);
  t.deepEqual(checkHostKey(entries, 'web1', ed1), { status: 'unknown', otherTypes: [] });
});

test('knownKeyTypes lists the types on record for a host, in file order, without revoked ones', (t) => {
  const { entries } = parseKnownHosts(
    [
      `web1 ecdsa-sha2-nistp256 ${b64(ec1)}`,
      `@revoked web1 ssh-rsa ${b64(blob('ssh-rsa'))}`,
      `web1,web2 ssh-ed25519 ${b64(ed1)}`,
      `web2 ssh-ed25519 ${b64(ed2)}`,
    ].join('\n'),
  );
  t.deepEqual(knownKeyTypes(entries, 'web1'), ['ecdsa-sha2-nistp256', 'ssh-ed25519']);
  t.deepEqual(knownKeyTypes(entries, 'web2'), ['ssh-ed25519']);
  t.deepEqual(knownKeyTypes(entries, 'web3'), []);
});

test('formatKnownHostsLine round-trips through the parser, plain and hashed', (t) => {
  for (const hash of [false, true]) {
    const line = formatKnownHostsLine('[127.0.0.1]:2200', ed1, { hash });
    const { entries, invalid } = parseKnownHosts(line);
    t.deepEqual(invalid, []);
    t.deepEqual(checkHostKey(entries, '[127.0.0.1]:2200', ed1), { status: 'known', line: 1 });
  }
  t.throws(() => formatKnownHostsLine('x', Buffer.from('junk')));
});

test('keyTypeOfBlob and fingerprintSha256', (t) => {
  t.is(keyTypeOfBlob(ed1), 'ssh-ed25519');
  t.is(keyTypeOfBlob(Buffer.from([0, 0])), undefined);
  t.is(keyTypeOfBlob(Buffer.from([0, 0, 1, 0, 65])), undefined);
  t.regex(fingerprintSha256(ed1), /^SHA256:[A-Za-z0-9+/]{43}$/);
});
