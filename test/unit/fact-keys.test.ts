import test from 'ava';
import { factKey } from '../../src/engine/fact-key.ts';
import { collectFacts } from '../../src/engine/plan.ts';
import type { Fact, Step } from '../../src/engine/types.ts';
import {
  commandExitFact,
  fileFact,
  ipsetFact,
  iptablesRuleFact,
  iptablesTableFact,
  kernelModuleFact,
  packagesFact,
  pathExistsFact,
  serviceFact,
  sysctlFact,
} from '../../src/facts/index.ts';

test('two service facts that differ only in the process name get different keys (and commands)', (t) => {
  const a = serviceFact('keepalived.service', '/run/keepalived.pid', 'keepalived');
  const b = serviceFact('keepalived.service', '/run/keepalived.pid', 'python3');
  t.not(a.command, b.command);
  t.not(a.key, b.key);
});

// every fact built from arguments, with variants that differ in one argument each: a different command must come
// with a different key (facts sharing a key share one gathered value), and the same arguments with the same key
const variants: Array<[string, Array<() => Fact>]> = [
  ['service', [() => serviceFact('a.service', '/run/a.pid', 'a'), () => serviceFact('b.service', '/run/a.pid', 'a'), () => serviceFact('a.service', '/run/b.pid', 'a'), () => serviceFact('a.service', '/run/a.pid', 'b')]],
  ['file', [() => fileFact('/etc/a'), () => fileFact('/etc/a:b'), () => fileFact('/etc/a%3Ab')]],
  ['exists', [() => pathExistsFact('/run/a'), () => pathExistsFact('/run/b')]],
  ['exit', [() => commandExitFact('test -d /a'), () => commandExitFact('test -d /a:b'), () => commandExitFact('test -d /a%3Ab')]],
  ['kmod', [() => kernelModuleFact('ip_vs'), () => kernelModuleFact('ip_vs_rr')]],
  ['ipset', [() => ipsetFact('svc'), () => ipsetFact('svc2')]],
  ['iptables table', [() => iptablesTableFact('nat'), () => iptablesTableFact('filter'), () => iptablesTableFact('nat', 6)]],
  [
    'iptables rule',
    [
      () => iptablesRuleFact('nat', 'A', "-j 'B'"),
      () => iptablesRuleFact('nat', 'A:-j', "'B'"),
      () => iptablesRuleFact('filter', 'A', "-j 'B'"),
      () => iptablesRuleFact('nat', 'A', "-j 'B'", 6),
    ],
  ],
  ['pkg', [() => packagesFact(['a', 'b']), () => packagesFact(['a,b']), () => packagesFact(['a'])]],
  ['sysctl', [() => sysctlFact(['net.a', 'net.b']), () => sysctlFact(['net.a'])]],
];

for (const [kind, makers] of variants) {
  test(`${kind} facts: different arguments, different keys; the same arguments, the same key`, (t) => {
    const facts = makers.map((m) => m());
    t.is(new Set(facts.map((f) => f.command)).size, facts.length, 'the variants differ in their command');
    t.is(new Set(facts.map((f) => f.key)).size, facts.length, `keys: ${facts.map((f) => f.key).join(' | ')}`);
    t.deepEqual(makers.map((m) => m().key), facts.map((f) => f.key));
  });
}

test('factKey: escaped parts never run together; common keys stay readable', (t) => {
  t.not(factKey('x', 'a:b', 'c'), factKey('x', 'a', 'b:c'));
  t.not(factKey('x', 'a%3Ab', 'c'), factKey('x', 'a:b', 'c'));
  t.not(factKey('x', ['a,b']), factKey('x', ['a', 'b']));
  t.not(factKey('x', ['a:b'], 'c'), factKey('x', ['a'], 'b:c'));
  t.is(factKey('x', 'a', 'b:c%'), 'x:a:b:c%', 'the last part is kept as it is');
  t.is(factKey('file', '/etc/keepalived/keepalived.conf'), 'file:/etc/keepalived/keepalived.conf');
  t.is(factKey('pkg', ['ipvsadm', 'keepalived']), 'pkg:ipvsadm,keepalived');
});

test('the engine refuses two facts that share a key but run different commands', (t) => {
  const fact = (command: string): Fact => ({ key: 'k', command, parse: () => null });
  const step = (f: Fact): Step => ({ kind: 'x', name: 'x', facts: [f], plan: () => ({ changes: [] }) });
  t.is(collectFacts([step(fact('true')), step(fact('true'))]).length, 1);
  t.throws(() => collectFacts([step(fact('true')), step(fact('false'))]), { message: /same key k run different commands/ });
});
