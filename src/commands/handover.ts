/**
 * `lvsplay handover INSTANCE… -i INVENTORY` moves VRRP instances to their backup for maintenance, through
 * keepalived itself (the instance's tracked handover file: the holder's priority drops to 1, the backup takes
 * the VIPs while the old holder still forwards); `lvsplay handover --back [INSTANCE…]` gives the priorities back
 * (the highest-priority member preempts, unless nopreempt).
 */
import { commonOptions, poolOptions, parse, loadCommandInventory } from './common.ts';
import { ansibleSettings, HostAccess } from './connections.ts';
import { EXIT, UsageError } from '../errors.ts';
import { selectHosts } from '../inventory/index.ts';
import { SshPool, UnreachableError } from '../transport/index.ts';
import { vrrpPairs } from '../drill/failover.ts';
import { handBack, handOver, planHandover, type HandoverPlan } from '../drill/handover.ts';
import { parseDuration } from '../drill/timeline.ts';
import { sleep } from '../drill/vip-watch.ts';
import type { Connection } from '../transport/types.ts';
import type { CommandIO } from './io.ts';
import { sh } from '../shell.ts';
import { CONTROL_EXEC_TIMEOUT_MS } from '../drill/exec-timeouts.ts';

export const HANDOVER_HELP = `Usage: lvsplay handover INSTANCE[,INSTANCE…] -i INVENTORY [options]
       lvsplay handover --back [INSTANCE…] -i INVENTORY [options]

Move a VRRP instance to its backup for maintenance: the member holding its VIPs writes -253 into
/etc/keepalived/handover/INSTANCE (tracked by keepalived, the director roles configure it), its priority drops to
1 and the backup takes the VIPs while it still forwards (no connection refused, unlike a keepalived stop). The
handover stays until --back (it survives a keepalived reload and a reboot: the file is on disk).
--back removes the files (every instance when none is named): the highest-priority member takes the VIPs back.

Options:
  -i, --inventory FILE     Ansible-format YAML inventory (default: ansible.cfg's [defaults] inventory)
  -l, --limit PATTERN      refuse unless every member of the instances is inside the limit
  -C, --check              say what would be done, change nothing
  -F, --ssh-config FILE    OpenSSH client config
  -e, --extra-vars K=V     extra variables (repeatable)
      --wait T             wait for the VIPs to move at most (default 30s)
      --back               give the priorities back
      --keepalive S        a host whose SSH connection answers nothing for S seconds is unreachable (default 30)
      --jump-channels N    hosts per SSH connection to a jump host (default 200; lvsplay_jump_channels wins)
  -h, --help

Exit codes: 0 moved, 2 a VIP did not move within --wait, 3 a member unreachable, 4 invalid inventory, 5 bad options.`;

/** how long a handover waits for the VIP to move (--wait) by default: VRRP takes a few advert intervals */
const DEFAULT_WAIT_MS = 30_000;

const options = { ...commonOptions, check: { type: 'boolean', short: 'C' }, back: { type: 'boolean' }, wait: { type: 'string' } } as const;

/** Who holds `vip` among the members (one exec each). */
async function holders(p: HandoverPlan, conn: (h: string) => Promise<Connection>): Promise<string[]> {
  const out = await Promise.all(
    p.members.map(async (m) => {
      const r = await (await conn(m.host)).exec(sh`ip -4 -o addr show | grep -v ' lo ' | grep -qF ${` ${p.vip}/`} && echo holds || echo no`, { timeoutMs: CONTROL_EXEC_TIMEOUT_MS });
      return r.stdout.trim() === 'holds' ? m.host : undefined;
    }),
  );
  return out.filter((h): h is string => h !== undefined);
}

export async function handoverCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values: o, positionals } = parse(argv, options, 'handover');
  if (o.help) {
    io.out(HANDOVER_HELP + '\n');
    return EXIT.ok;
  }
  const waitMs = o.wait === undefined ? DEFAULT_WAIT_MS : parseDuration(o.wait);
  if (waitMs === undefined || waitMs <= 0) throw new UsageError(`handover: --wait must be a duration like 30s, got "${o.wait}"`);
  const cfg = ansibleSettings();
  const inv = loadCommandInventory(o, 'handover', io, cfg);
  const names = positionals.flatMap((p) => p.split(',')).map((s) => s.trim()).filter(Boolean);
  const back = !!o.back;
  const plans = planHandover(vrrpPairs(inv), names, { back, ...(o.limit ? { limit: selectHosts(inv, o.limit).hosts } : {}) });
  const access = new HostAccess(inv, cfg, o['ssh-config']);
  for (const p of plans) for (const m of p.members) access.spec(m.host);
  access.flushWarnings(io.err);
  const pool = new SshPool(poolOptions(o));
  const conn = (h: string) => pool.connect(access.spec(h));
  let moved = true;
  try {
    for (const p of plans) {
      const now = await holders(p, conn);
      if (back) {
        const top = p.members[0]!.host;
        if (o.check) {
          io.out(`${p.instance}: would remove the handover file on ${p.members.map((m) => m.host).join(', ')} (now held by ${now.join(', ') || 'nobody'})\n`);
          continue;
        }
        for (const m of p.members) await handBack(await conn(m.host), m.host, p.instance);
        if (p.nopreempt) {
          io.out(`${p.instance}: priorities given back; nopreempt: ${now.join(', ') || 'nobody'} keeps the VIPs\n`);
          continue;
        }
        const t0 = Date.now();
        moved = (await waitFor(async () => (await holders(p, conn)).join() === top, waitMs)) && moved;
        io.out(moved ? `${p.instance}: priorities given back; ${top} holds ${p.vip} again after ${((Date.now() - t0) / 1000).toFixed(1)} s\n` : `${p.instance}: priorities given back, but ${top} did not take ${p.vip} back within ${o.wait ?? '30s'}\n`);
        continue;
      }
      if (now.length !== 1) throw new Error(`${p.instance}: ${now.length ? `${now.join(' and ')} all hold ${p.vip} (split brain)` : `nobody holds ${p.vip}`}: refusing to hand it over`);
      const from = now[0]!;
      if (o.check) {
        io.out(`${p.instance}: would lower ${from}'s priority (handover file), so ${p.members.filter((m) => m.host !== from).map((m) => m.host).join(', ')} take(s) ${p.vip}\n`);
        continue;
      }
      const t0 = Date.now();
      await handOver(await conn(from), from, p.instance, p.nopreempt);
      let to: string[] = [];
      const ok = await waitFor(async () => {
        to = await holders(p, conn);
        return to.length === 1 && to[0] !== from;
      }, waitMs);
      moved = ok && moved;
      io.out(ok ? `${p.instance}: ${from} → ${to[0]} (${p.vip}) in ${((Date.now() - t0) / 1000).toFixed(1)} s; it stays there until lvsplay handover --back ${p.instance}\n` : `${p.instance}: ${p.vip} did not leave ${from} within ${o.wait ?? '30s'} (holders: ${to.join(', ') || 'nobody'}); lvsplay handover --back ${p.instance} undoes it\n`);
    }
    return moved ? EXIT.ok : EXIT.hostFailed;
  } catch (e) {
    if (!(e instanceof UnreachableError)) throw e;
    io.err(`ERROR: handover: ${e.host} unreachable: ${e.message}\n`);
    return EXIT.unreachable;
  } finally {
    await pool.closeAll();
  }
}

async function waitFor(pred: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return true;
    await sleep(500);
  }
  return pred();
}
