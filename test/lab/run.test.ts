// Issue 2 end to end: the real CLI over real SSH (through the lab's jump host) against real lab hosts.
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { useLab } from '../helpers/lab.ts';
import { lvsplay, jsonLines } from '../helpers/cli.ts';

const lab = useLab(test, { topology: 'test/fixtures/lab/pair.yaml' });
const PB = 'test/fixtures/playbooks/basic.ts';

/** A copy of the lab inventory with an edit applied (for broken / extended inventories). */
function variant(name: string, edit: (doc: ReturnType<typeof parseDocument>) => void): string {
  const doc = parseDocument(readFileSync(lab().inventory, 'utf8'));
  edit(doc);
  const file = join(lab().dir, `${name}.yaml`);
  writeFileSync(file, doc.toString());
  return file;
}

async function hostState(host: string): Promise<string> {
  const r = await lab().ssh(host, 'cat /etc/lvsplay-test/motd 2>/dev/null; cat /etc/lvsplay-test/handler.log 2>/dev/null; cat /etc/sysctl.d/90-lvsplay-test.conf 2>/dev/null; sysctl -n net.ipv4.ip_forward; cat /etc/rc.local 2>/dev/null; echo end');
  return r.stdout;
}

function recapOf(file: string) {
  const ev = jsonLines(readFileSync(file, 'utf8'));
  const recap = ev.at(-1)!;
  if (recap.event !== 'recap') throw new Error('the last JSON line is not the recap');
  return { ev, hosts: recap.hosts as Record<string, { ok: number; changed: number; failed: number; unreachable: boolean; roundTrips: number }> };
}

test.serial('a bad inventory exits 4 and touches no host', async (t) => {
  const before = await hostState('alpha');
  const bad = variant('bad', (d) => d.setIn(['all', 'hosts', 'beta', 'ansible_port'], 'twenty-two'));
  const r = await lvsplay(['run', PB, '-i', bad]);
  t.is(r.code, 4, r.stderr);
  t.regex(r.stderr, /bad\.yaml:\d+.*ansible_port/s);
  t.is(await hostState('alpha'), before);
});

test.serial('--check on fresh hosts plans changes and changes nothing', async (t) => {
  const before = await hostState('alpha');
  const json = join(lab().dir, 'check.jsonl');
  const r = await lvsplay(['run', PB, '-i', lab().inventory, '--check', '--diff', '--json', json]);
  t.is(r.code, 0, r.stdout + r.stderr);
  const { hosts } = recapOf(json);
  t.true(hosts.alpha.changed >= 3, JSON.stringify(hosts));
  t.regex(r.stdout, /\+managed by lvsplay for alpha/, '--diff shows the new content');
  t.is(await hostState('alpha'), before, '--check changed a host');
});

test.serial('first run changes, second run reports 0 changed, --check then changes nothing', async (t) => {
  const j1 = join(lab().dir, 'first.jsonl');
  const first = await lvsplay(['run', PB, '-i', lab().inventory, '--json', j1]);
  t.is(first.code, 0, first.stdout + first.stderr);
  const r1 = recapOf(j1).hosts;
  for (const h of ['alpha', 'beta']) {
    t.true(r1[h].changed >= 4, `${h}: ${JSON.stringify(r1[h])}`); // 3 steps + handler
    t.is(r1[h].roundTrips, 2, 'one exec for facts, one for all changes and handlers');
  }
  const state = await hostState('alpha');
  t.regex(state, /managed by lvsplay for alpha\nreloaded\n/);
  t.regex(state, /net\.ipv4\.ip_forward = 1/);
  t.regex(state, /^1$/m);
  t.regex(state, /#!\/bin\/sh[\s\S]*ip addr add 198\.18\.0\.200\/32 dev lo/);
  const mode = await lab().ssh('alpha', 'stat -c %a /etc/lvsplay-test/motd; test -x /etc/rc.local && echo exec');
  t.is(mode.stdout, '640\nexec\n');
  t.regex(await hostState('beta'), /managed by lvsplay for beta/);

  const j2 = join(lab().dir, 'second.jsonl');
  const second = await lvsplay(['run', PB, '-i', lab().inventory, '--json', j2]);
  t.is(second.code, 0);
  const r2 = recapOf(j2).hosts;
  for (const h of ['alpha', 'beta']) {
    t.is(r2[h].changed, 0, `${h} changed on the second run: ${second.stdout}`);
    t.is(r2[h].roundTrips, 1, 'nothing to change: facts only');
  }
  t.is(await hostState('alpha'), state, 'handler did not run again');

  const j3 = join(lab().dir, 'check2.jsonl');
  const check = await lvsplay(['run', PB, '-i', lab().inventory, '--check', '--json', j3]);
  t.is(check.code, 0);
  t.is(recapOf(j3).hosts.alpha.changed, 0);
});

test.serial('drift is repaired on one host only; --limit restricts the run', async (t) => {
  await lab().ssh('beta', 'echo drifted > /etc/lvsplay-test/motd; sysctl -qw net.ipv4.ip_forward=0');
  const j = join(lab().dir, 'limit.jsonl');
  const r = await lvsplay(['run', PB, '-i', lab().inventory, '--limit', 'alpha', '--json', j]);
  t.is(r.code, 0);
  t.deepEqual(Object.keys(recapOf(j).hosts), ['alpha']);
  t.regex(await hostState('beta'), /^drifted$/m);
  const j2 = join(lab().dir, 'repair.jsonl');
  const r2 = await lvsplay(['run', PB, '-i', lab().inventory, '--json', j2]);
  t.is(r2.code, 0);
  const hosts = recapOf(j2).hosts;
  t.is(hosts.alpha.changed, 0);
  t.true(hosts.beta.changed >= 2, 'file and sysctl repaired, handler notified');
  t.regex(await hostState('beta'), /managed by lvsplay for beta\nreloaded\nreloaded\n/);
});

test.serial('an unreachable host yields exit 3 and the others complete', async (t) => {
  const inv = variant('ghost', (d) => {
    d.setIn(['all', 'hosts', 'ghost'], d.createNode({ ansible_host: '198.19.0.99', ansible_timeout: 5 }));
  });
  await lab().ssh('alpha', 'rm -rf /etc/lvsplay-test');
  const j = join(lab().dir, 'ghost.jsonl');
  const r = await lvsplay(['run', PB, '-i', inv, '--json', j]);
  t.is(r.code, 3, r.stdout + r.stderr);
  const hosts = recapOf(j).hosts;
  t.true(hosts.ghost.unreachable);
  t.true(hosts.alpha.changed >= 1);
  t.regex(r.stdout, /unreachable: \[ghost\]/);
  t.regex(await hostState('alpha'), /managed by lvsplay for alpha/);
});
