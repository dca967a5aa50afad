/** File descriptors a run holds on the controller, against the open-files limit (src/transport/fd-budget.ts). */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { ROOT } from '../helpers/cli.ts';
import { fdShortfall, openFilesLimit, socketsNeeded } from '../../src/transport/fd-budget.ts';
import type { ConnectionSpec } from '../../src/transport/types.ts';

const bastion = { host: 'bastion', port: 22, user: 'ops' };
const inner = { host: 'inner', port: 22, user: 'ops' };
const host = (name: string, over: Partial<ConnectionSpec> = {}): ConnectionSpec => ({ name, host: name, port: 22, user: 'root', jumps: [], become: false, ...over });
const many = (n: number, over: Partial<ConnectionSpec> = {}) => Array.from({ length: n }, (_, i) => host(`h${i}`, over));

test('one socket per direct host, one per jump connection (hosts behind a jump and inner jumps are channels), none for local', (t) => {
  t.is(socketsNeeded([...many(3), host('me', { connection: 'local' })]), 3);
  t.is(socketsNeeded(many(1000, { jumps: [bastion] })), 5, '1,000 hosts behind one bastion at 200 per connection');
  t.is(socketsNeeded(many(1000, { jumps: [bastion] }), 10), 100);
  t.is(socketsNeeded(many(401, { jumps: [bastion, inner] })), 3, 'a chain: sockets only to its first hop');
  t.is(socketsNeeded([...many(10, { jumps: [bastion], jumpChannels: 4 }), ...many(2, { jumps: [bastion] })]), 4, 'each cap on its own: 3 + 1');
});

test('openFilesLimit reads the soft limit from /proc/self/limits text', (t) => {
  const limits = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                524288               files\n';
  t.is(openFilesLimit(limits), 20000);
  t.is(openFilesLimit('Max open files            unlimited            unlimited            files\n'), Number.POSITIVE_INFINITY);
  t.is(openFilesLimit('nothing here'), undefined);
  t.true((openFilesLimit() ?? 1) > 0, 'this process');
});

test('fdShortfall: fits with the reserve, else says what to do', (t) => {
  t.is(fdShortfall(1000, 20000), undefined);
  t.is(fdShortfall(960, 1024), undefined);
  t.is(fdShortfall(10, undefined), undefined);
  const why = fdShortfall(961, 1024)!;
  t.regex(why, /^this run keeps 961 SSH connections open .* but lvsplay may open only 1024 files \(ulimit -n; 64 are kept for itself\): raise the limit/);
  t.regex(why, /reach the hosts through a jump host/);
});

test('lvsplay run under a low open-files limit (prlimit 100) with 50 direct hosts: exit 5 before any connection, naming the fix', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-fd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const inv = join(dir, 'inv.yaml');
  // never contacted: the check comes before the SSH pool exists
  writeFileSync(inv, `all:\n  hosts:\n${Array.from({ length: 50 }, (_, i) => `    h${i + 1}: {ansible_host: 198.18.1.${i + 1}}\n`).join('')}`);
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const args = ['--nofile=100:100', process.execPath, 'src/bin/lvsplay.js', 'run', 'test/fixtures/playbooks/slow-apply.ts', '-i', inv];
    execFile('prlimit', args, { cwd: ROOT, env: { ...process.env, CI: 'true' }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
  t.is(r.code, 5, r.stdout + r.stderr);
  t.regex(r.stderr, /run: this run keeps 50 SSH connections open .*but lvsplay may open only 100 files .*raise the limit/);
});
