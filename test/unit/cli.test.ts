import test from 'ava';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lvsplay, jsonLines } from '../helpers/cli.ts';

const F = 'test/fixtures/cli';

test('--version and --help exit 0', async (t) => {
  const v = await lvsplay(['--version']);
  t.is(v.code, 0);
  t.regex(v.stdout, /^lvsplay \d+\.\d+\.\d+/);
  const h = await lvsplay(['run', '--help']);
  t.is(h.code, 0);
  t.regex(h.stdout, /--limit PATTERN/);
});

test('bad options exit 5 with the reason', async (t) => {
  for (const [args, re] of [
    [['bogus'], /unknown command "bogus"/],
    [['run', `${F}/noop.ts`], /-i INVENTORY is required/],
    [['run', `${F}/noop.ts`, '-i', `${F}/inv.yaml`, '--forks', 'x'], /--forks must be a positive integer/],
    [['run', `${F}/noop.ts`, '-i', `${F}/inv.yaml`, '--frobnicate'], /Unknown option '--frobnicate'/],
    [['run', '-i', `${F}/inv.yaml`], /expected exactly one PLAYBOOK/],
  ] as const) {
    const r = await lvsplay([...args]);
    t.is(r.code, 5, args.join(' '));
    t.regex(r.stderr, re);
  }
});

test('invalid inventory exits 4 naming file and line', async (t) => {
  const r = await lvsplay(['run', `${F}/noop.ts`, '-i', `${F}/bad-inv.yaml`]);
  t.is(r.code, 4);
  t.regex(r.stderr, /bad-inv\.yaml:7: duplicate key "ansible_port"/);
  t.regex(r.stderr, /Nothing was changed on any host/);
});

test('invalid playbooks exit 4 naming the file and the problem', async (t) => {
  const syntax = await lvsplay(['run', `${F}/syntax-error.broken.ts`, '-i', `${F}/inv.yaml`]);
  t.is(syntax.code, 4);
  t.regex(syntax.stderr, /syntax-error\.broken\.ts.*:3:\d+/s);
  const typo = await lvsplay(['run', `${F}/typo.ts`, '-i', `${F}/inv.yaml`]);
  t.is(typo.code, 4);
  t.regex(typo.stderr, /Unrecognized key: "host"/);
  const group = await lvsplay(['run', `${F}/unknown-group.ts`, '-i', `${F}/inv.yaml`]);
  t.is(group.code, 4);
  t.regex(group.stderr, /"webz" matches no host or group/);
  const missing = await lvsplay(['run', `${F}/nope.ts`, '-i', `${F}/inv.yaml`]);
  t.is(missing.code, 4);
  t.regex(missing.stderr, /playbook not found/);
});

test('unreachable hosts exit 3, recorded in the JSON recap', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'run.jsonl');
  const r = await lvsplay(['run', `${F}/noop.ts`, '-i', `${F}/inv.yaml`, '--json', json]);
  t.is(r.code, 3);
  t.regex(r.stdout, /unreachable: \[w1\] connection refused by 127\.0\.0\.1:1/);
  const events = jsonLines(readFileSync(json, 'utf8'));
  const recap = events.at(-1)!;
  t.is(recap.event, 'recap');
  t.deepEqual(recap.hosts.w1, { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: true, roundTrips: 0 });
  t.deepEqual(recap.verify, []);
});

test('--limit that matches nothing is a usage error', async (t) => {
  const r = await lvsplay(['run', `${F}/noop.ts`, '-i', `${F}/inv.yaml`, '--limit', 'nothing*']);
  t.is(r.code, 5);
  t.regex(r.stderr, /--limit "nothing\*" matches no host/);
});
