import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '../../src/errors.ts';
import { unifiedDiff } from '../../src/steps/diff.ts';
import { file, sysctl } from '../../src/steps/index.ts';

test('unifiedDiff: equal texts, hunks with context, applies with patch(1)', (t) => {
  t.is(unifiedDiff('a\n', 'a\n'), '');
  t.is(unifiedDiff('', 'x\n', '/dev/null', 'f'), '--- /dev/null\n+++ f\n@@ -0,0 +1 @@\n+x\n');
  t.is(unifiedDiff('x\n', '', 'f', 'f'), '--- f\n+++ f\n@@ -1 +0,0 @@\n-x\n');
  const a = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n') + '\n';
  const b = a.replace('l2\n', 'L2\n').replace('l17\n', '');
  t.is(unifiedDiff(a, b, 'a', 'b'), '--- a\n+++ b\n@@ -1,6 +1,6 @@\n l0\n l1\n-l2\n+L2\n l3\n l4\n l5\n@@ -15,6 +15,5 @@\n l14\n l15\n l16\n-l17\n l18\n l19\n');
  // (identical to GNU diff -u)
  // randomised: the diff must turn a into b with patch(1)
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-diff-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const text = () => Array.from({ length: Math.floor(rnd() * 12) }, () => `w${Math.floor(rnd() * 5)}`).join('\n') + '\n';
  for (let i = 0; i < 40; i++) {
    const x = text();
    const y = text();
    if (x === y) continue;
    writeFileSync(join(dir, 'f'), x);
    writeFileSync(join(dir, 'p'), unifiedDiff(x, y, 'f', 'f'));
    const r = spawnSync('patch', ['-s', join(dir, 'f'), join(dir, 'p')], { encoding: 'utf8' });
    t.is(r.status, 0, r.stderr + r.stdout);
    t.is(spawnSync('cat', [join(dir, 'f')], { encoding: 'utf8' }).stdout, y);
  }
});

test('validation errors carry the field and a fix', (t) => {
  const e = t.throws(() => file('/etc/x', { content: 'x', onwer: 'root' } as never), { instanceOf: ValidationError })!;
  t.is(e.location.field, 'onwer');
  t.regex(e.hint!, /owner/);
  const e2 = t.throws(() => sysctl('90-lvs', { 'net.ipv4.ip_forward': 1 }, { notify: 3 } as never), { instanceOf: ValidationError })!;
  t.is(e2.location.field, 'notify');
  t.regex(e2.message, /^sysctl \/etc\/sysctl\.d\/90-lvs\.conf: option "notify"/);
});
