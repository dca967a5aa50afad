/** The sh tagged template: every value one word, arrays as words, raw() as is; checked against a real sh. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { q, raw, sh } from '../../src/shell.ts';
import { PredictedState } from '../../src/engine/predicted-state.ts';
import { persistSteps } from '../../roles/lib/steps.ts';
import { ValidationError } from '../../src/errors.ts';

const ODD = ['plain', '', 'two words', `it's`, '"dq"', '$HOME', '`id`', '$(id)', '*', 'a;b', 'back\\slash', 'new\nline', '-n', ' lead', 'trail '];

/** The words a real sh sees: the command prints each argument on its own NUL-terminated line. */
function wordsOf(script: string, shell = ['sh']): string[] {
  const r = spawnSync(shell[0]!, [...shell.slice(1), '-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script}: ${r.stderr}`);
  return r.stdout.split('\0').slice(0, -1);
}

test('q leaves safe words bare and single-quotes the rest', (t) => {
  t.is(q('/etc/keepalived/keepalived.conf'), '/etc/keepalived/keepalived.conf');
  t.is(q(80), '80');
  t.is(q(''), "''");
  t.is(q('a b'), "'a b'");
  t.is(q(`it's`), `'it'\\''s'`);
});

test('sh quotes every value, spreads arrays into words, inserts raw() as is', (t) => {
  t.is(sh`ip link set dev ${'eth0'} up`, 'ip link set dev eth0 up');
  t.is(sh`rm -f ${'/srv/my dir/x'}`, "rm -f '/srv/my dir/x'");
  t.is(sh`ipvsadm -a ${['-t', '[fd00::1]:80']} -w ${1}`, "ipvsadm -a -t '[fd00::1]:80' -w 1");
  t.is(sh`pkg ${[]} end`, 'pkg  end', 'an empty array inserts nothing');
  t.is(sh`if ${raw('true && :')}; then echo ${'$x'}; fi`, "if true && :; then echo '$x'; fi");
});

for (const shell of [['sh'], ['busybox', 'sh']]) {
  test(`a real ${shell.join(' ')} sees each value as exactly one word`, (t) => {
    t.deepEqual(wordsOf(sh`printf '%s\\0' ${ODD}`, shell), ODD);
    for (const v of ODD) t.deepEqual(wordsOf(sh`printf '%s\\0' ${v}`, shell), [v]);
    // nested: an sh-built command passed as one argument to sh -c keeps its words
    t.deepEqual(wordsOf(sh`sh -c ${sh`printf '%s\\0' ${ODD}`}`, shell), ODD);
  });
}

test('systemd boot unit: commands parsed into words and quoted for ExecStart; shell code refused', (t) => {
  const unit = (cmds: string[]) => {
    const step = persistSteps('realserver-dr', 'systemd', cmds)[0]!;
    // the file step's content is only visible in its plan: the change script's content line, run by sh to stdout
    const plan = step.plan({ host: { name: 'h', vars: {}, groups: [] }, predict: new PredictedState(), fact: () => ({ exists: false }) as never });
    const script = plan.changes[0]!.script;
    const at = script.indexOf('\nprintf ');
    const line = script.slice(at + 1, script.indexOf(' > "$lvs_tmp"', at + 1));
    const content = spawnSync('/bin/sh', ['-c', line], { encoding: 'utf8' }).stdout;
    return content.split('\n').filter((l) => l.startsWith('ExecStart='));
  };
  t.deepEqual(unit([sh`ip addr replace ${'198.18.0.10/32'} dev lo`]), ["ExecStart=/bin/sh -c 'ip addr replace 198.18.0.10/32 dev lo'"]);
  // a quoted word survives (it used to lose its quotes); systemd's own $ and % are doubled, \ and ' escaped
  t.deepEqual(unit([sh`ip addr replace ${'198.18.0.10/32'} dev lo label ${"lo:it's 5%"}`]), ["ExecStart=/bin/sh -c 'ip addr replace 198.18.0.10/32 dev lo label \\'lo:it\\'\\\\\\'\\'s 5%%\\''"]);
  t.deepEqual(unit([sh`echo ${'$HOME'}`]), ["ExecStart=/bin/sh -c 'echo \\'$$HOME\\''"]);
  const e = t.throws(() => unit(['ip addr add $(hostname -i) dev lo']), { instanceOf: ValidationError });
  t.regex(e!.message, /realserver-dr: boot command .* cannot be a systemd ExecStart line: .*\$/);
});
