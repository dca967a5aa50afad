import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPlays } from '../../src/engine/run.ts';
import { expandPlay, hostInfo } from '../../src/engine/expand.ts';
import type { Play, PlanContext } from '../../src/engine/types.ts';
import { loadInventory } from '../../src/inventory/index.ts';
import { Reporters, type RunEvent } from '../../src/output/events.ts';
import { JsonLinesReporter } from '../../src/output/json-lines.ts';
import { PlainReporter } from '../../src/output/plain.ts';
import { addSecret, clearSecrets, MASK, maskDeep, maskText } from '../../src/secret-values.ts';
import { file } from '../../src/steps/index.ts';
import { prepare } from '../../src/engine/prepare.ts';
import { loadPlaybook } from '../../src/playbook.ts';
import { fakeInventory } from '../helpers/fake-inventory.ts';
import { LocalConnection } from '../helpers/local-connection.ts';
import { lvsplay, ROOT } from '../helpers/cli.ts';
import { writeTree } from '../fixtures/inventory/tmp-tree.ts';
import { PredictedState } from '../../src/engine/predicted-state.ts';

// the secret set is process-wide: one test at a time, cleared after each
test.afterEach.always(() => clearSecrets());

function tmp(t: { teardown(f: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'lvsplay-mask-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test.serial('maskText: every known secret, longest first, each line of a multi-line one; short values are not secrets', (t) => {
  t.is(maskText('pw hunter2'), 'pw hunter2');
  addSecret('hunter2', 'hunter2-long', 'line one\nline two', 'ab', 1234);
  t.is(maskText('a hunter2-long b hunter2 c'), `a ${MASK} b ${MASK} c`);
  t.is(maskText('x line two y'), `x ${MASK} y`);
  t.is(maskText('ab 1234'), `ab ${MASK}`);
  t.deepEqual(maskDeep({ a: ['hunter2'], b: { c: 'ok' }, n: 3 }), { a: [MASK], b: { c: 'ok' }, n: 3 });
});

test.serial('director --check --diff: the keepalived.conf diff the role plans holds auth_pass; plain output and JSON Lines show ********', async (t) => {
  const inv = loadInventory(join(ROOT, 'inventory/lab.yaml'));
  const plays = prepare(await loadPlaybook(join(ROOT, 'playbooks/site.ts')), inv, {});
  const step = plays.flatMap((p) => p.expansions.get('dir1')?.steps ?? []).find((s) => s.step.name === 'file /etc/keepalived/keepalived.conf')!.step;
  // planned against a host without the file: the diff is the whole rendered config
  const plan = step.plan({ host: hostInfo(inv, 'dir1'), fact: (() => ({ exists: false })) as PlanContext['fact'], predict: new PredictedState() });
  const diff = plan.changes.flatMap((c) => (c.diff ? [c.diff] : []));
  t.regex(diff.join(''), /auth_pass lab51/, 'the role renders the VRRP password into the diff');
  const d = tmp(t);
  const plain: string[] = [];
  const reporters = new Reporters([new PlainReporter((s) => plain.push(s), true), new JsonLinesReporter(join(d, 'run.jsonl'))]);
  reporters.event({
    event: 'step', play: 'p', host: 'dir1', step: step.name, kind: 'file', handler: false, status: 'changed',
    changes: plan.changes.map((c) => c.summary), diff, warnings: [], error: 'keepalived -t: bad auth_pass lab52',
  });
  await reporters.close();
  const out = plain.join('');
  const json = readFileSync(join(d, 'run.jsonl'), 'utf8');
  for (const text of [out, json]) {
    t.notRegex(text, /lab51|lab52/);
    t.true(text.includes(`auth_pass ${MASK}`), text);
  }
});

test.serial('a secret step (secret: true / noLog: true) hides its changes, diff and output; others are unchanged', async (t) => {
  const d = tmp(t);
  const play: Play = {
    name: 'p',
    hosts: 'all',
    steps: [
      file(join(d, 'token'), { content: 'not-a-known-secret\n', secret: true }),
      file(join(d, 'other'), { content: 'visible\n', noLog: false }),
      file(join(d, 'third'), { content: 'hidden too\n', noLog: true }),
    ],
  };
  const inv = fakeInventory(['h1']);
  const events: RunEvent[] = [];
  await runPlays([{ play, name: 'p', hosts: ['h1'], batches: [['h1']], expansions: new Map([['h1', expandPlay(play, { host: hostInfo(inv, 'h1'), inventory: inv, playHosts: ['h1'] })]]) }], inv, {
    check: true, diff: true, forks: 1, connect: async () => new LocalConnection(),
    reporter: { event: (e) => events.push(e), close: async () => {} },
  });
  const steps = events.filter((e): e is Extract<RunEvent, { event: 'step' }> => e.event === 'step');
  t.is(steps.length, 3);
  t.deepEqual(steps[0]!.diff, ['(diff hidden: secret step)']);
  t.true(steps[0]!.changes.every((c) => c === '(change hidden: secret step)'));
  t.notRegex(JSON.stringify(steps[0]), /not-a-known-secret/);
  t.regex(JSON.stringify(steps[1]), /visible/);
  t.notRegex(JSON.stringify(steps[2]), /hidden too/);
});

test.serial('CLI: an error message holding a vaulted value prints it masked; inventory --host --render masks secrets', async (t) => {
  const vaulted = readFileSync(join(ROOT, 'test/fixtures/vault/host_vars/web1.yml'), 'utf8').split('dev_secret:')[0]!.replace('lab_secret:', 'ansible_port:');
  const root = writeTree(t, { 'inv.yaml': 'all:\n  hosts:\n    h1:\n      ansible_password: plain-ssh-pass\n', 'host_vars/h1.yml': vaulted });
  const pw = join(ROOT, 'test/fixtures/vault/vault-pass.txt');
  const bad = await lvsplay(['inventory', '-i', join(root, 'inv.yaml'), '--list', '--vault-password-file', pw]);
  t.is(bad.code, 4, bad.stderr);
  t.regex(bad.stderr, /ansible_port must be .*"\*\*\*\*\*\*\*\*"/);
  t.notRegex(bad.stderr + bad.stdout, /S3cret-vrrp/);

  const ok = writeTree(t, { 'inv.yaml': 'all:\n  hosts:\n    h1:\n      ansible_password: plain-ssh-pass\n', 'host_vars/h1.yml': vaulted.replace('ansible_port:', 'app_secret:') });
  const host = await lvsplay(['inventory', '-i', join(ok, 'inv.yaml'), '--host', 'h1', '--render', '--vault-password-file', pw]);
  t.is(host.code, 0, host.stderr);
  t.deepEqual(JSON.parse(host.stdout), { ansible_password: MASK, db_user: 'app', app_secret: MASK });
  const list = await lvsplay(['inventory', '-i', join(ok, 'inv.yaml'), '--list']); // no password needed: nothing decrypted
  t.is(list.code, 0, list.stderr);
  t.notRegex(list.stdout, /plain-ssh-pass/);
  t.regex(list.stdout, /"__ansible_vault": "\$ANSIBLE_VAULT;1\.1;AES256/);
});
