// Issue 15 point 1, `run` end to end on tier 1: SIGINT or SIGTERM in the middle of a run (the real CLI, real SSH,
// --forks 1 so the hosts go one at a time). The host whose apply script is running finishes it (its three
// changes: never a half-applied change), no other host starts, the recap names them, exit 130; a second signal
// only says what is in progress; a re-run converges and the next one changes nothing.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useLab } from '../helpers/lab.ts';
import { jsonLines, lvsplay } from '../helpers/cli.ts';
import { whenSlowChangeRuns } from '../helpers/slow-apply.ts';

const lab = useLab(test, { topology: 'test/fixtures/lab/four.yaml' });
const PB = 'test/fixtures/playbooks/slow-apply.ts';
const HOSTS = ['rs1', 'rs2', 'rs3', 'rs4'];

async function run(tag: string, during?: (pid: number) => Promise<void>) {
  const json = join(lab().dir, `${tag}.jsonl`);
  const r = await lvsplay(['run', PB, '-i', lab().inventory, '--no-verify', '--forks', '1', '--json', json], { timeoutMs: 120_000, ...(during ? { during } : {}) });
  return { ...r, out: r.stdout + r.stderr, recap: jsonLines(readFileSync(json, 'utf8')).at(-1)! };
}

async function converges(t: import('ava').ExecutionContext) {
  const again = await run('again');
  t.is(again.code, 0, again.out);
  t.is(again.recap.hosts.rs1.changed, 0, 'rs1 had applied everything before the interrupt');
  for (const h of ['rs2', 'rs3', 'rs4']) t.is(again.recap.hosts[h].changed, 3, `${h} converges on the re-run`);
  const third = await run('third');
  t.is(third.code, 0);
  for (const h of HOSTS) t.is(third.recap.hosts[h].changed, 0, `${h} changed on the third run`);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  test.serial(`${sig} while rs1 applies: rs1 finishes its apply script, rs2-rs4 never start, the recap names them, exit 130; a re-run converges`, async (t) => {
    for (const h of HOSTS) await lab().ssh(h, 'rm -rf /etc/lvsplay-test');
    const r = await run(sig, async (pid) => {
      await whenSlowChangeRuns(lab().id, 'rs1');
      process.kill(pid, sig);
      await new Promise((res) => setTimeout(res, 300));
      process.kill(pid, sig); // the second one only reports
    });
    t.is(r.code, 130, r.out);
    t.is(r.signal, null, 'lvsplay exited by itself, not killed by the signal');
    t.regex(r.out, new RegExp(`${sig} received: no new host starts`));
    t.regex(r.out, new RegExp(`${sig} received: waiting for the hosts still applying`));
    t.is(r.recap.interrupted, sig);
    t.is(r.recap.hosts.rs1.changed, 3, 'rs1 finished its three changes');
    t.is(r.recap.hosts.rs1.interrupted, undefined);
    for (const h of ['rs2', 'rs3', 'rs4']) t.is(r.recap.hosts[h].interrupted, 'not started', h);
    t.regex(r.out, /INTERRUPTED by SIG(INT|TERM): not started: rs2, rs3, rs4/);
    t.is((await lab().ssh('rs1', 'cat /etc/lvsplay-test/first /etc/lvsplay-test/third; ls /etc/lvsplay-test/slow-done')).stdout, 'first\nthird\n/etc/lvsplay-test/slow-done\n');
    t.is((await lab().ssh('rs2', 'ls /etc/lvsplay-test 2>&1 | wc -l')).stdout.trim(), '1', 'rs2 untouched');
    await converges(t);
  });
}
