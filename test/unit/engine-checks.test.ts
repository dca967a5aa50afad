/** Playbook-level checks in the prepare phase: run once per playbook, each problem reported once, by its role. */
import test from 'ava';
import { prepare } from '../../src/engine/prepare.ts';
import type { PlaybookCheck, Role } from '../../src/engine/types.ts';
import { ValidationError, ValidationErrors } from '../../src/errors.ts';
import { fakeInventory } from '../helpers/fake-inventory.ts';

function counting(problemsFor: (roles: Role[]) => Array<{ role: Role; message: string; host?: string }>): PlaybookCheck & { runs: number } {
  const c = {
    name: 'test rules',
    runs: 0,
    run(ctx: Parameters<PlaybookCheck['run']>[0]) {
      c.runs++;
      return problemsFor(ctx.plays.flatMap((p) => p.roles)).map(({ role, message, host }) => ({ role, problem: { message, ...(host ? { host } : {}), hint: 'fix it' } }));
    },
  };
  return c;
}

const role = (name: string, checks: readonly PlaybookCheck[]): Role => ({ role: name, steps: () => [], checks });

function errorsOf(f: () => unknown): ValidationError[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ValidationErrors) return e.errors;
    if (e instanceof ValidationError) return [e];
    throw e;
  }
  return [];
}

test('a check several roles bring runs once; its problem is reported once, in the play of its role, prefixed with the role', (t) => {
  const inv = fakeInventory(['h1', 'h2']);
  let a: Role;
  const check = counting(() => [{ role: a, message: 'bad data', host: 'h1' }]);
  a = role('a', [check]);
  const b = role('b', [check]);
  // `a` is used in two plays: still one problem, in the first play that expanded it
  const pb = { name: 't', plays: [{ hosts: 'h2', roles: [b] }, { hosts: 'h1', roles: [a] }, { hosts: 'all', roles: [a, b] }] };
  const errors = errorsOf(() => prepare(pb, inv, {}));
  t.is(check.runs, 1);
  t.deepEqual(errors.map((e) => [e.message, e.location.host, e.location.file, e.hint]), [['a: bad data', 'h1', inv.file, 'fix it']]);
});

test('a problem of a role no play expanded (its hosts all outside --limit) is not reported', (t) => {
  const inv = fakeInventory(['h1', 'h2']);
  let a: Role;
  const check = counting(() => [{ role: a, message: 'about h1' }]);
  a = role('a', [check]);
  const b = role('b', [check]);
  const pb = { name: 't', plays: [{ hosts: 'h1', roles: [a] }, { hosts: 'h2', roles: [b] }] };
  t.deepEqual(errorsOf(() => prepare(pb, inv, { limit: 'h2' })), []);
  t.is(errorsOf(() => prepare(pb, inv, {})).length, 1);
});

test('problems come after the errors of their play and before those of the next play', (t) => {
  const inv = fakeInventory(['h1']);
  let a: Role;
  const check = counting(() => [{ role: a, message: 'from the check' }]);
  a = role('a', [check]);
  const pb = { name: 't', plays: [{ hosts: 'h1', roles: [a] }, { hosts: 'nohost', roles: [] }] };
  t.deepEqual(errorsOf(() => prepare(pb, inv, {})).map((e) => e.message.slice(0, 20)), ['a: from the check', 'hosts pattern "nohos']);
});

test('a check that throws is a validation error naming the check', (t) => {
  const inv = fakeInventory(['h1']);
  const broken: PlaybookCheck = { name: 'broken rules', run: () => { throw new Error('boom'); } };
  const errors = errorsOf(() => prepare({ name: 't', plays: [{ hosts: 'all', roles: [role('a', [broken])] }] }, inv, {}));
  t.deepEqual(errors.map((e) => e.message), ['check broken rules: boom']);
});
