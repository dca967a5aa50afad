/**
 * atomicWriteScript run by the local /bin/sh (dash on Debian) in a temp directory: content byte for byte, the mode
 * from the umask or chmod, no temp file left, and the mktemp fallback when the PID-named temp file is taken.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicWriteScript } from '../../src/steps/atomic-write.ts';
import { q } from '../../src/shell.ts';

function run(script: string): { code: number; out: string } {
  const r = spawnSync('/bin/sh', ['-s'], { input: `(\nset -e\n${script}\n)\n`, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

function tempDir(t: import('ava').ExecutionContext): string {
  const d = mkdtempSync(join(tmpdir(), 'lvsplay-aw-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const mode = (p: string) => lstatSync(p).mode & 0o7777;
const temps = (d: string) => readdirSync(d).filter((n) => n.includes('.lvsplay.'));

test('text content is written byte for byte with the mode from the umask, in a directory it creates', (t) => {
  const d = tempDir(t);
  const path = join(d, 'sub dir', "it's.conf");
  const content = "quote ' and \"dq\" $HOME `date` \\n back\\slash\n\ttab\r\nno newline at the end: ünïcode ✓";
  const r = run(atomicWriteScript({ path, content, mode: 0o640 }));
  t.is(r.code, 0, r.out);
  t.is(readFileSync(path, 'utf8'), content);
  t.is(mode(path), 0o640);
  t.deepEqual(temps(join(d, 'sub dir')), []);
  t.notRegex(atomicWriteScript({ path, content, mode: 0o640 }), /base64|mktemp -|chmod 0640 "\$lvs_tmp"\n/);
});

test('binary content (NUL bytes, invalid UTF-8) goes through base64 and arrives exact', (t) => {
  const d = tempDir(t);
  const path = join(d, 'blob');
  const content = Buffer.from([0, 1, 2, 255, 254, 0x0a, 0xc3, 0x28, 0]);
  t.regex(atomicWriteScript({ path, content }), /base64 -d/);
  const r = run(atomicWriteScript({ path, content }));
  t.is(r.code, 0, r.out);
  t.deepEqual(readFileSync(path), content);
  t.is(mode(path), 0o644);
});

test('a mode no umask gives (execute, setgid bits) is set with chmod; an empty file is fine', (t) => {
  const d = tempDir(t);
  for (const m of [0o755, 0o2750, 0o600]) {
    const path = join(d, `f${m.toString(8)}`);
    const r = run(atomicWriteScript({ path, content: '', mode: m }));
    t.is(r.code, 0, r.out);
    t.is(mode(path), m, m.toString(8));
    t.is(readFileSync(path, 'utf8'), '');
  }
  t.deepEqual(temps(d), []);
});

test('the PID-named temp file taken (a leftover file, a symlink to /dev/null): mktemp instead, the leftover untouched', (t) => {
  const d = tempDir(t);
  const path = join(d, 'x.conf');
  const prefix = join(d, '.x.conf.lvsplay.');
  // the script's own shell is the outer `sh -s`: plant the leftovers under its $$ before the write
  for (const plant of [`printf old > ${q(prefix)}$$`, `ln -s /dev/null ${q(prefix)}$$`]) {
    const r = run(`${plant}\n${atomicWriteScript({ path, content: 'new\n', mode: 0o640 })}\nls -a ${q(d)}`);
    t.is(r.code, 0, r.out);
    t.is(readFileSync(path, 'utf8'), 'new\n');
    t.is(mode(path), 0o640);
    t.false(lstatSync(path).isSymbolicLink());
    // only the planted leftover remains (the mktemp file was renamed into place)
    const left = temps(d);
    t.is(left.length, 1, left.join(' '));
    rmSync(join(d, left[0]!), { force: true });
  }
});

test('a failing validator leaves the old file and no temp file', (t) => {
  const d = tempDir(t);
  const path = join(d, 'k.conf');
  writeFileSync(path, 'old\n');
  const r = run(atomicWriteScript({ path, content: 'new\n', validate: 'grep -q valid %s' }));
  t.not(r.code, 0);
  t.regex(r.out, /validation failed/);
  t.is(readFileSync(path, 'utf8'), 'old\n');
  t.deepEqual(temps(d), []);
});

test('fromShell content and a symlinked target: the link is replaced by the file, not written through', (t) => {
  const d = tempDir(t);
  const target = join(d, 'real');
  writeFileSync(target, 'keep\n');
  const path = join(d, 'link');
  symlinkSync(target, path);
  const r = run(atomicWriteScript({ path, fromShell: "printf 'from %s\\n' shell" }));
  t.is(r.code, 0, r.out);
  t.is(readFileSync(path, 'utf8'), 'from shell\n');
  t.is(readFileSync(target, 'utf8'), 'keep\n');
});
