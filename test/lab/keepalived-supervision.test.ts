// Issue 15 point 7 on tier 1: on a host running systemd (lab_init: systemd), the roles' keepalived steps install a
// Restart=always drop-in; a keepalived killed with SIGKILL is started again by systemd; a second run changes nothing.
import test from 'ava';
import { useLab } from '../helpers/lab.ts';
import { lvsplay } from '../helpers/cli.ts';

const lab = useLab(test, { topology: 'test/fixtures/lab/systemd.yaml' });
const PB = 'test/fixtures/playbooks/keepalived-supervised.ts';
const show = async () => (await lab().ssh('sdhost', 'systemctl show -p ActiveState -p MainPID -p Restart keepalived')).stdout;

test.serial('a SIGKILLed keepalived is started again by systemd (drop-in Restart=always); the second run changes nothing', async (t) => {
  const first = await lvsplay(['run', PB, '-i', lab().inventory, '--no-verify']);
  t.is(first.code, 0, first.stdout + first.stderr);
  t.regex(first.stdout, /create \/etc\/systemd\/system\/keepalived\.service\.d\/lvsplay-restart\.conf[\s\S]*systemctl daemon-reload/);
  const before = await show();
  t.regex(before, /Restart=always/);
  t.regex(before, /ActiveState=active/);
  const pid = Number(/MainPID=(\d+)/.exec(before)![1]);
  t.true(pid > 1);
  await lab().ssh('sdhost', `kill -KILL ${pid}`);
  const t0 = Date.now();
  let now = '';
  while (Date.now() - t0 < 20_000) {
    now = await show();
    const p = Number(/MainPID=(\d+)/.exec(now)?.[1] ?? 0);
    if (p > 1 && p !== pid && /ActiveState=active/.test(now)) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  t.regex(now, /ActiveState=active/);
  t.not(Number(/MainPID=(\d+)/.exec(now)![1]), pid, `not restarted within 20 s: ${now}`);
  t.log(`keepalived back (new MainPID) ${Date.now() - t0} ms after the SIGKILL`);
  const second = await lvsplay(['run', PB, '-i', lab().inventory, '--no-verify', '--json', `${lab().dir}/second.jsonl`]);
  t.is(second.code, 0);
  t.notRegex(second.stdout, /changed:/);
});
