import test from 'ava';
import { UsageError, ValidationError } from '../../src/errors.ts';
import { parseExtraVars } from '../../src/inventory/index.ts';
import { writeTree } from '../fixtures/inventory/tmp-tree.ts';

test('key=value words stay strings; several per argument, shell-quoted', (t) => {
  t.deepEqual(parseExtraVars(['a=1 b=true', `msg="hello world" empty= eq=x=y`], '/'), {
    a: '1',
    b: 'true',
    msg: 'hello world',
    empty: '',
    eq: 'x=y',
  });
});

test('JSON and YAML mapping strings keep their types', (t) => {
  t.deepEqual(parseExtraVars(['{"a": 1, "b": [true, null]}', '{c: yes, d: {e: 2}}'], '/'), {
    a: 1,
    b: [true, null],
    c: true,
    d: { e: 2 },
  });
});

test('@file.yaml and @file.json, relative to cwd; later arguments win key by key', (t) => {
  const root = writeTree(t, { 'vars/x.yaml': 'a: 1\nb: {c: 2}\n', 'y.json': '{"b": {"d": 3}}' });
  t.deepEqual(parseExtraVars(['@vars/x.yaml', '@y.json', 'a=override'], root), { a: 'override', b: { d: 3 } });
});

test('bad arguments are usage errors that say what is wrong', (t) => {
  t.throws(() => parseExtraVars(['a=1 oops'], '/'), { instanceOf: UsageError, message: /"oops" is not key=value/ });
  t.throws(() => parseExtraVars(['=1'], '/'), { instanceOf: UsageError, message: /is not key=value/ });
  t.throws(() => parseExtraVars(['a="1'], '/'), { instanceOf: UsageError, message: /unterminated double quote/ });
  t.throws(() => parseExtraVars(['[1, 2]'], '/'), { instanceOf: UsageError, message: /must be a mapping/ });
  t.throws(() => parseExtraVars(['{a: 1'], '/'), { instanceOf: UsageError, message: /YAML syntax error/ });
  t.throws(() => parseExtraVars(['@/nonexistent/x.yaml'], '/'), { instanceOf: UsageError, message: /file not found/ });
});

test('a bad @file names file and line', (t) => {
  const root = writeTree(t, { 'bad.yaml': 'a: 1\na: 2\n', 'list.yaml': '- 1\n' });
  const err = t.throws(() => parseExtraVars(['@bad.yaml'], root), { instanceOf: ValidationError });
  t.deepEqual([err!.location.file, err!.location.line], ['bad.yaml', 2]);
  const err2 = t.throws(() => parseExtraVars(['@list.yaml'], root), { instanceOf: ValidationError });
  t.deepEqual([err2!.location.file, err2!.location.line], ['list.yaml', 1]);
});

test('empty arguments and empty files add nothing', (t) => {
  const root = writeTree(t, { 'empty.yaml': '# nothing\n' });
  t.deepEqual(parseExtraVars(['', '  ', '@empty.yaml'], root), {});
});
