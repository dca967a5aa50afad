// Issue 15 point 6 on tier 1, the real CLI: a change to a VRRP instance that --limit, serial or an unreachable member
// would apply to only one member of the pair is refused before any host is touched (exit 4 naming the instance and
// its members), unless --allow-partial-vrrp; a change reaching both members runs.
import test from 'ava';
import { useLab } from '../helpers/lab.ts';
import { lvsplay } from '../helpers/cli.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';

const lab = useLab(test, { topology: 'test/fixtures/lab/vrrp-pair.yaml' });
const PB = 'test/fixtures/playbooks/vrrp-config.ts';
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => lvsplay(['run', PB, '-i', lab().inventory, '--no-verify', ...args], { env });
const conf = async (h: string) => (await lab().ssh(h, 'cat /etc/keepalived/keepalived.conf 2>/dev/null || echo none')).stdout;

const holds = async (h: string, vip: string) => (await lab().ssh(h, `ip -4 -o addr show dev eth1 | grep -c ' ${vip}/32' || true`)).stdout.trim() === '1';
async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await cond()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not within ${ms} ms`);
}

test.serial('the first run writes both members; a VIP change limited to one member, or rolled one at a time, is refused; --allow-partial-vrrp applies it', async (t) => {
  for (const h of ['ka1', 'ka2']) await lab().ssh(h, 'mkdir -p /etc/keepalived && echo 0 > /etc/keepalived/maintenance');
  const first = await run([]);
  t.is(first.code, 0, first.stdout + first.stderr);
  t.regex(await conf('ka1'), /198\.18\.0\.170\/32/);
  const before = { ka1: await conf('ka1'), ka2: await conf('ka2') };

  const limited = await run(['-e', 'vip=198.18.0.171', '--limit', 'ka1']);
  t.is(limited.code, 4, limited.stdout + limited.stderr);
  t.regex(limited.stderr, /VRRP instance VI_1 \(members ka1, ka2\) would change on ka1 but not reach every member \(ka2: not in this run \(--limit or the play's hosts\)\)/);
  t.regex(limited.stderr, /--allow-partial-vrrp/);
  t.regex(limited.stderr, /Nothing was changed on any host|nothing was changed on any host/);

  const rolled = await run(['-e', 'vip=198.18.0.171'], { LVSPLAY_TEST_SERIAL: '1' });
  t.is(rolled.code, 4, rolled.stdout + rolled.stderr);
  t.regex(rolled.stderr, /VRRP instance VI_1 \(members ka1, ka2\) would change on ka1, ka2 but not reach every member \(ka1: changes in serial batch 1 of 2, apart from the other members; ka2: changes in serial batch 2 of 2/);
  t.deepEqual({ ka1: await conf('ka1'), ka2: await conf('ka2') }, before, 'nothing touched');

  const forced = await run(['-e', 'vip=198.18.0.171', '--limit', 'ka1', '--allow-partial-vrrp']);
  t.is(forced.code, 0, forced.stdout + forced.stderr);
  t.regex(await conf('ka1'), /198\.18\.0\.171\/32/);
  t.is(await conf('ka2'), before.ka2);

  // ka1 already has the new definition: changing ka2 alone completes the pair, it is not a partial change
  const rest = await run(['-e', 'vip=198.18.0.171', '--limit', 'ka2']);
  t.is(rest.code, 4, 'ka1 is out of the run: its state is not known to match, so still refused');
  const both = await run(['-e', 'vip=198.18.0.171']);
  t.is(both.code, 0, both.stdout + both.stderr);
  t.regex(await conf('ka2'), /198\.18\.0\.171\/32/);
  const again = await run(['-e', 'vip=198.18.0.171', '--limit', 'ka1']);
  t.is(again.code, 0, 'no change to the instance: --limit is fine');
});

test.serial('a tracked file really moves the VIP: 1 in ka1\'s maintenance file hands it to ka2, 0 takes it back', async (t) => {
  // both run keepalived (the reload handler started it) with VI_1 on 198.18.0.171 after the test above
  t.log(`ka1 holds the VIP after ${await waitFor(() => holds('ka1', '198.18.0.171'), 20_000)} ms`);
  t.false(await holds('ka2', '198.18.0.171'));
  await lab().ssh('ka1', 'echo 1 > /etc/keepalived/maintenance');
  const moved = await waitFor(async () => (await holds('ka2', '198.18.0.171')) && !(await holds('ka1', '198.18.0.171')), 20_000);
  t.log(`maintenance 1 on ka1: ka2 took the VIP in ${moved} ms`);
  await lab().ssh('ka1', 'echo 0 > /etc/keepalived/maintenance');
  const back = await waitFor(async () => (await holds('ka1', '198.18.0.171')) && !(await holds('ka2', '198.18.0.171')), 20_000);
  t.log(`maintenance 0 on ka1: the VIP came back in ${back} ms`);
});

test.serial('an unreachable member: the change is refused before the reachable one is touched', async (t) => {
  const doc = parseDocument(readFileSync(lab().inventory, 'utf8'));
  doc.setIn(['all', 'children', 'directors', 'hosts', 'ka2', 'ansible_port'], 1);
  const inv = join(lab().dir, 'ka2-down.yaml');
  writeFileSync(inv, doc.toString());
  const before = await conf('ka1');
  const r = await lvsplay(['run', PB, '-i', inv, '--no-verify', '-e', 'vip=198.18.0.172']);
  t.is(r.code, 4, r.stdout + r.stderr);
  t.regex(r.stderr, /VRRP instance VI_1 \(members ka1, ka2\) would change on ka1 but not reach every member \(ka2: unreachable: /);
  t.is(await conf('ka1'), before, 'ka1 untouched');
});
