import test from 'ava';
import { buildBatch, parseBatch } from '../../src/engine/batch-script.ts';
import { LocalConnection } from '../helpers/local-connection.ts';

const conn = new LocalConnection();

test('facts batch: output and exit code of each section, exactly', async (t) => {
  const sections = [{ script: 'printf abc' }, { script: 'printf "x\\ny\\n"' }, { script: 'exit 7' }, { script: 'echo err >&2; echo ok' }, { script: 'cat' }];
  const script = buildBatch(sections, 'n1', { errexit: false, stopOnFailure: false, mergeStderr: false });
  const res = await conn.exec(script);
  const r = parseBatch(res.stdout, 'n1');
  t.deepEqual(
    r.map((x) => [x.output, x.code]),
    [
      ['abc', 0],
      ['x\ny\n', 0],
      ['', 7],
      ['ok\n', 0],
      ['', 0], // stdin is /dev/null: `cat` cannot eat the rest of the script
    ],
  );
});

test('changes batch: set -e inside a section, stop at the first failure, stderr kept', async (t) => {
  const sections = [{ script: 'echo one' }, { script: 'echo boom >&2; false; echo after' }, { script: 'echo three' }];
  const res = await conn.exec(buildBatch(sections, 'n2', { errexit: true, stopOnFailure: true, mergeStderr: true }));
  const r = parseBatch(res.stdout, 'n2');
  t.is(r.length, 2);
  t.is(r[1].code, 1);
  t.is(r[1].output, 'boom\n');
  t.false(res.stdout.includes('three'));
});

test('markers from another run are not confused with ours', (t) => {
  const out = '\n@@other:B:0@@\nzzz\n@@other:E:0:0@@\n\n@@me:B:0@@\nmine\n@@me:E:0:0@@\n';
  t.deepEqual(parseBatch(out, 'me'), [{ index: 0, output: 'mine', code: 0 }]);
});

test('a batch puts the system directories first on PATH once: not again when PATH starts with them, no empty entry', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const sys = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  const pathAfter = (path: string, batches = 1) => {
    const script = Array.from({ length: batches }, () => buildBatch([{ script: 'echo "$PATH"' }], 'n0', { errexit: false, stopOnFailure: false, mergeStderr: false })).join('');
    const r = spawnSync('/bin/sh', ['-s'], { input: script, env: { PATH: path }, encoding: 'utf8' });
    return parseBatch(r.stdout, 'n0').map((x) => x.output.trim());
  };
  t.deepEqual(pathAfter(sys), [sys]);
  t.deepEqual(pathAfter(`${sys}:/opt/bin`), [`${sys}:/opt/bin`]);
  t.deepEqual(pathAfter('/opt/bin:/usr/bin'), [`${sys}:/opt/bin:/usr/bin`]);
  t.deepEqual(pathAfter(''), [sys]);
  // the facts and the changes of a host run in one shell: the second batch adds nothing
  t.deepEqual(pathAfter('/opt/bin', 2), [`${sys}:/opt/bin`, `${sys}:/opt/bin`]);
});
